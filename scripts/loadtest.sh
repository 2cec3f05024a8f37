#!/usr/bin/env bash
# Load and soak measurement of the observatory (RELIABILITY.md, «Carga»):
# builds the binaries, writes the demo data (observatory demo generate,
# --scale $SCALE), writes the run's configuration, starts `observatory
# serve` on the embedded engine (ENGINE=server: on a throwaway ClickHouse
# server, Debian's clickhouse-server), waits for /readyz and runs
# cmd/loadtest against it: $CLIENTS clients for $DURATION (MODE=carga), a
# $SOAK soak sampling memory (MODE=soak), or both (MODE=ambos); MODE=limites
# is the load with the default per-client rate limits, to see them refuse
# (429) a program that wants the site for itself. Results go to
# $OUT/resultados/: the table (.txt), the JSON and the memory samples (.csv).
#
#   scripts/loadtest.sh                          # 64 clientes × 60 s, motor embebido
#   MODE=soak scripts/loadtest.sh                # 10 minutos con muestras de memoria
#   ENGINE=server MODE=ambos scripts/loadtest.sh
#   SCALE=4 CLIENTS=128 DURATION=2m scripts/loadtest.sh
#
# The warehouse is kept under $OUT (one per engine and scale), so only the
# first run loads the demo (a minute or two at scale 1). Not part of
# `make test`: it is a measurement, to run on a machine as quiet as can be.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${SCALE:-1}
CLIENTS=${CLIENTS:-64}
DURATION=${DURATION:-60s}
SOAK=${SOAK:-10m}
MODE=${MODE:-carga}
ENGINE=${ENGINE:-embedded}
OUT=${OUT:-var/carga}
PORT=${PORT:-18480}
EXTRA=${EXTRA:-} # more flags for cmd/loadtest, e.g. "-mix paginas=40,graficos=60"
HEAVY=${HEAVY:-} # http.heavy_queries.max for the run (empty: the default; -1: no cap)
RATE_LIMITS=${RATE_LIMITS:-} # "off": no per-client rate limits (a client with no pause is a program, not a reader)

case "$MODE" in carga|soak|ambos|limites) ;; *) echo "loadtest.sh: MODE=carga, soak, ambos o limites" >&2; exit 2 ;; esac
case "$ENGINE" in embedded|server) ;; *) echo "loadtest.sh: ENGINE=embedded o server" >&2; exit 2 ;; esac
mkdir -p "$OUT/resultados"
OUT=$(cd "$OUT" && pwd)
base="http://127.0.0.1:$PORT"
if curl -sf -o /dev/null "$base/healthz"; then
  echo "loadtest.sh: algo ya escucha en el puerto $PORT (PORT=...)" >&2; exit 2
fi

echo "== compilando"
test -f .deps/chdb/libchdb.so || make deps
go build -o bin/observatory ./cmd/observatory
go build -o bin/loadtest ./cmd/loadtest

demo="$OUT/demo-x$SCALE"
if [ ! -f "$demo/observatorio.yaml" ]; then
  echo "== datos de demostración (escala $SCALE) en $demo"
  bin/observatory demo generate --out "$demo" --scale "$SCALE"
fi

