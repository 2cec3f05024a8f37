package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/observatorio-civico/observatorio/dashboards"
	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/datasets/datasetstest"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// live is a server on a real listener, run by Serve as in production (its
// timeouts, header limit and shutdown), with small socket send buffers so
// that a client that stops reading leaves the handler blocked in a write
// after a few tens of KiB.
type live struct {
	s    *Server
	base string
	addr string
	stop context.CancelFunc
	done chan error
}

type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

func serveLive(t *testing.T, s *Server) *live {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &live{s: s, base: "http://" + ln.Addr().String(), addr: ln.Addr().String(), stop: cancel, done: make(chan error, 1)}
	go func() { l.done <- s.Serve(ctx, smallBuffers{ln}) }()
	t.Cleanup(func() {
		cancel()
		<-l.done
	})
	return l
}

// get fetches a path with the given headers and returns the response with
// its body read.
func (l *live) get(t *testing.T, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, l.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	cl := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp, string(b)
}

// metric reads a sample from /metrics ("name" or `name{label="x"}`); 0
// when absent.
func (l *live) metric(t *testing.T, sample string) float64 {
	t.Helper()
	_, body := l.get(t, "/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	return 0
}

// waitMetric waits until a sample has a value (the server's goroutines
// get there on their own time; the deadline only bounds a failure).
func (l *live) waitMetric(t *testing.T, sample string, want float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := l.metric(t, sample)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v", sample, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRateLimitClasses puts each kind of route through a one-token bucket:
// the second request of a client gets 429, and the rejection is counted in
// the route's class. Assets, probes and metrics are never limited.
func TestRateLimitClasses(t *testing.T) {
	reg := prometheus.NewRegistry()
	one := RateLimit{Rate: 0.001, Burst: 1}
	s := New(whtest.Embedded(t), Options{Metrics: reg, AdminToken: "ficha", TrustedProxies: []string{"127.0.0.1"},
		RateLimits: &RateLimits{Pages: one, Data: one, Downloads: one}})
	l := serveLive(t, s)
	classes := map[string][]string{
		"pages": {"/", "/tableros/recaudo", "/datos", "/datos/liquidaciones", "/gobierno-en-linea", "/gobierno-en-linea/clasificacion",
			"/calendario/68001/2026", "/no-existe"},
		"data": {"/graficos/recaudo-mensual.json", "/graficos/recaudo/mensual.json?municipio=68001", "/graficos/recaudo/mensual.csv",
			"/tableros/municipios.json?q=buca", "/api/datos/liquidaciones?limite=5", "/api/3/action/package_list", "/data.json",
			"/datos/liquidaciones/datapackage.json", "/datos/liquidaciones/versiones", "/datos/liquidaciones/versiones/1/datapackage.json",
			"/calendario/68001/2026.ics", "/calendario/68001/2026.json", "/gobierno-en-linea/entidades/25151/novedades.atom", "/api/admin/runs"},
		"downloads": {"/datos/liquidaciones.csv", "/datos/liquidaciones.excel.csv", "/datos/liquidaciones.json", "/datos/liquidaciones.parquet",
			"/datos/liquidaciones.csv?perfil=excel", "/datos/liquidaciones/versiones/1/liquidaciones.csv", "/datos/liquidaciones/diferencias?desde=1&hasta=2"},
	}
	client := 0
	for class, paths := range classes {
		for _, p := range paths {
			client++
			// Each path from its own client (behind the trusted proxy).
			ip := fmt.Sprintf("198.51.100.%d", client)
			if resp, body := l.get(t, p, "X-Forwarded-For", ip, "Authorization", "Bearer ficha"); resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("%s (%s), first request: %s %s", p, class, resp.Status, body)
			}
			resp, body := l.get(t, p, "X-Forwarded-For", ip, "Authorization", "Bearer ficha")
			if resp.StatusCode != http.StatusTooManyRequests {
				t.Errorf("%s (%s), second request: %s, want 429", p, class, resp.Status)
				continue
			}
			// One token at 0.001 per second: 1000 s, less what refilled
			// during the first request.
			secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if err != nil || secs < 900 || secs > 1000 || !strings.Contains(body, fmt.Sprintf("Espere %d segundos", secs)) || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: 429 with Retry-After %q, Cache-Control %q: %s", p, resp.Header.Get("Retry-After"), resp.Header.Get("Cache-Control"), body)
			}
		}
	}
	for class, paths := range classes {
		if n := l.metric(t, `observatorio_http_limitadas_total{clase="`+class+`"}`); n != float64(len(paths)) {
			t.Errorf("rejections counted in %s: %v, want %d", class, n, len(paths))
		}
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/static/graficos.js", "/static/observatorio.css"} {
		for i := 0; i < 10; i++ {
			if resp, _ := l.get(t, p, "X-Forwarded-For", "203.0.113.1"); resp.StatusCode != http.StatusOK {
				t.Fatalf("%s, request %d: %s", p, i+1, resp.Status)
			}
		}
	}
}

