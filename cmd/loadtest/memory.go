package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/observatorio-civico/observatorio/internal/procmem"
)

// sample is one reading of the observatory's memory.
type sample struct {
	at         time.Duration // since the load started (negative: before)
	phase      string        // "antes" (idle, before the load) or "carga"
	rss        int64         // resident set, bytes (-1: unknown)
	heapInuse  int64         // go_memstats_heap_inuse_bytes (-1: unknown)
	heapAlloc  int64         // go_memstats_heap_alloc_bytes
	goSys      int64         // go_memstats_sys_bytes: all the Go runtime holds
	goroutines int64
	requests   int64 // finished so far
}

// sampler reads the process's resident memory (VmRSS in /proc/PID/status
// when the PID is known, else the process_resident_memory_bytes the
// observatory exports, which is the same figure) and the Go runtime's
// figures from /metrics.
type sampler struct {
	hc      *http.Client
	metrics string // URL of /metrics
	pid     int
}

func (s *sampler) read(ctx context.Context) sample {
	smp := sample{rss: -1, heapInuse: -1, heapAlloc: -1, goSys: -1, goroutines: -1}
	if s.pid > 0 {
		if v, err := procmem.Status(s.pid, "VmRSS"); err == nil {
			smp.rss = v
		}
	}
	m, err := s.scrape(ctx)
	if err == nil {
		get := func(name string) int64 {
			if v, ok := m[name]; ok {
				return int64(v)
			}
			return -1
		}
		smp.heapInuse, smp.heapAlloc, smp.goSys, smp.goroutines = get("go_memstats_heap_inuse_bytes"), get("go_memstats_heap_alloc_bytes"), get("go_memstats_sys_bytes"), get("go_goroutines")
		if smp.rss < 0 {
			smp.rss = get("process_resident_memory_bytes")
		}
	}
	return smp
}

// scrape reads the unlabelled metrics of a Prometheus text exposition.
func (s *sampler) scrape(ctx context.Context) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.metrics, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	return parseMetrics(resp.Body)
}

func parseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || strings.ContainsRune(line, '{') {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			out[f[0]] = v
		}
	}
	return out, sc.Err()
}

// loop samples every interval from start until stop is closed, then once
// more, and returns the samples.
func (s *sampler) loop(ctx context.Context, start time.Time, every time.Duration, done *atomic.Int64, stop <-chan struct{}) []sample {
	var out []sample
	take := func() {
		smp := s.read(ctx)
		smp.at, smp.phase, smp.requests = time.Since(start), "carga", done.Load()
		out = append(out, smp)
	}
	take()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			take()
		case <-stop:
			take()
			return out
		case <-ctx.Done():
			return out
		}
	}
}

