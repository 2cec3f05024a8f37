#!/usr/bin/env bash
# Installs libchdb.so (embedded ClickHouse) under .deps/chdb/ from the npm
# registry package @chdb/lib-linux-x64-gnu at a pinned version, after
# checking the tarball against the pinned integrity hash (the same sha512
# that npm's lockfiles record). Idempotent: does nothing when the pinned
# version is already there.
set -euo pipefail

VERSION="26.5.3"
PACKAGE="@chdb/lib-linux-x64-gnu"
INTEGRITY="sha512-fPrLmRt5Moor9yGz4mazbrNje4t7X9KB2mTGkXFWRxRBs2iKy8yh6jx11xsa0Qr3iDFMU/yHqd+bVdYJXu3QaQ=="

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${CHDB_DEST:-$root/.deps/chdb}"

if [ -f "$dest/libchdb.so" ] && [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$VERSION" ]; then
  exit 0
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "install-chdb: $PACKAGE is for Linux x86_64; on $(uname -s)-$(uname -m) install chDB yourself and set OBSERVATORIO_CHDB_LIB" >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "install-chdb: downloading $PACKAGE@$VERSION (about 166 MB) ..." >&2
if command -v npm >/dev/null 2>&1; then
  (cd "$tmp" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
else
  curl -fsSL -o "$tmp/chdb-lib-linux-x64-gnu-$VERSION.tgz" \
    "https://registry.npmjs.org/$PACKAGE/-/lib-linux-x64-gnu-$VERSION.tgz"
fi
tgz="$(ls "$tmp"/*.tgz)"
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$INTEGRITY" ]; then
  echo "install-chdb: integrity check failed for $tgz" >&2
  echo "  expected $INTEGRITY" >&2
  echo "  got      $got" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$tmp" package/libchdb.so
mkdir -p "$dest"
mv "$tmp/package/libchdb.so" "$dest/libchdb.so.partial"
mv "$dest/libchdb.so.partial" "$dest/libchdb.so"
echo "$VERSION" > "$dest/VERSION"
echo "install-chdb: installed $dest/libchdb.so ($VERSION, integrity verified)" >&2