// TestRateLimitClients: who a client is. Behind a trusted proxy each
// X-Forwarded-For address has its own bucket; from any other peer the
// header is ignored; IPv6 clients are counted by /64.
func TestRateLimitClients(t *testing.T) {
	eng := whtest.Embedded(t)
	limits := &RateLimits{Pages: RateLimit{Rate: 0.5, Burst: 2}}
	behind := serveLive(t, New(eng, Options{RateLimits: limits, TrustedProxies: []string{"127.0.0.0/8"}}))
	direct := serveLive(t, New(eng, Options{RateLimits: limits}))

	exhaust := func(l *live, xff string) {
		t.Helper()
		for i := 0; i < 2; i++ {
			if resp, _ := l.get(t, "/no-existe", "X-Forwarded-For", xff); resp.StatusCode != http.StatusNotFound {
				t.Fatalf("%s request %d: %s", xff, i+1, resp.Status)
			}
		}
		resp, body := l.get(t, "/no-existe", "X-Forwarded-For", xff)
		// One token at 0.5 per second: two seconds.
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" || !strings.Contains(body, "Demasiadas solicitudes") {
			t.Fatalf("%s third request: %s, Retry-After %q: %s", xff, resp.Status, resp.Header.Get("Retry-After"), body)
		}
	}
	status := func(l *live, xff string) int {
		resp, _ := l.get(t, "/no-existe", "X-Forwarded-For", xff)
		return resp.StatusCode
	}

	exhaust(behind, "203.0.113.7")
	if st := status(behind, "203.0.113.8"); st != http.StatusNotFound {
		t.Errorf("another client behind the proxy: %d", st)
	}
	// The proxy appends the peer it saw; the client is the last untrusted one.
	if st := status(behind, "10.9.9.9, 203.0.113.7"); st != http.StatusTooManyRequests {
		t.Errorf("a spoofed first hop escaped the limit: %d", st)
	}
	exhaust(behind, "2001:db8:1:2::1")
	if st := status(behind, "2001:db8:1:2:ffff::99"); st != http.StatusTooManyRequests {
		t.Errorf("same /64: %d", st)
	}
	if st := status(behind, "2001:db8:1:3::1"); st != http.StatusNotFound {
		t.Errorf("another /64: %d", st)
	}

	exhaust(direct, "203.0.113.7")
	if st := status(direct, "203.0.113.8"); st != http.StatusTooManyRequests {
		t.Errorf("an untrusted peer chose its address with X-Forwarded-For: %d", st)
	}
}

