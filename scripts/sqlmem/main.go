// Command sqlmem runs SQL statements, or a publication of one dataset, on an
// embedded warehouse that `observatory etl run` has loaded, and reports the
// process's peak resident memory (VmHWM: Go and the embedded engine) after
// each. Run one heavy statement per process: the peak only grows.
//
//	go run ./scripts/sqlmem -data DIR -f statements.sql      # statements separated by ;;
//	go run ./scripts/sqlmem -data DIR -publish liquidaciones -k 4
//	go run ./scripts/sqlmem -data DIR -f export.sql -stream Parquet -release 1
//
// -publish logs the publication's steps at debug level. -sample 2s
// reports, while a statement or the publication runs, the engine's tracked
// memory and its allocator's own account (allocated, active, resident...), which
// tells memory the engine's queries account for from memory they do not;
// -profile also dumps the allocator's heap profile at each sample (run with
// JE_MALLOC_CONF=prof_thread_active_init:true). -throttle MB/s reads a
// -stream as slowly as a writer that stores it would.
//
// {corte:DateTime} is bound to an hour from now (every committed run),
// {k:UInt64} to -k and {saldos:Identifier} to the liquidations' balances of
// that snapshot, built once for the file (analytics.Balances). -mb sets warehouse.embedded.query_memory_mb. A new k
// changes a record-level release's fingerprint, which forces a new release.
// The measurements in etl/BENCHMARKS.md ("Session 4") were taken with it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/observatorio-civico/observatorio/analytics"
	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/internal/procmem"
	"github.com/observatorio-civico/observatorio/warehouse"
)

func main() {
	data := flag.String("data", "", "directorio de datos del almacén embebido")
	file := flag.String("f", "", "archivo de sentencias SQL separadas por ;;")
	publish := flag.String("publish", "", "conjunto de datos que publicar")
	k := flag.Int("k", datasets.DefaultK, "k de la publicación y de {k:UInt64}")
	mb := flag.Int("mb", 0, "warehouse.embedded.query_memory_mb (0: el valor por omisión)")
	stream := flag.String("stream", "", "con -f: envía la salida de cada sentencia en este formato (TabSeparated, Parquet...) a /dev/null en vez de leerla")
	release := flag.Uint("release", 0, "valor de {release:UInt32}")
	slices := flag.Uint("tajadas", 1, "valor de {tajadas:UInt64}: en cuántas tajadas se dividen los contribuyentes")
	slice := flag.Uint("tajada", 0, "valor de {tajada:UInt64}: la tajada que se consulta")
	profile := flag.Bool("profile", false, "con -sample: vuelca también el perfil de montículo del asignador (JE_MALLOC_CONF=prof_thread_active_init:true) en cada muestra, a /tmp/jemalloc_clickhouse.PID.N.heap")
	throttle := flag.Float64("throttle", 0, "con -stream: consume la salida a lo sumo a estos MB/s, como un escritor lento (0: sin límite)")
	sample := flag.Duration("sample", 0, "cada cuánto informar, mientras corre una sentencia, la memoria que el motor rastrea y la de su asignador (jemalloc); 0: nunca")
	flag.Parse()
	if *data == "" || (*file == "") == (*publish == "") {
		fmt.Fprintln(os.Stderr, "uso: sqlmem -data DIR (-f SENTENCIAS.sql | -publish CONJUNTO) [-k K] [-mb MB]")
		os.Exit(2)
	}
	ctx := context.Background()
	eng, err := warehouse.Open(ctx, warehouse.Config{Embedded: warehouse.EmbeddedConfig{
		Path: *data, Library: os.Getenv("OBSERVATORIO_CHDB_LIB"), QueryMemoryMB: *mb}})
	if err != nil {
		fail(err)
	}
	defer eng.Close()
	report("abierto", 0)
	if *sample > 0 {
		go func() {
			for range time.Tick(*sample) {
				reportEngine(ctx, eng)
				if *profile {
					// The statement writes the file, then fails reading it
					// back for system.jemalloc_profile_text (chDB 26.5).
					eng.Exec(ctx, "SYSTEM JEMALLOC FLUSH PROFILE")
				}
			}
		}()
	}
	if *publish != "" {
		// The publication's steps ("paso de publicación", with the
		// memory account at each) are logged at debug level, so that the
		// samples can be split at them.
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
		go func() {
			for range time.Tick(2 * time.Second) {
				report("publicando", 0)
			}
		}()
		start := time.Now()
		rels, err := datasets.Publish(ctx, eng, datasets.PublishOptions{Datasets: []string{*publish}, K: *k})
		if err != nil {
			fail(err)
		}
		report(fmt.Sprintf("%d versiones publicadas", len(rels)), time.Since(start))
		return
	}
	b, err := os.ReadFile(*file)
	if err != nil {
		fail(err)
	}
	// Statements that read the liquidations' balances ({saldos}) share one
	// build of them, reported as a statement of its own.
	var balances *analytics.Balances
	defer func() {
		if balances != nil {
			balances.Drop(ctx)
		}
	}()
	for _, st := range strings.Split(string(b), ";;") {
		if st = strings.TrimSpace(st); st == "" {
			continue
		}
		var params []warehouse.Param
		if strings.Contains(st, "{corte:") {
			params = append(params, warehouse.P("corte", time.Now().UTC().Add(time.Hour)))
		}
		if analytics.NeedsBalances(st) {
			if balances == nil {
				start := time.Now()
				if balances, err = analytics.BuildBalances(ctx, eng, analytics.BalanceOptions{RunsUpTo: time.Now().UTC().Add(time.Hour)}); err != nil {
					fail(err)
				}
				report(fmt.Sprintf("saldos de las liquidaciones (%d partes)", balances.Slices), time.Since(start))
			}
			params = append(params, balances.Param())
		}
		if strings.Contains(st, "{k:") {
			params = append(params, warehouse.P("k", uint64(*k)))
		}
		if strings.Contains(st, "{tajadas:") {
			params = append(params, warehouse.P("tajadas", uint64(*slices)), warehouse.P("tajada", uint64(*slice)))
		}
		if strings.Contains(st, "{release:") {
			params = append(params, warehouse.P("release", uint32(*release)))
		}
		start := time.Now()
		res := &warehouse.Result{}
		if *stream != "" {
			var w io.Writer = io.Discard
			if *throttle > 0 {
				w = &slowWriter{mbps: *throttle}
			}
			err = eng.Stream(ctx, w, *stream, st, params...)
		} else {
			res, err = eng.Query(ctx, st, params...)
		}
		if err != nil {
			fail(err)
		}
		what := strings.Join(strings.Fields(st), " ")
		if len(what) > 70 {
			what = what[:70] + "…"
		}
		if len(res.Rows) > 0 && len(res.Rows) <= 10 {
			what += fmt.Sprintf(" → %v", res.Rows)
		}
		report(what, time.Since(start))
	}
}

