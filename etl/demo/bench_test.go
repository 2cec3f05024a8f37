package demo

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkGenerate writes the data set at DEMO_BENCH_SCALE (default 1)
// into a temporary folder under DEMO_BENCH_DIR (default the system's) and
// reports rows per second, megabytes per second and the peak of the live
// heap (sampled every 20 ms). See BENCHMARKS.md.
//
//	DEMO_BENCH_SCALE=10 go test -run '^$' -bench Generate -benchtime 1x ./etl/demo/
func BenchmarkGenerate(b *testing.B) {
	scale := 1.0
	if s := os.Getenv("DEMO_BENCH_SCALE"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			b.Fatal(err)
		}
		scale = v
	}
	for i := 0; i < b.N; i++ {
		dir, err := os.MkdirTemp(os.Getenv("DEMO_BENCH_DIR"), "demo-bench-")
		if err != nil {
			b.Fatal(err)
		}
		peak := sampleHeap()
		start := time.Now()
		m, err := Generate(context.Background(), dir, Options{Seed: 20261121, Scale: scale})
		took := time.Since(start)
		live, total := peak()
		os.RemoveAll(dir)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(m.Totals.DataRows), "rows")
		b.ReportMetric(float64(m.Totals.DataRows)/took.Seconds(), "rows/s")
		b.ReportMetric(float64(m.Totals.Bytes)/1e6/took.Seconds(), "MB/s")
		b.ReportMetric(float64(live)/1e6, "peak-live-MB")
		b.ReportMetric(float64(total)/1e6, "peak-runtime-MB")
	}
}

// sampleHeap samples the live heap and the runtime's memory until the
// returned function is called, which returns the peaks.
func sampleHeap() func() (live, total uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/total:bytes"}}
	var mu sync.Mutex
	var pl, pt uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	runtime.GC()
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			mu.Lock()
			pl = max(pl, s[0].Value.Uint64())
			pt = max(pt, s[1].Value.Uint64())
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() (uint64, uint64) {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return pl, pt
	}
}