// TestLimiterBuckets checks the buckets against a clock: refill, the
// Retry-After computed from the tokens missing, idle buckets dropped, and
// memory bounded whatever the number of clients.
func TestLimiterBuckets(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	l := newLimiter(RateLimits{Pages: RateLimit{Rate: 2, Burst: 4}, Downloads: RateLimit{Rate: 0.25, Burst: 1}, Clients: 1000}, clock, nil)
	a := netip.MustParseAddr("192.0.2.1")
	for i := 0; i < 4; i++ {
		if ok, _ := l.allow(classPages, a); !ok {
			t.Fatalf("burst: request %d refused", i+1)
		}
	}
	if ok, wait := l.allow(classPages, a); ok || wait != 500*time.Millisecond {
		t.Fatalf("empty bucket: %v, wait %s", ok, wait)
	}
	now = now.Add(250 * time.Millisecond) // half a token
	if ok, wait := l.allow(classPages, a); ok || wait != 250*time.Millisecond {
		t.Fatalf("half a token: %v, wait %s", ok, wait)
	}
	now = now.Add(250 * time.Millisecond)
	if ok, _ := l.allow(classPages, a); !ok {
		t.Fatal("a whole token refused")
	}
	if ok, wait := l.allow(classDownloads, a); !ok || wait != 0 {
		t.Fatal("classes share a bucket")
	}
	if ok, wait := l.allow(classDownloads, a); ok || wait != 4*time.Second {
		t.Fatalf("downloads: %v, wait %s", ok, wait)
	}
	if ok, _ := l.allow(classData, a); !ok {
		t.Fatal("a class with rate 0 limited")
	}

	// Many clients: the map never exceeds its bound.
	peak := 0
	for i := 0; i < 200000; i++ {
		l.allow(classPages, netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
		peak = max(peak, l.size())
	}
	if peak > 1000 {
		t.Errorf("%d buckets held, bound 1000", peak)
	}

	// Once every bucket has filled up again, the next sweep drops them all.
	now = now.Add(2*time.Second + sweepEvery)
	l.allow(classPages, a)
	if n := l.size(); n != 1 {
		t.Errorf("%d buckets after every client went idle, want 1", n)
	}
	// A client still short of tokens is kept by the sweep.
	for i := 0; i < 5; i++ {
		l.allow(classPages, a)
	}
	now = now.Add(sweepEvery + time.Second)
	l.allow(classPages, netip.MustParseAddr("192.0.2.2"))
	if ok, _ := l.allow(classPages, a); !ok {
		t.Error("refilled bucket refused")
	}
}

// TestLimiterMemory measures what a bucket costs: with the default bound
// of 100.000 buckets the limiter holds a few megabytes at most.
func TestLimiterMemory(t *testing.T) {
	now := time.Now()
	l := newLimiter(RateLimits{Data: RateLimit{Rate: 1, Burst: 10}, Clients: 100000}, func() time.Time { return now }, nil)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < 99999; i++ {
		var b [16]byte
		b[0], b[1], b[13], b[14], b[15] = 0x20, 0x01, byte(i>>16), byte(i>>8), byte(i)
		l.allow(classData, netip.AddrFrom16(b))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	n := l.size()
	per := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	t.Logf("%d cubetas: %.0f bytes cada una, %.1f MB", n, per, float64(after.HeapAlloc-before.HeapAlloc)/1e6)
	if n != 99999 || per > 200 {
		t.Errorf("%d buckets at %.0f bytes each", n, per)
	}
	runtime.KeepAlive(l)
}

// TestSizeLimits: an oversized header gets 431 and an oversized body 413,
// never a 500, from the server as configured by Serve.
func TestSizeLimits(t *testing.T) {
	l := serveLive(t, New(whtest.Embedded(t), Options{AdminToken: "ficha"}))
	req, _ := http.NewRequest(http.MethodGet, l.base+"/healthz", nil)
	req.Header.Set("X-Relleno", strings.Repeat("a", maxHeaderBytes+8<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("oversized header: %s", resp.Status)
	}
	// Just under the limit is fine.
	req.Header.Set("X-Relleno", strings.Repeat("a", maxHeaderBytes-1<<10))
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("header under the limit: %v %v", resp, err)
	}
	resp.Body.Close()

	big := bytes.Repeat([]byte("x"), 2<<20)
	for _, path := range []string{"/api/admin/datasets/publish", "/datos", "/no-existe"} {
		resp, err := http.Post(l.base+path, "application/octet-stream", bytes.NewReader(big))
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "1 MiB") {
			t.Errorf("POST %s with 2 MiB: %s %s", path, resp.Status, b)
		}
	}
	// A body without a declared length is bounded while it is read; a
	// route that reads none answers as usual.
	req, _ = http.NewRequest(http.MethodPost, l.base+"/api/admin/datasets/publish", io.MultiReader(bytes.NewReader(big)))
	req.ContentLength = -1
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		t.Errorf("chunked 2 MiB body: %s", resp.Status)
	}
}

