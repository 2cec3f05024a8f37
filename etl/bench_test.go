package etl_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// BenchmarkETLPredial measures the whole pipeline (decode, validate,
// pseudonymize, recompute with the liquidation core, load) on the embedded
// engine, next to the engine's own CSV ingest of the same file
// (INSERT INTO ... SELECT * FROM file(...)). Rows: OBSERVATORIO_BENCH_ROWS
// (default 200000).
//
//	OBSERVATORIO_BENCH_ROWS=1000000 go test -run '^$' -bench ETLPredial -benchtime 1x ./etl/
func BenchmarkETLPredial(b *testing.B) {
	rows := 200000
	if v, err := strconv.Atoi(os.Getenv("OBSERVATORIO_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	dir := b.TempDir()
	file := filepath.Join(dir, "predial.csv")
	t := &testing.T{}
	writePredialFile(t, file, rows, nil, nil)
	st, _ := os.Stat(file)
	e := whtest.Embedded(b)
	ctx := context.Background()

	// The engine's own ingest of the same bytes: the ceiling.
	abs, _ := filepath.Abs(file)
	cpu0 := processCPU()
	start := time.Now()
	if err := e.Exec(ctx, "CREATE TABLE raw_predial ENGINE = MergeTree ORDER BY tuple() AS SELECT * FROM file({f:String}, 'CSVWithNames') SETTINGS format_csv_delimiter = ';'",
		warehouse.P("f", abs)); err != nil {
		b.Fatal(err)
	}
	engineSecs := time.Since(start).Seconds()
	engineCPU := processCPU() - cpu0

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := newRunner(&testing.T{}, e, etl.JobConfig{Name: fmt.Sprintf("bench-%d", i), Sources: []ingest.SourceConfig{predialSource(file)}})
		r.Config.BatchSize = 50000
		cpu0 := processCPU()
		start := time.Now()
		rep, err := r.Run(ctx, r.Config.Jobs[0].Name)
		if err != nil {
			b.Fatal(err)
		}
		secs := time.Since(start).Seconds()
		cpu := processCPU() - cpu0
		b.ReportMetric(float64(rep.Loaded)/secs, "rows/s")
		b.ReportMetric(float64(st.Size())/secs/1e6, "MB/s")
		b.ReportMetric(float64(rows)/engineSecs, "engine-rows/s")
		b.ReportMetric(engineSecs/secs*100, "%-of-engine")
		// CPU time per row (Go and the engine, all threads) depends much
		// less on what else the machine runs than the rates do.
		b.ReportMetric(cpu.Seconds()/float64(rep.Loaded)*1e6, "cpu-µs/row")
		b.ReportMetric(engineCPU.Seconds()/float64(rows)*1e6, "engine-cpu-µs/row")
	}
}

// processCPU is the user and system CPU time of the whole process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
