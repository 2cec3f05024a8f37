#!/usr/bin/env bash
# Peak memory of `observatory etl run` as an operator runs it, per phase.
#
#   scripts/etl-memory.sh OBSERVATORY CONFIG DATADIR [JOB...]
#
# OBSERVATORY is the built binary, CONFIG the YAML (for example the one
# `observatory demo generate` writes), DATADIR a fresh warehouse directory
# (OBSERVATORIO_DATA_DIR; it must not exist, so that every measurement starts
# from an empty warehouse). The process's RSS (the embedded engine included)
# is sampled from outside every second through /proc/PID/status, because the
# engine redirects the process's own file descriptors; each log line of the
# run is stamped with the second it arrived, so that the samples can be split
# into phases:
#
#   load     one per job, up to its summary line (read, loaded, committed)
#   release  one per published dataset, up to its "versión publicada" line,
#            split at its steps ("paso de publicación", logged at debug
#            level: k-anonymity classes, fingerprint, build, recheck, CSV
#            and Excel CSV, Parquet)
#   rest     the last release → exit (dashboard aggregates)
#
#   scripts/etl-memory.sh --summary OUT
#
# prints that table again from the OUT folder of an earlier run.
#
# Output: OUT/samples.tsv (t, VmRSS, VmHWM, RssAnon, RssFile in MB), OUT/log
# (stamped stdout+stderr), and a table of peak RSS per phase on stdout.
# OUT is $OUT or DATADIR.mem.
set -euo pipefail
# summary OUT END prints the peak RSS of each phase of the run whose samples
# and log are in OUT, up to END seconds (phase boundaries: each job's
# summary line (committed), each step of a publication and each published
# release), with the process's VmHWM at the phase's end: a jump between
# the samples shows in the phase where the HWM rises past the samples.
summary() {
	awk -F'\t' -v end="$2" '
		FNR == NR {
			if ($2 !~ /^time=/ && $2 ~ /: [a-z]+, leídas [0-9]+ = cargadas/) {
				# One per job (the summary line on stdout): its load ends there.
				j = $2; sub(/: .*/, "", j)
				bound[++n] = $1; name[n] = "carga de " j
			}
			else if ($2 ~ /paso de publicación/) {
				c = $2; sub(/.*conjunto=/, "", c); sub(/ .*/, "", c)
				p = $2; sub(/.*paso=/, "", p); sub(/ .*/, "", p)
				bound[++n] = $1; name[n] = "  " c ": " p
			}
			else if ($2 ~ /versión publicada/) {
				c = $2; sub(/.*conjunto=/, "", c); sub(/ .*/, "", c)
				bound[++n] = $1; name[n] = "versión " c
			}
			next
		}
		FNR > 1 { t[++m] = $1; rss[m] = $2; hwm[m] = $3; anon[m] = $4 }
		END {
			bound[++n] = end; name[n] = "resto (agregados de los tableros) → salida"
			printf "%-45s %8s %8s %9s %8s\n", "fase", "hasta(s)", "pico MB", "anon MB", "HWM MB"
			lo = 0; j = 1
			for (i = 1; i <= n; i++) {
				peak = 0; pa = 0
				for (; j <= m && t[j] <= bound[i]; j++) { if (rss[j] > peak) peak = rss[j]; if (anon[j] > pa) pa = anon[j]; h = hwm[j] }
				printf "%-45s %8.0f %8d %9d %8d\n", name[i], bound[i], peak, pa, h
			}
		}' "$1/log" "$1/samples.tsv"
	awk -F'\t' 'NR > 1 && $3 > h { h = $3 } END { printf "pico del proceso (VmHWM): %d MB\n", h }' "$1/samples.tsv"
}

# --summary OUT prints the table again from a finished (or interrupted)
# run's OUT folder.
if [ "${1:-}" = --summary ]; then
	[ -f "${2:-}/samples.tsv" ] || { echo "uso: $0 --summary OUT" >&2; exit 2; }
	summary "$2" "$(tail -1 "$2/samples.tsv" | cut -f1)"
	exit 0
fi
if [ $# -lt 3 ]; then
	echo "uso: $0 OBSERVATORY CONFIG DATADIR [JOB...]" >&2
	exit 2
fi
obs=$1 config=$2 data=$3
shift 3
# REUSE=1 measures on an existing warehouse: a run of a job with nothing new
# to load (the `divipola` job, say) measures the publication and the
# dashboards' refresh alone.
if [ -e "$data" ] && [ "${REUSE:-}" != 1 ]; then
	echo "$data ya existe: use un directorio de datos nuevo por medición (o REUSE=1)" >&2
	exit 2
fi
out=${OUT:-$data.mem}
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s.%N)
stamp() {
	while IFS= read -r line; do
		printf '%.1f\t%s\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$line"
	done
}
echo "carga: $(cut -d' ' -f1-3 /proc/loadavg)" >"$out/load"
OBSERVATORIO_LOG_LEVEL=debug OBSERVATORIO_DATA_DIR=$data "$obs" etl run --config "$config" "$@" > >(stamp >>"$out/log") 2>&1 &
pid=$!
printf 't\trss_mb\thwm_mb\tanon_mb\tfile_mb\n' >"$out/samples.tsv"
while kill -0 "$pid" 2>/dev/null; do
	if st=$(cat /proc/$pid/status 2>/dev/null); then
		now=$(echo "$(date +%s.%N) - $start" | bc)
		echo "$st" | awk -v t="$now" '
			/^VmRSS:/ {rss=$2} /^VmHWM:/ {hwm=$2} /^RssAnon:/ {anon=$2} /^RssFile:/ {file=$2}
			END {printf "%.1f\t%d\t%d\t%d\t%d\n", t, rss/1024, hwm/1024, anon/1024, file/1024}' >>"$out/samples.tsv"
	fi
	sleep 1
done
rc=0
wait "$pid" || rc=$?
end=$(echo "$(date +%s.%N) - $start" | bc)
sleep 0.5 # the stamping pipe drains
echo "carga al terminar: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/load"
cat "$out/load"
echo "salida: $rc, ${end%.*} s"
summary "$out" "$end"
exit "$rc"
