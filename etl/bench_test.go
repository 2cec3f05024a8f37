package etl_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
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
// (INSERT INTO ... SELECT * FROM file(...)) and next to the engine's
// ingest of the same file into a table laid out as liquidations (columns
// computed in SQL), and next to the ETL's own storage work alone
// (storagePath: the same rows inserted as the ETL inserts them, and the
// commit's merge), the ceiling of its rate. Rows: OBSERVATORIO_BENCH_ROWS
// (default 200000).
// OBSERVATORIO_BENCH_KEEP_MB: the engine's allocator_keep_mb. The Go
// collector's target is the observatory's (etl.DefaultGCPercent) unless
// GOGC is set.
//
//	OBSERVATORIO_BENCH_ROWS=1000000 go test -run '^$' -bench ETLPredial -benchtime 1x ./etl/
func BenchmarkETLPredial(b *testing.B) {
	// The observatory's process runs with etl.DefaultGCPercent; so does
	// its benchmark, unless GOGC says otherwise.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(etl.DefaultGCPercent))
	}
	rows := 200000
	if v, err := strconv.Atoi(os.Getenv("OBSERVATORIO_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	dir := b.TempDir()
	file := filepath.Join(dir, "predial.csv")
	t := &testing.T{}
	writePredialFile(t, file, rows, nil, nil)
	st, _ := os.Stat(file)
	// OBSERVATORIO_BENCH_KEEP_MB sets warehouse.embedded.allocator_keep_mb
	// (default 0, as in the observatory); it takes effect if this is the
	// process's first engine, as when the benchmark runs alone.
	e := whtest.EmbeddedWith(b, func(c *warehouse.EmbeddedConfig) {
		if v, err := strconv.Atoi(os.Getenv("OBSERVATORIO_BENCH_KEEP_MB")); err == nil {
			c.AllocatorKeepMB = &v
		}
	})
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

	// The engine's own ingest of the same file into a table laid out as
	// liquidations (same engine, sort key and column types), with every
	// column computed in SQL: the storage work the ETL cannot avoid (sort
	// by key, 21 columns, the inputs JSON), without the Go side's
	// validation, HMAC and recomputation (a plain SHA-256 and constants
	// stand in for them).
	if err := e.Exec(ctx, "CREATE TABLE liquidations_engine AS liquidations"); err != nil {
		b.Fatal(err)
	}
	cpu0 = processCPU()
	start = time.Now()
	if err := e.Exec(ctx, `INSERT INTO liquidations_engine (liquidation_id, municipality_code, tax, tax_year, taxpayer_pseudonym, taxpayer_kind,
	filing_channel, issue_date, due_date, base_amount, inputs, billed_total, expected_total, verification_status, verification_diff,
	verification_detail, source, source_file, source_line, run_id, loaded_at)
SELECT c1, '68001', 'predial', toUInt16(c5), lower(hex(SHA256(c2))), '', '',
	toDate(concat(substring(c6, 7, 4), '-', substring(c6, 4, 2), '-', substring(c6, 1, 2))) AS issued, issued,
	toDecimal64(replaceOne(c7, ',', '.'), 2),
	concat('{"destino":"', c8, '","estrato":"', c9, '","avaluo":"', replaceOne(c7, ',', '.'), '","impuesto":"', replaceOne(c10, ',', '.'), '"}'),
	toDecimal64(replaceOne(c11, ',', '.'), 2), toDecimal64(replaceOne(c11, ',', '.'), 2), 'match', toDecimal64(0, 2), '',
	'bga-predial', {f:String}, rowNumberInAllBlocks() + 2, 'engine', now()
FROM file({f:String}, 'CSVWithNames', 'c1 String, c2 String, c3 String, c4 String, c5 String, c6 String, c7 String, c8 String, c9 String, c10 String, c11 String')
SETTINGS format_csv_delimiter = ';', input_format_with_names_use_header = 0`, warehouse.P("f", abs)); err != nil {
		b.Fatal(err)
	}
	sameTableSecs := time.Since(start).Seconds()
	sameTableCPU := processCPU() - cpu0

	// The default batch size unless OBSERVATORIO_BENCH_BATCH says
	// otherwise (the runner's test configuration uses tiny batches).
	batch := etl.DefaultBatchSize
	if v, err := strconv.Atoi(os.Getenv("OBSERVATORIO_BENCH_BATCH")); err == nil && v > 0 {
		batch = v
	}
	storageSecs, storageCPU := storagePath(b, e, "liquidations_engine", rows, batch)

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := newRunner(&testing.T{}, e, etl.JobConfig{Name: fmt.Sprintf("bench-%d", i), Sources: []ingest.SourceConfig{predialSource(file)}})
		r.Config.BatchSize = batch
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		cpu0, sys0 := processCPU(), systemCPU()
		goCPU0 := threadCPU(true)
		start := time.Now()
		rep, err := r.Run(ctx, r.Config.Jobs[0].Name)
		if err != nil {
			b.Fatal(err)
		}
		secs := time.Since(start).Seconds()
		cpu := processCPU() - cpu0
		b.ReportMetric((systemCPU()-sys0).Seconds()/float64(rep.Loaded)*1e6, "sys-µs/row")
		// The Go runtime's threads carry the process's name; the engine's
		// are named by ClickHouse (QueryPipelineEx, MergeMutate...).
		goCPU := threadCPU(true) - goCPU0
		b.ReportMetric(goCPU.Seconds()/float64(rep.Loaded)*1e6, "go-cpu-µs/row")
		b.ReportMetric((cpu-goCPU).Seconds()/float64(rep.Loaded)*1e6, "chdb-cpu-µs/row")
		runtime.ReadMemStats(&ms1)
		b.ReportMetric(float64(ms1.NumGC-ms0.NumGC), "gc-cycles")
		b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(rep.Loaded), "heap-B/row")
		b.ReportMetric(float64(rep.Loaded)/secs, "rows/s")
		b.ReportMetric(float64(st.Size())/secs/1e6, "MB/s")
		b.ReportMetric(float64(rows)/engineSecs, "engine-rows/s")
		b.ReportMetric(engineSecs/secs*100, "%-of-engine")
		// CPU time per row (Go and the engine, all threads) depends much
		// less on what else the machine runs than the rates do.
		b.ReportMetric(cpu.Seconds()/float64(rep.Loaded)*1e6, "cpu-µs/row")
		b.ReportMetric(engineCPU.Seconds()/float64(rows)*1e6, "engine-cpu-µs/row")
		b.ReportMetric(float64(rows)/sameTableSecs, "engine-liq-rows/s")
		b.ReportMetric(sameTableSecs/secs*100, "%-of-engine-liq")
		b.ReportMetric(sameTableCPU.Seconds()/float64(rows)*1e6, "engine-liq-cpu-µs/row")
		b.ReportMetric(float64(rows)/storageSecs, "storage-rows/s")
		b.ReportMetric(engineSecs/storageSecs*100, "storage-%-of-engine")
		b.ReportMetric(sameTableSecs/storageSecs*100, "storage-%-of-engine-liq")
		b.ReportMetric(storageCPU.Seconds()/float64(rows)*1e6, "storage-cpu-µs/row")
	}
}

