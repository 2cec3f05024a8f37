package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/datasets/datasetstest"
	"github.com/observatorio-civico/observatorio/internal/procmem"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/chserver"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// Export benchmarks over the real HTTP routes, on the warehouse prepared by
// datasets' TestBenchSetup (see datasets/BENCHMARKS.md):
//
//	OBSERVATORIO_BENCH_DIR=/tmp/obs-bench \
//	  go test -run '^$' -bench 'Export' -benchtime 3x -timeout 60m ./server/

func benchEngine(tb testing.TB) warehouse.Engine {
	dir := os.Getenv("OBSERVATORIO_BENCH_DIR")
	if dir == "" {
		tb.Skip("defina OBSERVATORIO_BENCH_DIR (preparado con TestBenchSetup de datasets) para el banco de pruebas de exportación")
	}
	e, err := warehouse.Open(context.Background(), warehouse.Config{Database: "banco", Embedded: warehouse.EmbeddedConfig{Path: dir, Library: os.Getenv("OBSERVATORIO_CHDB_LIB"), Pool: 4}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	return e
}

func rss() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseFloat(f[1], 64)
	return pages * float64(os.Getpagesize()) / (1 << 20)
}

func benchSetup(b *testing.B) (warehouse.Engine, *datasets.Dataset, *datasets.Release, *httptest.Server) {
	e := benchEngine(b)
	ctx := context.Background()
	d, _ := datasets.Get("liquidaciones")
	rel, err := datasets.Latest(ctx, e, d.ID)
	if err != nil {
		b.Skip("sin versión publicada: ejecute primero TestBenchSetup")
	}
	// Clients downloading in a loop from one address: not a rate-limit test.
	srv := httptest.NewServer(New(e, Options{RateLimits: &RateLimits{}}).Handler())
	b.Cleanup(srv.Close)
	return e, d, rel, srv
}

// resetPeak resets the kernel's peak-RSS counter (VmHWM), so that the
// figure reported covers the timed section only.
func resetPeak(b *testing.B) float64 {
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	base := rss()
	b.ResetTimer()
	return base
}

func report(b *testing.B, bytes int64, rows uint64, elapsed time.Duration) {
	b.ReportMetric(float64(bytes)/elapsed.Seconds()/1e6, "MB/s")
	b.ReportMetric(float64(rows)/elapsed.Seconds()/1e6, "Mfilas/s")
	b.ReportMetric(procmem.MiB(0, "VmHWM"), "MiB-pico")
}

// BenchmarkExportEngineCSV: the engine's own CSVWithNames of the published
// rows of the release, discarded: the rate to compare with.
func BenchmarkExportEngineCSV(b *testing.B) {
	e, d, rel, _ := benchSetup(b)
	b.ReportMetric(resetPeak(b), "MiB-base")
	var n int64
	start := time.Now()
	for i := 0; i < b.N; i++ {
		c := &countingWriter{}
		if err := e.Stream(context.Background(), c, "CSVWithNames", "SELECT "+strings.Join(d.ColumnNames(), ", ")+" FROM "+d.Table+" WHERE release = {r:UInt32} ORDER BY fila",
			warehouse.P("r", rel.Number)); err != nil {
			b.Fatal(err)
		}
		n += c.n
	}
	report(b, n, rel.Rows*uint64(b.N), time.Since(start))
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func download(url string) (int64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return io.Copy(io.Discard, resp.Body)
}

// BenchmarkExportHTTPReleaseCSV: GET /datos/liquidaciones.csv, the whole
// release file over HTTP (what a journalist downloads).
func BenchmarkExportHTTPReleaseCSV(b *testing.B) {
	_, d, rel, srv := benchSetup(b)
	b.ReportMetric(resetPeak(b), "MiB-base")
	var n int64
	start := time.Now()
	for i := 0; i < b.N; i++ {
		m, err := download(srv.URL + "/datos/" + d.ID + ".csv")
		if err != nil {
			b.Fatal(err)
		}
		n += m
	}
	report(b, n, rel.Rows*uint64(b.N), time.Since(start))
}

// BenchmarkExportHTTPFilteredCSV: a filtered export that keeps every row
// (desde_vigencia=1900): streamed from the engine through the observatory's
// CSV writer, the path of every filtered download.
func BenchmarkExportHTTPFilteredCSV(b *testing.B) {
	_, d, rel, srv := benchSetup(b)
	b.ReportMetric(resetPeak(b), "MiB-base")
	var n int64
	start := time.Now()
	for i := 0; i < b.N; i++ {
		m, err := download(srv.URL + "/datos/" + d.ID + ".csv?desde_vigencia=1900")
		if err != nil {
			b.Fatal(err)
		}
		n += m
	}
	report(b, n, rel.Rows*uint64(b.N), time.Since(start))
}

// BenchmarkExportHTTPConcurrent: 64 simultaneous downloads of the whole
// release file; every one must complete with the full size.
func BenchmarkExportHTTPConcurrent(b *testing.B) {
	_, d, rel, srv := benchSetup(b)
	f, _ := rel.File(d.ID + ".csv")
	const clients = 64
	var total int64
	var failures atomic.Int64
	var maxRSS float64
	b.ReportMetric(resetPeak(b), "MiB-base")
	stop := make(chan struct{})
	go func() { // sample the resident memory while downloading
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				if r := rss(); r > maxRSS {
					maxRSS = r
				}
			}
		}
	}()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		var got atomic.Int64
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m, err := download(srv.URL + "/datos/" + d.ID + ".csv")
				if err != nil || m != f.Bytes {
					failures.Add(1)
					b.Errorf("descarga: %d bytes de %d, %v", m, f.Bytes, err)
				}
				got.Add(m)
			}()
		}
		wg.Wait()
		total += got.Load()
	}
	elapsed := time.Since(start)
	close(stop)
	report(b, total, rel.Rows*uint64(b.N)*clients, elapsed)
	b.ReportMetric(maxRSS, "MiB-rss-max")
	b.ReportMetric(float64(failures.Load()), "errores")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/(1<<20), "MiB-go-sys")
}