pids=()
cleanup() {
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT

# The run's configuration: the demo's jobs and the retention pass without
# their schedules (a job that starts at 02:00 during a soak would be
# measured as the server's memory), plus the address and the warehouse; the limits are the defaults
# (http.rate_limits, http.heavy_queries; HEAVY=N sets the cap). The
# clients all connect from 127.0.0.1, a trusted proxy by default, and each
# names its own address in X-Forwarded-For (198.18.0.0/15), as a public
# site's readers come from many: each gets its own rate-limit buckets. In
# MODE=limites they all come as one address (-xff=false), a program that
# wants the site for itself, to see the limits answer 429. A client of
# this closed loop asks again as soon as it has its answer: with only
# cached pages and charts it passes the per-reader limits (10 pages and 20
# data requests a second) like the program it is; RATE_LIMITS=off measures
# that capacity without them.
warehouse_yaml="  embedded:
    path: $OUT/almacen-embebido-x$SCALE"
if [ "$ENGINE" = server ]; then
  chdir="$OUT/clickhouse-x$SCALE"
  echo "== servidor ClickHouse en $chdir"
  bin/loadtest clickhouse -dir "$chdir" -addr-file "$OUT/clickhouse.addr" > "$OUT/clickhouse.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do
    [ -s "$OUT/clickhouse.addr" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$OUT/clickhouse.log" >&2; exit 1; }
    sleep 1
  done
  read -r ch_tcp ch_http ch_user ch_password < "$OUT/clickhouse.addr"
  printf '%s' "$ch_password" > "$OUT/clickhouse.password"
  warehouse_yaml="  server:
    addrs: [\"$ch_tcp\"]
    http_addrs: [\"$ch_http\"]
    user: $ch_user
    password_file: $OUT/clickhouse.password"
fi
cfg="$demo/carga-$ENGINE.yaml"
{
  sed -E 's/^([[:space:]]*)schedule: .*/\1schedule: ""/' "$demo/observatorio.yaml"
  echo "http:"
  echo "  addr: \"127.0.0.1:$PORT\""
  if [ "$RATE_LIMITS" = off ]; then
    echo "  rate_limits: {pages: {rate: 0}, data: {rate: 0}, downloads: {rate: 0}}"
  fi
  if [ -n "$HEAVY" ]; then
    echo "  heavy_queries: {max: $HEAVY}"
  fi
  echo "retention:"
  echo "  schedule: \"\""
  echo "warehouse:"
  echo "$warehouse_yaml"
} > "$cfg"

echo "== observatory serve ($ENGINE, $cfg)"
log="$OUT/serve-$ENGINE.log"
bin/observatory serve --config "$cfg" > "$log" 2>&1 &
srv=$!
pids=("$srv" "${pids[@]}")
t0=$(date +%s)
until curl -sf -o /dev/null "$base/readyz"; do
  kill -0 "$srv" 2>/dev/null || { tail -30 "$log" >&2; exit 1; }
  [ $(( $(date +%s) - t0 )) -lt 1800 ] || { echo "loadtest.sh: /readyz no respondió en 30 min" >&2; exit 1; }
  sleep 2
done
echo "listo en $(( $(date +%s) - t0 )) s (PID $srv)"

rows=$(curl -sf "$base/datos/liquidaciones/versiones" | grep -o '"filas":[0-9]*' | head -1 || true)
machine() {
  echo "máquina: $(nproc) núcleos, $(free -g | awk '/Mem:/{print $2}') GB; $(uname -sr)"
  echo "datos: demo --scale $SCALE ($(du -sh "$demo" | cut -f1) de archivos fuente; liquidaciones publicadas ${rows#*:}); motor $ENGINE"
}

status=0
measure() { # name duration [memory]
  local name=$1 dur=$2 mem=${3:-}
  local stamp; stamp=$(date -u +%Y%m%dT%H%M%SZ)
  local res="$OUT/resultados/$stamp-$ENGINE-x$SCALE-$name"
  set --
  if [ "$mem" = memoria ]; then set -- -pid "$srv" -samples "$res.csv"; fi
  echo "== $name: $CLIENTS clientes, $dur"
  {
    machine
    echo "carga antes: $(cat /proc/loadavg)"
    echo "configuración: $cfg"
    sed -n '/^http:/,$p' "$cfg" | sed 's/^/  /'
    echo "orden: bin/loadtest -base $base -clients $CLIENTS -duration $dur $* $EXTRA"
  } | tee "$res.txt"
  # shellcheck disable=SC2086
  bin/loadtest -base "$base" -clients "$CLIENTS" -duration "$dur" -json "$res.json" "$@" $EXTRA | tee -a "$res.txt" || status=$?
  echo "carga después: $(cat /proc/loadavg)" | tee -a "$res.txt"
  echo "resultados: $res.*"
}
case "$MODE" in
  carga) measure carga "$DURATION" ;;
  soak) measure soak "$SOAK" memoria ;;
  ambos) measure carga "$DURATION"; measure soak "$SOAK" memoria ;;
  limites) EXTRA="-xff=false $EXTRA" measure limites "$DURATION" ;;
esac
exit $status