// report prints the process's current and peak resident memory.
func report(what string, took time.Duration) {
	fmt.Fprintf(os.Stderr, "%s\tRSS %.0f MiB\tpico %.0f MiB\t%.1f s\t%s\n", time.Now().Format("15:04:05"),
		procmem.MiB(0, "VmRSS"), procmem.MiB(0, "VmHWM"), took.Seconds(), what)
}

// reportEngine prints the engine's tracked memory and its allocator's
// summary line (allocated, active, metadata, resident, mapped, retained):
// what the process holds beyond both is code, Go, and memory the engine
// allocates outside jemalloc.
func reportEngine(ctx context.Context, eng warehouse.Engine) {
	res, err := eng.Query(ctx, `SELECT
		(SELECT toString(value) FROM system.metrics WHERE metric = 'MemoryTracking'),
		(SELECT toString(value) FROM system.metrics WHERE metric = 'MergesMutationsMemoryTracking'),
		(SELECT extract(any(*), 'Allocated: [^\\n]*') FROM system.jemalloc_stats),
		(SELECT arrayStringConcat(groupArray(concat(replaceOne(metric, 'Bytes', ''), ' ', toString(intDiv(value, 1048576)))), ' ')
			FROM system.metrics WHERE metric LIKE '%CacheBytes%' AND value >= 1048576)`)
	if err != nil || len(res.Rows) != 1 {
		fmt.Fprintln(os.Stderr, "sqlmem: muestra:", err)
		return
	}
	r := res.Rows[0]
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(os.Stderr, "%s\tRSS %.0f MiB\tGo %.0f MiB\trastreada %v\tfusiones %v\tcachés (MiB) [%v]\t%v\n", time.Now().Format("15:04:05"),
		procmem.MiB(0, "VmRSS"), float64(ms.HeapInuse)/(1<<20), mib(r[0]), mib(r[1]), r[3], r[2])
}

func mib(v any) string {
	n, _ := strconv.ParseFloat(fmt.Sprint(v), 64)
	return fmt.Sprintf("%.0f MiB", n/(1<<20))
}

// slowWriter discards what it is given at mbps megabytes per second, in
// 1 MB steps, as a consumer that stores the stream (a release file's
// inserts) would.
type slowWriter struct{ mbps float64 }

func (s *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(time.Duration(float64(len(p)) / (s.mbps * 1e6) * float64(time.Second)))
	return len(p), nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sqlmem:", err)
	os.Exit(1)
}