// BenchmarkExportServerEngine repeats the measurements on a ClickHouse
// server (Debian's 18.16 by default, started by chserver) for
// OBSERVATORIO_BENCH_SERVER_ROWS generated liquidations: there the
// observatory's process holds no engine, so its peak memory is the download
// path's own.
//
//	OBSERVATORIO_BENCH_SERVER_ROWS=10000000 go test -run '^$' \
//	  -bench ExportServerEngine -benchtime 1x -timeout 60m ./server/
func BenchmarkExportServerEngine(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("OBSERVATORIO_BENCH_SERVER_ROWS"))
	if n <= 0 {
		b.Skip("defina OBSERVATORIO_BENCH_SERVER_ROWS")
	}
	srv := chserver.Start(b, chserver.Options{Name: "banco", Settings: map[string]string{
		"max_memory_usage": "12000000000", "max_bytes_before_external_sort": "2000000000", "max_bytes_before_external_group_by": "2000000000"}})
	e := whtest.OpenServer(b, srv, "")
	ctx := context.Background()
	if _, err := warehouse.Migrate(ctx, e, ""); err != nil {
		b.Fatal(err)
	}
	if _, err := warehouse.SeedEntities(ctx, e); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := datasetstest.GenerateLiquidations(ctx, e, n); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d liquidaciones generadas en %s", n, time.Since(start).Round(time.Second))
	start = time.Now()
	if _, err := datasets.Publish(ctx, e, datasets.PublishOptions{Datasets: []string{"liquidaciones"}}); err != nil {
		b.Fatal(err)
	}
	b.Logf("publicadas en %s", time.Since(start).Round(time.Second))
	d, _ := datasets.Get("liquidaciones")
	rel, err := datasets.Latest(ctx, e, d.ID)
	if err != nil {
		b.Fatal(err)
	}
	f, _ := rel.File(d.ID + ".csv")
	hs := httptest.NewServer(New(e, Options{RateLimits: &RateLimits{}}).Handler())
	defer hs.Close()
	b.Run("motor-CSVWithNames", func(b *testing.B) {
		b.ReportMetric(resetPeak(b), "MiB-base")
		var n int64
		start := time.Now()
		for i := 0; i < b.N; i++ {
			c := &countingWriter{}
			if err := e.Stream(ctx, c, "CSVWithNames", "SELECT "+strings.Join(d.ColumnNames(), ", ")+" FROM "+d.Table+" WHERE release = {r:UInt32} ORDER BY fila",
				warehouse.P("r", rel.Number)); err != nil {
				b.Fatal(err)
			}
			n += c.n
		}
		report(b, n, rel.Rows*uint64(b.N), time.Since(start))
	})
	for _, x := range []struct{ name, path string }{{"http-version-completa", ".csv"}, {"http-filtrada", ".csv?desde_vigencia=1900"}} {
		b.Run(x.name, func(b *testing.B) {
			b.ReportMetric(resetPeak(b), "MiB-base")
			var n int64
			start := time.Now()
			for i := 0; i < b.N; i++ {
				m, err := download(hs.URL + "/datos/" + d.ID + x.path)
				if err != nil {
					b.Fatal(err)
				}
				n += m
			}
			report(b, n, rel.Rows*uint64(b.N), time.Since(start))
		})
	}
	b.Run("http-64-simultaneas", func(b *testing.B) {
		b.ReportMetric(resetPeak(b), "MiB-base")
		var total int64
		var failures atomic.Int64
		start := time.Now()
		for i := 0; i < b.N; i++ {
			var wg sync.WaitGroup
			for c := 0; c < 64; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					m, err := download(hs.URL + "/datos/" + d.ID + ".csv")
					if err != nil || m != f.Bytes {
						failures.Add(1)
						b.Errorf("descarga: %d bytes de %d, %v", m, f.Bytes, err)
					}
					atomic.AddInt64(&total, m)
				}()
			}
			wg.Wait()
		}
		report(b, total, rel.Rows*uint64(b.N)*64, time.Since(start))
		b.ReportMetric(float64(failures.Load()), "errores")
	})
}