// TestSlowHeadersAreCut: a client that sends its headers a byte at a time
// (slow loris) loses the connection at the header timeout.
func TestSlowHeadersAreCut(t *testing.T) {
	s := New(whtest.Embedded(t), Options{})
	s.readHeaderTimeout = 500 * time.Millisecond
	l := serveLive(t, s)
	// Timed from before the dial: the server's deadline starts when it
	// reads the connection, after the dial began, so the cut can never
	// seem early (timed after the dial, one CI run saw it at 497 ms).
	start := time.Now()
	conn, err := net.Dial("tcp", l.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: observatorio\r\n")
	closed := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(conn)
		closed <- err
	}()
	// A header line every 100 ms, for up to 20 s: far past the timeout.
	var cut time.Duration
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
loop:
	for i := 0; i < 200; i++ {
		select {
		case <-closed:
			cut = time.Since(start)
			break loop
		case <-tick.C:
			if _, err := fmt.Fprintf(conn, "X-Lento-%d: a\r\n", i); err != nil {
				cut = time.Since(start)
				break loop
			}
		}
	}
	if cut == 0 {
		t.Fatal("the server kept a connection whose headers never ended")
	}
	t.Logf("conexión cortada a los %s (plazo de cabeceras %s)", cut.Round(time.Millisecond), s.readHeaderTimeout)
	if cut < s.readHeaderTimeout {
		t.Errorf("cut after %s, before the header timeout", cut)
	}
}

// TestReleaseMode: gin runs in release mode, prints nothing of its own and
// a panic shows the client nothing of the program.
func TestReleaseMode(t *testing.T) {
	var out bytes.Buffer
	savedOut, savedErr := gin.DefaultWriter, gin.DefaultErrorWriter
	gin.DefaultWriter, gin.DefaultErrorWriter = &out, io.Discard
	t.Cleanup(func() { gin.DefaultWriter, gin.DefaultErrorWriter = savedOut, savedErr })
	s := New(whtest.Embedded(t), Options{})
	if gin.Mode() != gin.ReleaseMode {
		t.Errorf("gin mode %q", gin.Mode())
	}
	s.mux.GET("/prueba-de-panico", func(*gin.Context) { panic("secreto interno") })
	l := serveLive(t, s)
	resp, body := l.get(t, "/prueba-de-panico")
	if resp.StatusCode != http.StatusInternalServerError || strings.Contains(body, "secreto") || strings.Contains(body, "goroutine") || strings.Contains(body, ".go:") {
		t.Errorf("panic: %s %q", resp.Status, body)
	}
	for _, p := range []string{"/no-existe", "/debug/pprof/", "/debug/vars"} {
		resp, body := l.get(t, p)
		if resp.StatusCode != http.StatusNotFound || body != "No encontrado.\n" {
			t.Errorf("%s: %s %q", p, resp.Status, body)
		}
	}
	resp, body = l.get(t, "/healthz")
	if resp.Header.Get("Server") != "" || resp.Header.Get("X-Powered-By") != "" || body != "ok\n" {
		t.Errorf("healthz: %v %q", resp.Header, body)
	}
	if out.Len() > 0 {
		t.Errorf("gin wrote debug output: %s", out.String())
	}
}

// stallingClient has a small receive buffer: when it stops reading, the
// server's writes block after a few KiB.
func stallingClient() *http.Client {
	d := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableCompression: true, DisableKeepAlives: true}}
}

// inflight is a response being read at the client's pace.
type inflight struct {
	resp  *http.Response
	first []byte
}

// startDownload reads the status and the first KiB of a download, and
// then stops reading.
func startDownload(t *testing.T, url string) *inflight {
	t.Helper()
	resp, err := stallingClient().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	first := make([]byte, 1024)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	return &inflight{resp: resp, first: first}
}

// finish reads the rest.
func (d *inflight) finish() ([]byte, error) {
	defer d.resp.Body.Close()
	rest, err := io.ReadAll(bufio.NewReader(d.resp.Body))
	return append(d.first, rest...), err
}

