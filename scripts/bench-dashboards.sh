#!/usr/bin/env bash
# Measures the dashboards of a running observatory (see dashboards/BENCHMARKS.md):
#   1. cached chart data under load: wrk, $CONNS connections, every chart of
#      every dashboard for one selection, after one warm-up request each;
#   2. cold chart data: the first request for a chart right after a restart
#      of the server (empty cache), when $RESTART is a command that restarts
#      the server and returns once it answers;
#   3. page weight: each dashboard's HTML, CSS, scripts (ECharts included)
#      and chart data, as sent with and without gzip.
# Usage:
#   BASE=http://127.0.0.1:8080 [RESTART='...'] [CONNS=64] [DURATION=30s] scripts/bench-dashboards.sh
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:8080}
CONNS=${CONNS:-64}
DURATION=${DURATION:-30s}
THREADS=${THREADS:-2}
SEL=${SEL:-municipio=68001&anio=2020}
here="$(cd "$(dirname "$0")" && pwd)"
command -v wrk >/dev/null || { echo "bench-dashboards: falta wrk (apt-get install wrk)" >&2; exit 1; }
dashboards="recaudo canales cartera verificacion presupuesto gobierno-en-linea observatorio"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT

echo "## máquina"
echo "$(nproc) núcleos, $(free -g | awk '/Mem:/{print $2}') GB de memoria; $(uptime)"

charts() { # chart data URLs of a page
  curl -sf "$BASE$1" | grep -o 'data-grafico="[^"]*"' | sed -e 's/^data-grafico="//' -e 's/"$//' -e 's/&amp;/\&/g' || true
}
: > "$tmp/urls"
for d in $dashboards; do charts "/tableros/$d?$SEL" >> "$tmp/urls"; done
echo "## datos de gráficos en caché: $(wc -l < "$tmp/urls") gráficos, $CONNS conexiones, $THREADS hilos de wrk, $DURATION"
while read -r u; do curl -sf -o /dev/null "$BASE$u"; done < "$tmp/urls"
wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "$here/wrk-percentiles.lua" "$BASE" -- "$tmp/urls"
echo "(carga al terminar: $(uptime | sed 's/.*load average/load average/'))"

if [ -n "${RESTART:-}" ]; then
  echo "## datos de gráficos en frío: primera petición tras reiniciar (caché vacía)"
  for u in "/graficos/recaudo/vigencias.json?municipio=68001" "/graficos/canales/pagos.json?$SEL" \
           "/graficos/cartera/edades.json?municipio=68001" "/graficos/verificacion/estado.json?$SEL" \
           "/graficos/recaudo/municipios.json?anio=2020"; do
    eval "$RESTART"
    t1=$(curl -sf -o /dev/null -w '%{time_total}' "$BASE$u")
    t2=$(curl -sf -o /dev/null -w '%{time_total}' "$BASE$u")
    echo "$u: primera $(awk "BEGIN{printf \"%.0f\", $t1*1000}") ms, siguiente $(awk "BEGIN{printf \"%.1f\", $t2*1000}") ms"
  done
  echo "## otra selección con la caché de consultas ya llena (solo se arma el gráfico)"
  for m in 18001 25151; do
    t=$(curl -sf -o /dev/null -w '%{time_total}' "$BASE/graficos/canales/pagos.json?municipio=$m&anio=2021")
    echo "canales/pagos municipio=$m&anio=2021: $(awk "BEGIN{printf \"%.1f\", $t*1000}") ms"
  done
fi

echo "## peso de las páginas (bytes: sin comprimir / con gzip)"
for d in "" $dashboards; do
  page="/tableros/$d?$SEL"; [ -z "$d" ] && page="/?$SEL"
  html=$(curl -sf "$BASE$page")
  { grep -o '\(href\|src\)="/static/[^"]*"' <<<"$html" | sed -e 's/^[a-z]*="//' -e 's/"$//' -e 's/&amp;/\&/g'
    grep -o 'data-grafico="[^"]*"' <<<"$html" | sed -e 's/^data-grafico="//' -e 's/"$//' -e 's/&amp;/\&/g' || true; } > "$tmp/res"
  raw=$(curl -sf -o /dev/null -w '%{size_download}' "$BASE$page")
  gz=$(curl -sf -o /dev/null -H 'Accept-Encoding: gzip' -w '%{size_download}' "$BASE$page")
  n=0
  while read -r r; do
    raw=$((raw + $(curl -sf -o /dev/null -w '%{size_download}' "$BASE$r")))
    gz=$((gz + $(curl -sf -o /dev/null -H 'Accept-Encoding: gzip' -w '%{size_download}' "$BASE$r")))
    n=$((n + 1))
  done < "$tmp/res"
  printf '%-42s %2d recursos  %9d / %8d\n' "$page" "$n" "$raw" "$gz"
done