// storagePath times the ETL's storage work alone, with no Go work at all:
// the rows of table (as the like-for-like ingest laid them out), already
// in the engine's Native encoding, inserted into an insert stage in
// batches of batch rows in the file's order, as the ETL's loader inserts
// them (one part per insert, file() reading each batch), then the commit's
// merge of each staged partition into one part
// (warehouse.MergeSplitPartitions, as etl's staging.attach). The ETL
// cannot load faster than this on the same machine, however little its Go
// side costs: engineSecs/storageSecs and sameTableSecs/storageSecs are the
// ceilings of its %-of-engine and %-of-engine-liq. The batches are written
// to files before the clock starts.
func storagePath(b *testing.B, e warehouse.Engine, table string, rows, batch int) (secs float64, cpu time.Duration) {
	ctx := context.Background()
	dir := b.TempDir()
	// One pass over table, a file per batch (source_line is the file's
	// line: the header is line 1).
	if err := e.Exec(ctx, fmt.Sprintf("INSERT INTO FUNCTION file({f:String}, 'Native') PARTITION BY intDiv(source_line - 2, %d) SELECT * FROM %s ORDER BY source_line",
		batch, table), warehouse.P("f", filepath.Join(dir, "lote-{_partition_id}.native"))); err != nil {
		b.Fatal(err)
	}
	var files []string
	for i := 0; i*batch < rows; i++ {
		files = append(files, filepath.Join(dir, fmt.Sprintf("lote-%d.native", i)))
	}
	const stage = "storage_stage"
	if err := warehouse.CreateInsertStage(ctx, e, "liquidations", stage); err != nil {
		b.Fatal(err)
	}
	cpu0 := processCPU()
	start := time.Now()
	for _, f := range files {
		if err := e.Exec(ctx, "INSERT INTO "+stage+" SELECT * FROM file({f:String}, 'Native')", warehouse.P("f", f)); err != nil {
			b.Fatal(err)
		}
	}
	if err := warehouse.MergeSplitPartitions(ctx, e, stage); err != nil {
		b.Fatal(err)
	}
	secs, cpu = time.Since(start).Seconds(), processCPU()-cpu0
	for _, f := range files {
		os.Remove(f) // now, not after the ETL's run: 2.3 GB at 10M rows
	}
	return secs, cpu
}

// processCPU is the user and system CPU time of the whole process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// systemCPU is the system (kernel) part of processCPU.
func systemCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Stime.Nano())
}

// threadCPU sums the user and system CPU time of the process's threads
// named like the process (goThreads) or the others (the engine's). Threads
// that ended are not counted: the comparison is only meaningful over a
// stretch in which the runtime keeps its threads, as here.
func threadCPU(goThreads bool) time.Duration {
	self, _ := os.ReadFile("/proc/self/comm")
	name := strings.TrimSpace(string(self))
	dirs, _ := filepath.Glob("/proc/self/task/*")
	var ticks int64
	for _, d := range dirs {
		comm, err1 := os.ReadFile(d + "/comm")
		stat, err2 := os.ReadFile(d + "/stat")
		if err1 != nil || err2 != nil {
			continue
		}
		if (strings.TrimSpace(string(comm)) == name) != goThreads {
			continue
		}
		// utime and stime are fields 14 and 15, after the ")" closing comm.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) > 13 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + s
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ = 100
}