// TestWarehouseLimits runs, on both engines and over a published demo
// warehouse, what involves the warehouse: the cap on heavy queries (a
// streamed export holds the only turn; what needs the warehouse waits and
// gets 503, what is cached does not), the cut of a client that stops
// reading, and the graceful shutdown with a download in flight.
func TestWarehouseLimits(t *testing.T) {
	datasetstest.KeepCacheDir(t)
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		// The load caches the files it publishes: into a folder of this
		// engine's (the second engine's load wrote into the first
		// engine's folder, removed by then, and left it behind in the
		// system's temporary folder), and the server starts with an empty
		// cache, so that the downloads below read the warehouse.
		datasets.CacheDir = t.TempDir()
		ctx := datasetstest.Ctx(t)
		datasetstest.Load(t, e)
		if _, err := dashboards.Refresh(ctx, e, dashboards.RefreshOptions{K: datasets.DefaultK}); err != nil {
			t.Fatal(err)
		}
		datasets.CacheDir = t.TempDir()
		// The export streamed from the warehouse (JSON is always an export).
		const export = "/datos/liquidaciones.json"
		ref := serveLive(t, New(e, Options{HeavyQueries: &HeavyQueries{}}))
		resp, whole := ref.get(t, export)
		if resp.StatusCode != http.StatusOK || len(whole) < 256<<10 {
			t.Fatalf("%s: %s, %d bytes (the tests need a download far larger than the socket buffers)", export, resp.Status, len(whole))
		}
		t.Logf("%s: %d bytes", export, len(whole))

		t.Run("heavy query cap", func(t *testing.T) {
			s := New(e, Options{Metrics: prometheus.NewRegistry(), AdminToken: "ficha", HeavyQueries: &HeavyQueries{Max: 1, Wait: 300 * time.Millisecond}})
			l := serveLive(t, s)
			warm := "/graficos/recaudo/mensual.json?municipio=68001"
			if resp, body := l.get(t, warm); resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %s %s", warm, resp.Status, body)
			}
			l.waitMetric(t, "observatorio_consultas_pesadas_en_curso", 0)

			// Take the only turn, as a long query of another request would.
			leave, err := s.gate.enter(ctx)
			if err != nil {
				t.Fatal(err)
			}
			busy := []string{
				"/api/datos/liquidaciones?limite=5",                        // JSON paging
				"/api/3/action/datastore_search?resource_id=pagos-diarios", // CKAN
				"/datos/pagos-diarios.csv?codigo_municipio=68001",          // a filtered export
				"/graficos/recaudo/vigencias.json?municipio=68001",         // a cold chart (dashboards)
				"/gobierno-en-linea/clasificacion",                         // a cold Gobierno en Línea page
				"/datos/liquidaciones",                                     // a dataset page
			}
			for _, p := range busy {
				resp, body := l.get(t, p)
				secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
				if resp.StatusCode != http.StatusServiceUnavailable || err != nil || secs < 1 || !strings.Contains(body, "Intente de nuevo en") {
					t.Errorf("%s with no turn free: %s, Retry-After %q: %.200s", p, resp.Status, resp.Header.Get("Retry-After"), body)
				}
			}
			// What is cached takes no turn; the admin API and the probes
			// do not queue behind the public.
			for _, p := range []string{warm, "/healthz", "/readyz", "/static/graficos.js", "/api/admin/runs"} {
				if resp, body := l.get(t, p, "Authorization", "Bearer ficha"); resp.StatusCode != http.StatusOK {
					t.Errorf("%s while the turn is taken: %s %.200s", p, resp.Status, body)
				}
			}
			if n := l.metric(t, "observatorio_consultas_pesadas_rechazadas_total"); n != float64(len(busy)) {
				t.Errorf("rejections counted: %v, want %d", n, len(busy))
			}
			if n := l.metric(t, "observatorio_consultas_pesadas_en_curso"); n != 1 {
				t.Errorf("turns taken: %v", n)
			}
			leave()
			for _, p := range busy {
				if resp, body := l.get(t, p); resp.StatusCode != http.StatusOK {
					t.Errorf("%s once the turn is free: %s %.200s", p, resp.Status, body)
				}
			}
			l.waitMetric(t, "observatorio_consultas_pesadas_en_curso", 0)

			// A streamed export holds its turn until the warehouse has
			// written its last byte. On the server engine that is at the
			// client's pace. The embedded engine streams in blocks of
			// 65.536 rows and the export buffers a few of them, so the
			// demo's export leaves the warehouse at once and gives its turn
			// back while the client is still reading.
			if e.Kind() != "server" {
				return
			}
			d := startDownload(t, l.base+export)
			l.waitMetric(t, "observatorio_consultas_pesadas_en_curso", 1)
			if resp, _ := l.get(t, busy[0]); resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("%s while an export streams: %s", busy[0], resp.Status)
			}
			got, err := d.finish()
			if err != nil || !bytes.Equal(got, []byte(whole)) {
				t.Fatalf("the download holding the turn: %d bytes, %v", len(got), err)
			}
			l.waitMetric(t, "observatorio_consultas_pesadas_en_curso", 0)
		})

		t.Run("a client that stops reading is cut", func(t *testing.T) {
			s := New(e, Options{Metrics: prometheus.NewRegistry(), HeavyQueries: &HeavyQueries{Max: 1, Wait: 300 * time.Millisecond}})
			s.writeStall = 500 * time.Millisecond
			l := serveLive(t, s)
			d := startDownload(t, l.base+export)
			// The stalled write times out and the handler returns (its
			// export stopped, its turn given back) with the client still
			// connected.
			for deadline := time.Now().Add(30 * time.Second); s.active.Load() > 0; {
				if time.Now().After(deadline) {
					t.Fatal("the handler of a stalled download is still running")
				}
				time.Sleep(20 * time.Millisecond)
			}
			l.waitMetric(t, "observatorio_consultas_pesadas_en_curso", 0)
			if resp, _ := l.get(t, "/api/datos/liquidaciones?limite=5"); resp.StatusCode != http.StatusOK {
				t.Errorf("after the cut: %s", resp.Status)
			}
			if got, err := d.finish(); err == nil || len(got) >= len(whole) {
				t.Errorf("the stalled download was not cut: %d of %d bytes, %v", len(got), len(whole), err)
			}
		})

		t.Run("shutdown: a download that fits the grace finishes", func(t *testing.T) {
			s := New(e, Options{Metrics: prometheus.NewRegistry(), ShutdownGrace: 20 * time.Second})
			l := serveLive(t, s)
			d := startDownload(t, l.base+export)
			start := time.Now()
			l.stop()
			// New connections are refused once the shutdown begins.
			for deadline := time.Now().Add(5 * time.Second); ; {
				c, err := net.Dial("tcp", l.addr)
				if err != nil {
					break
				}
				c.Close()
				if time.Now().After(deadline) {
					t.Fatal("the server still accepts connections while stopping")
				}
				time.Sleep(10 * time.Millisecond)
			}
			select {
			case err := <-l.done:
				t.Fatalf("Serve returned (%v) with a download in flight", err)
			default:
			}
			got, err := d.finish()
			if err != nil || !bytes.Equal(got, []byte(whole)) {
				t.Fatalf("download during shutdown: %d of %d bytes, %v", len(got), len(whole), err)
			}
			err = <-l.done
			l.done <- err // for the cleanup
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("Serve volvió %s después de la señal, al terminar la descarga", time.Since(start).Round(time.Millisecond))
			if took := time.Since(start); took >= s.opts.ShutdownGrace {
				t.Errorf("Serve waited %s, the whole grace", took)
			}
		})

		t.Run("shutdown: a download longer than the grace is cut", func(t *testing.T) {
			s := New(e, Options{Metrics: prometheus.NewRegistry(), ShutdownGrace: time.Second})
			l := serveLive(t, s)
			d := startDownload(t, l.base+export)
			start := time.Now()
			l.stop()
			err := <-l.done
			took := time.Since(start)
			l.done <- err
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("Serve volvió %s después de la señal (plazo %s)", took.Round(time.Millisecond), s.opts.ShutdownGrace)
			if took < s.opts.ShutdownGrace || took > s.opts.ShutdownGrace+closeDrain+time.Second {
				t.Errorf("Serve returned after %s; grace %s", took, s.opts.ShutdownGrace)
			}
			if n := s.active.Load(); n != 0 {
				t.Errorf("%d handlers still running after Serve returned", n)
			}
			if got, err := d.finish(); err == nil || len(got) >= len(whole) {
				t.Errorf("the download past the grace was not cut: %d of %d bytes, %v", len(got), len(whole), err)
			}
		})
	})
}
