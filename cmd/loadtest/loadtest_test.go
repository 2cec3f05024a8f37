package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var v []time.Duration
	for i := 1; i <= 100; i++ {
		v = append(v, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50, 95: 95, 99: 99, 100: 100, 0.5: 1} {
		if got := percentile(v, p); got != want*time.Millisecond {
			t.Errorf("p%v de 1..100 ms = %v, quiero %v ms", p, got, want)
		}
	}
	// Nearest rank on few values: p95 of 10 values is the 10th.
	few := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if got := percentile(few, 95); got != 10 {
		t.Errorf("p95 de 10 valores = %v", got)
	}
	if got := percentile(few, 50); got != 5 {
		t.Errorf("p50 de 10 valores = %v", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 de nada = %v", got)
	}
}

// TestRunCountsEverything runs the load for a second against a server whose
// routes answer, fail, redirect, cut the connection, take too long and
// page: every failure counts as an error of its class with its cause, a
// redirect counts as an answer, the API walks its pages, and the
// latencies are no shorter than what the server made them.
func TestRunCountsEverything(t *testing.T) {
	var mu sync.Mutex
	apiHits := map[int]int{}
	mux := http.NewServeMux()
	mux.HandleFunc("/lenta", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		w.Write([]byte(strings.Repeat("x", 1000)))
	})
	mux.HandleFunc("/redirige", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/lenta", http.StatusFound)
	})
	mux.HandleFunc("/falla", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	})
	mux.HandleFunc("/limita", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "espere", http.StatusTooManyRequests)
	})
	mux.HandleFunc("/corta", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	mux.HandleFunc("/eterna", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	var srv *httptest.Server
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("p"))
		mu.Lock()
		apiHits[p]++
		mu.Unlock()
		next := "null"
		if p < 3 {
			next = fmt.Sprintf("%q", srv.URL+"/api?p="+strconv.Itoa(p+1))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"registros":[{"a":1}],"siguiente":%s}`, next)
	})
	srv = httptest.NewServer(mux)
	defer srv.Close()

	p := &plan{targets: map[string][]target{
		classPages:   {{path: "/lenta"}},
		classExports: {{path: "/redirige"}},
		classCharts:  {{path: "/falla"}, {path: "/limita"}},
		classOther:   {{path: "/corta"}},
		classFiles:   {{path: "/eterna"}},
		classAPI:     {{path: "/api?p=1", follow: 5}},
	}}
	mix, err := parseMix(defaultMix)
	if err != nil {
		t.Fatal(err)
	}
	res := run(context.Background(), loadClient(4), p, runOptions{base: srv.URL, clients: 4, duration: time.Second, timeout: 200 * time.Millisecond, mix: mix, seed: 7})
	if res.elapsed < time.Second || res.elapsed > 3*time.Second {
		t.Errorf("la carga duró %v", res.elapsed)
	}
	get := func(c string) ClassReport {
		r := res.classes[c]
		if r == nil {
			t.Fatalf("clase %s sin peticiones", c)
		}
		return summarize(c, r, res.elapsed)
	}

	pages := get(classPages)
	if pages.Errors != 0 || pages.Requests == 0 || pages.Statuses["200"] != pages.Requests {
		t.Errorf("páginas: %+v", pages)
	}
	if pages.P50 < 20 || pages.P50 > pages.P95 || pages.P95 > pages.P99 || pages.P99 > pages.Max {
		t.Errorf("páginas: p50 %v, p95 %v, p99 %v, máx %v ms; el servidor tarda 20 ms", pages.P50, pages.P95, pages.P99, pages.Max)
	}
	if pages.Bytes != int64(pages.Requests)*1000 || pages.MBPerSecond <= 0 {
		t.Errorf("páginas: %d bytes (%v MB/s) para %d respuestas de 1000", pages.Bytes, pages.MBPerSecond, pages.Requests)
	}

	redirects := get(classExports)
	if redirects.Errors != 0 || redirects.Statuses["302"] != redirects.Requests || redirects.Requests == 0 {
		t.Errorf("una redirección no se sigue y es una respuesta: %+v", redirects)
	}

	charts := get(classCharts)
	byWhat := map[string]int{}
	for _, e := range charts.ErrorList {
		byWhat[e.What] = e.Count
	}
	if charts.Errors != charts.Requests || byWhat["HTTP 500"] == 0 || byWhat["HTTP 429 con Retry-After"] == 0 || byWhat["HTTP 500"]+byWhat["HTTP 429 con Retry-After"] != charts.Requests {
		t.Errorf("gráficos: %+v", charts)
	}

	other := get(classOther)
	if other.Errors != other.Requests || len(other.ErrorList) != 1 || !strings.HasPrefix(other.ErrorList[0].What, "respuesta cortada") || other.ErrorList[0].Example != srv.URL+"/corta" {
		t.Errorf("otros (conexión cortada): %+v", other)
	}

	files := get(classFiles)
	if files.Errors != files.Requests || len(files.ErrorList) != 1 || files.ErrorList[0].What != "tiempo agotado" || files.Max < 200 {
		t.Errorf("descargas (más lentas que el límite): %+v", files)
	}

	if len(pages.Slowest) != keepSlowest || pages.Slowest[0].MS != pages.Max || pages.Slowest[0].URL != srv.URL+"/lenta" {
		t.Errorf("páginas más lentas: %+v (máx %v)", pages.Slowest, pages.Max)
	}
	for i := 1; i < len(pages.Slowest); i++ {
		if pages.Slowest[i].MS > pages.Slowest[i-1].MS {
			t.Errorf("más lentas sin orden: %+v", pages.Slowest)
		}
	}

	api := get(classAPI)
	if api.Errors != 0 {
		t.Errorf("api: %+v", api)
	}
	mu.Lock()
	defer mu.Unlock()
	if apiHits[1] == 0 || apiHits[2] == 0 || apiHits[3] == 0 || apiHits[4] != 0 || apiHits[2] > apiHits[1] || apiHits[3] > apiHits[2] ||
		apiHits[1]+apiHits[2]+apiHits[3] != api.Requests {
		t.Errorf("api: páginas pedidas %v para %d peticiones", apiHits, api.Requests)
	}
}

// A class without routes is left out of the draw (the others still run).
func TestRunSkipsEmptyClasses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	mix, _ := parseMix(defaultMix)
	p := &plan{targets: map[string][]target{classOther: {{path: "/"}}}}
	res := run(context.Background(), loadClient(1), p, runOptions{base: srv.URL, clients: 1, duration: 200 * time.Millisecond, timeout: time.Second, mix: mix})
	if len(res.classes) != 1 || res.classes[classOther] == nil || len(res.classes[classOther].durations) == 0 {
		t.Errorf("clases pedidas: %v", res.classes)
	}
}

func TestParseMix(t *testing.T) {
	m, err := parseMix("paginas=3, graficos=0")
	if err != nil || m[classPages] != 3 || m[classCharts] != 0 || len(m) != 2 {
		t.Errorf("%v %v", m, err)
	}
	for _, bad := range []string{"paginas", "paginas=-1", "inventada=3", "paginas=x"} {
		if _, err := parseMix(bad); err == nil {
			t.Errorf("%q aceptada", bad)
		}
	}
}

func TestParseMetrics(t *testing.T) {
	m, err := parseMetrics(strings.NewReader(`# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
go_memstats_heap_inuse_bytes 1.2345678e+07
go_gc_duration_seconds{quantile="0.5"} 0.001
process_resident_memory_bytes 5.06482688e+08
`))
	if err != nil || m["go_goroutines"] != 42 || m["go_memstats_heap_inuse_bytes"] != 12345678 || m["process_resident_memory_bytes"] != 506482688 {
		t.Errorf("%v %v", m, err)
	}
	if _, ok := m["go_gc_duration_seconds"]; ok {
		t.Error("una métrica con etiquetas se leyó como si no las tuviera")
	}
}

func TestAnalyzeMemory(t *testing.T) {
	// Ten minutes, a sample every 5 s. Flat: noise around 500 MB after a
	// climb in the first minute. Leak: +5 MB a minute all along.
	series := func(f func(min float64) float64) []sample {
		out := []sample{{phase: "antes", rss: 400e6, heapInuse: 50e6, goSys: 100e6}}
		for s := 0; s <= 600; s += 5 {
			at := time.Duration(s) * time.Second
			v := int64(f(at.Minutes()))
			out = append(out, sample{at: at, phase: "carga", rss: v, heapInuse: v / 10, goSys: v / 5})
		}
		return out
	}
	flat := analyzeMemory(series(func(m float64) float64 {
		noise := float64(int(m*12)%3-1) * 4e6
		if m < 0.5 {
			return 450e6 + noise
		}
		return 500e6 + noise
	}), time.Minute, 10)
	if !flat.Flat || len(flat.Series) != 3 || flat.IdleRSSMB != 400 {
		t.Errorf("memoria estable vista como %+v", flat)
	}
	for _, s := range flat.Series {
		if s.SlopeMBPerMin > 1 || s.SlopeMBPerMin < -1 {
			t.Errorf("%s: pendiente %v en una serie estable", s.Name, s.SlopeMBPerMin)
		}
	}
	leak := analyzeMemory(series(func(m float64) float64 { return 300e6 + m*5e6 }), time.Minute, 10)
	if leak.Flat || leak.Series[0].Name != "rss" || leak.Series[0].SlopeMBPerMin < 4.9 || leak.Series[0].SlopeMBPerMin > 5.1 || leak.Series[0].ChangePct < 10 {
		t.Errorf("una fuga vista como %+v", leak)
	}
	short := analyzeMemory(series(func(float64) float64 { return 1 })[:10], time.Minute, 10)
	if short.Flat || short.Note == "" {
		t.Errorf("una carga corta no se puede juzgar: %+v", short)
	}
}

// Discovery waits out a refusal that says when to come back, and fails on
// one that does not.
func TestDiscoveryRetriesRefusals(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		n := hits[r.URL.Path]
		mu.Unlock()
		switch {
		case r.URL.Path == "/ocupada" && n < 3:
			w.Header().Set("Retry-After", "0")
			http.Error(w, "turno", http.StatusServiceUnavailable)
		case r.URL.Path == "/rota":
			http.Error(w, "no", http.StatusServiceUnavailable)
		default:
			w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()
	d := &discoverer{hc: srv.Client(), base: srv.URL, seen: map[string]bool{}, p: &plan{targets: map[string][]target{}}}
	if _, body, err := d.fetch(context.Background(), http.MethodGet, "/ocupada", true); err != nil || body != "ok" || hits["/ocupada"] != 3 {
		t.Errorf("tras dos 503 con Retry-After: %q %v (%d intentos)", body, err, hits["/ocupada"])
	}
	if _, _, err := d.fetch(context.Background(), http.MethodGet, "/rota", false); err == nil || hits["/rota"] != 1 {
		t.Errorf("un 503 sin Retry-After: %v (%d intentos)", err, hits["/rota"])
	}
}

// Each client presents its own address (X-Forwarded-For), or none.
func TestClientAddresses(t *testing.T) {
	if a, b := clientAddress(0), clientAddress(65535); a != "198.18.0.1" || b != "198.19.0.0" {
		t.Errorf("direcciones %s, %s", a, b)
	}
	for _, own := range []bool{true, false} {
		var mu sync.Mutex
		seen := map[string]bool{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[r.Header.Get("X-Forwarded-For")] = true
			mu.Unlock()
		}))
		mix, _ := parseMix(defaultMix)
		p := &plan{targets: map[string][]target{classPages: {{path: "/"}}}}
		run(context.Background(), loadClient(3), p, runOptions{base: srv.URL, clients: 3, duration: 100 * time.Millisecond, timeout: time.Second, mix: mix, ownAddress: own})
		srv.Close()
		want := map[string]bool{"198.18.0.1": true, "198.18.0.2": true, "198.18.0.3": true}
		if !own {
			want = map[string]bool{"": true}
		}
		if fmt.Sprint(seen) != fmt.Sprint(want) {
			t.Errorf("ownAddress=%v: X-Forwarded-For vistas %v", own, seen)
		}
	}
}

// The rate of each download is noted for the big ones only.
func TestBigDownloadRate(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	big := strings.Repeat("x", 2<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		if r.URL.Path == "/grande" {
			w.Write([]byte(big))
			return
		}
		w.Write([]byte("poco"))
	}))
	defer srv.Close()
	mix, _ := parseMix(defaultMix)
	p := &plan{targets: map[string][]target{classFiles: {{path: "/grande"}, {path: "/chica"}}}}
	res := run(context.Background(), loadClient(2), p, runOptions{base: srv.URL, clients: 2, duration: 300 * time.Millisecond, timeout: 5 * time.Second, mix: mix})
	files := summarize(classFiles, res.classes[classFiles], res.elapsed)
	mu.Lock()
	defer mu.Unlock()
	if files.BigDownloads != hits["/grande"] || files.BigDownloads == 0 || hits["/chica"] == 0 || files.BigDownloadMBps <= 0 {
		t.Errorf("%d descargas grandes a %v MB/s; pedidas %v", files.BigDownloads, files.BigDownloadMBps, hits)
	}
	if want := int64(hits["/grande"])*int64(len(big)) + int64(hits["/chica"])*4; files.Bytes != want {
		t.Errorf("%d bytes, quiero %d", files.Bytes, want)
	}
}