func writeSamples(path string, samples []sample) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"segundos", "fase", "rss_bytes", "heap_inuse_bytes", "heap_alloc_bytes", "go_sys_bytes", "goroutines", "peticiones"})
	for _, s := range samples {
		w.Write([]string{strconv.FormatFloat(s.at.Seconds(), 'f', 1, 64), s.phase,
			strconv.FormatInt(s.rss, 10), strconv.FormatInt(s.heapInuse, 10), strconv.FormatInt(s.heapAlloc, 10),
			strconv.FormatInt(s.goSys, 10), strconv.FormatInt(s.goroutines, 10), strconv.FormatInt(s.requests, 10)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// MemoryReport says whether memory stayed flat under the load.
type MemoryReport struct {
	Samples      int             `json:"muestras"`
	Every        string          `json:"cada"`
	Window       string          `json:"ventana"`
	TolerancePct float64         `json:"tolerancia_pct"`
	RSSSource    string          `json:"fuente_rss"`
	IdleRSSMB    float64         `json:"rss_en_reposo_mb,omitempty"`
	Series       []SeriesSummary `json:"series"`
	Flat         bool            `json:"plana"`
	Note         string          `json:"nota,omitempty"`
}

// SeriesSummary compares the start and the end of one memory figure.
type SeriesSummary struct {
	Name string `json:"serie"`
	// FirstMB and LastMB are the medians of the first and the last window
	// of the load, in MB (10^6 bytes).
	FirstMB   float64 `json:"mediana_inicio_mb"`
	LastMB    float64 `json:"mediana_final_mb"`
	ChangePct float64 `json:"cambio_pct"`
	// SlopeMBPerMin is the least-squares slope after the first window.
	SlopeMBPerMin float64 `json:"pendiente_mb_por_min"`
	MaxMB         float64 `json:"maximo_mb"`
	Flat          bool    `json:"plana"`
}

// analyzeMemory compares the median of each figure over the first window
// of the load (which includes the warm-up: caches filling, connections
// opening) with its median over the last window. A figure is flat when its
// last median exceeds the first by at most tolerancePct; a fall is flat.
// The slope after the first window is reported with it, to tell a
// plateau from a steady climb.
func analyzeMemory(samples []sample, window time.Duration, tolerancePct float64) *MemoryReport {
	m := &MemoryReport{Samples: len(samples), Window: window.String(), TolerancePct: tolerancePct, Flat: true}
	var load []sample
	for _, s := range samples {
		if s.phase == "carga" {
			load = append(load, s)
		} else if s.phase == "antes" && s.rss > 0 {
			m.IdleRSSMB = mb(float64(s.rss))
		}
	}
	if len(load) == 0 {
		m.Flat, m.Note = false, "sin muestras"
		return m
	}
	end := load[len(load)-1].at
	if end < 2*window {
		m.Flat, m.Note = false, fmt.Sprintf("la carga duró %v: hacen falta al menos dos ventanas de %v para comparar", end.Round(time.Second), window)
		return m
	}
	series := []struct {
		name string
		get  func(sample) int64
	}{
		{"rss", func(s sample) int64 { return s.rss }},
		{"heap_inuse", func(s sample) int64 { return s.heapInuse }},
		{"go_sys", func(s sample) int64 { return s.goSys }},
	}
	for _, sr := range series {
		var first, last, xs, ys []float64
		maxV := 0.0
		for _, s := range load {
			v := sr.get(s)
			if v < 0 {
				continue
			}
			f := float64(v)
			maxV = math.Max(maxV, f)
			if s.at <= window {
				first = append(first, f)
			} else {
				xs, ys = append(xs, s.at.Minutes()), append(ys, f)
			}
			if s.at >= end-window {
				last = append(last, f)
			}
		}
		if len(first) == 0 || len(last) == 0 {
			continue
		}
		a, b := median(first), median(last)
		ss := SeriesSummary{Name: sr.name, FirstMB: mb(a), LastMB: mb(b), ChangePct: round2((b - a) / a * 100),
			SlopeMBPerMin: mb(slope(xs, ys)), MaxMB: mb(maxV)}
		ss.Flat = ss.ChangePct <= tolerancePct
		// The Go figures are the ones leaks show up in; go_sys is reported
		// for context (the runtime keeps freed memory a while).
		if sr.name != "go_sys" {
			m.Flat = m.Flat && ss.Flat
		}
		m.Series = append(m.Series, ss)
	}
	if len(m.Series) == 0 {
		m.Flat, m.Note = false, "ninguna muestra de memoria legible (¿/metrics y -pid?)"
	}
	return m
}

func mb(b float64) float64 { return round2(b / 1e6) }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// slope is the least-squares slope of ys over xs.
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx, sy, sxx, sxy = sx+xs[i], sy+ys[i], sxx+xs[i]*xs[i], sxy+xs[i]*ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

func writeMemory(w io.Writer, m *MemoryReport) {
	verdict := "plana"
	if !m.Flat {
		verdict = "NO plana"
	}
	fmt.Fprintf(w, "memoria (%d muestras cada %s, RSS de %s): %s", m.Samples, m.Every, m.RSSSource, verdict)
	if m.Note != "" {
		fmt.Fprintf(w, " (%s)", m.Note)
	}
	fmt.Fprintln(w)
	if m.IdleRSSMB > 0 {
		fmt.Fprintf(w, "  RSS en reposo antes de la carga: %.1f MB\n", m.IdleRSSMB)
	}
	for _, s := range m.Series {
		fmt.Fprintf(w, "  %-10s mediana primer %s %8.1f MB, último %s %8.1f MB (%+.1f %%; tolerancia %.0f %%), pendiente tras el primero %+.2f MB/min, máximo %.1f MB\n",
			s.Name, m.Window, s.FirstMB, m.Window, s.LastMB, s.ChangePct, m.TolerancePct, s.SlopeMBPerMin, s.MaxMB)
	}
}
