#!/usr/bin/env bash
# Runs the whole test suite verbosely into var/test.log and prints a summary:
# every package's result, every test, and the per-engine subtests
# (".../embedded", ".../server"), so the output shows the integration suites
# running on both engines and the cluster test. Skips are printed
# with their reason. On failure the whole log follows.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
log=var/test.log
go test -count=1 -v -timeout 25m "$@" ./... > "$log" 2>&1
status=$?
# Test and first-level subtest results, package lines, and skip reasons.
awk '
  /^(ok|FAIL|---)[ \t]/ || /^ok  / || /^FAIL$/ || /^\?/ { print; next }
  /^ +--- (PASS|SKIP): [^ ]+\/(embedded|server) / { print; next }
  /^ +--- FAIL/ { print; next }
  /^ *--- SKIP/ { skip = 1; print; next }
  skip && /^ +[a-z_]+\.go:[0-9]+: / { print; skip = 0; next }
  { skip = 0 }
' "$log"
if [ $status -ne 0 ]; then
  echo
  echo "=== pruebas fallidas: registro completo ($log) ==="
  cat "$log"
fi
passed=$(grep -cE '^\s*--- PASS' "$log")
failed=$(grep -cE '^\s*--- FAIL' "$log")
skipped=$(grep -cE '^\s*--- SKIP' "$log")
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
