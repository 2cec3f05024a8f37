// Command sqlmem runs SQL statements, or a publication of one dataset, on an
// embedded warehouse that `observatory etl run` has loaded, and reports the
// process's peak resident memory (VmHWM: Go and the embedded engine) after
// each. Run one heavy statement per process: the peak only grows.
//
//	go run ./scripts/sqlmem -data DIR -f statements.sql      # statements separated by ;;
//	go run ./scripts/sqlmem -data DIR -publish liquidaciones -k 4
//	go run ./scripts/sqlmem -data DIR -f export.sql -stream Parquet -release 1
//
// {corte:DateTime} is bound to an hour from now (every committed run) and
// {k:UInt64} to -k. -mb sets warehouse.embedded.query_memory_mb. A new k
// changes a record-level release's fingerprint, which forces a new release.
// The measurements in etl/BENCHMARKS.md ("Session 4") were taken with it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

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
	if *publish != "" {
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
	for _, st := range strings.Split(string(b), ";;") {
		if st = strings.TrimSpace(st); st == "" {
			continue
		}
		var params []warehouse.Param
		if strings.Contains(st, "{corte:") {
			params = append(params, warehouse.P("corte", time.Now().UTC().Add(time.Hour)))
		}
		if strings.Contains(st, "{k:") {
			params = append(params, warehouse.P("k", uint64(*k)))
		}
		if strings.Contains(st, "{release:") {
			params = append(params, warehouse.P("release", uint32(*release)))
		}
		start := time.Now()
		res := &warehouse.Result{}
		if *stream != "" {
			err = eng.Stream(ctx, io.Discard, *stream, st, params...)
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

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sqlmem:", err)
	os.Exit(1)
}
