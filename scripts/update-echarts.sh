#!/usr/bin/env bash
# Refreshes the vendored ECharts build (dashboards/assets/vendor/echarts/)
# from the npm registry package `echarts` at the pinned version, checking the
# tarball against the pinned integrity hash. The file is committed so that
# `go build` embeds it and pages never load scripts from a CDN.
set -euo pipefail
VERSION="5.6.0"
INTEGRITY="sha512-oTbVTsXfKuEhxftHqL5xprgLoc0k7uScAwtryCgWF6hPYFLRwOUHiFmHGCBKP5NPFNkDVopOieyUqYGH8Fa3kA=="
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/dashboards/assets/vendor/echarts"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "echarts@$VERSION" >/dev/null)
got="sha512-$(openssl dgst -sha512 -binary "$tmp"/echarts-*.tgz | base64 -w0)"
[ "$got" = "$INTEGRITY" ] || { echo "update-echarts: integrity mismatch: $got" >&2; exit 1; }
tar -xzf "$tmp"/echarts-*.tgz -C "$tmp" package/dist/echarts.min.js package/LICENSE package/NOTICE
cp "$tmp/package/dist/echarts.min.js" "$tmp/package/LICENSE" "$tmp/package/NOTICE" "$dest/"
echo "$VERSION" > "$dest/VERSION"
echo "update-echarts: echarts $VERSION in $dest"
