package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/config"
	"github.com/observatorio-civico/observatorio/etl/demo"
	"github.com/observatorio-civico/observatorio/stale"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/chserver"
)

// The fault tests run the real binary on realistic sources (`observatory
// demo generate`, whose manifest says exactly how many good and bad rows
// each file has) and break things the way production breaks them: the
// ClickHouse server is killed under load, the observatory process is
// killed in the middle of its ETL run and of downloads. Afterwards the
// warehouse must hold exactly what the sources hold, and the site must
// serve again without anybody touching it.

// demoScale keeps the sources small enough for a test (about 31,000 rows,
// 5.6 MB) and the load long enough (several seconds) to be killed in.
const demoScale = "0.05"

// demoSources writes the demo's source files and job configuration into
// dir/demo and returns their manifest; env gets the configuration and a
// local file cache of its own.
func demoSources(t *testing.T, dir string, env []string) (*demo.Manifest, []string) {
	t.Helper()
	if code, stderr := runBinary(t, dir, env, "demo", "generate", "--out", "demo", "--scale", demoScale); code != 0 {
		t.Fatalf("demo generate: %d %s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "demo", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man demo.Manifest
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	man.Config = filepath.Join(dir, "demo", man.Config) // relative to the folder
	// The tests' clients all come from 127.0.0.1, one address hammering the
	// site: the per-client rate limits (tested in server/limits_test.go)
	// would answer 429 to what these tests need to see served.
	f, err := os.OpenFile(man.Config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\nhttp:\n  rate_limits:\n    pages: {rate: 0}\n    data: {rate: 0}\n    downloads: {rate: 0}\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return &man, append(env, "OBSERVATORIO_CONFIG="+filepath.Join(dir, "demo", "observatorio.yaml"),
		"OBSERVATORIO_DATOS_CACHE="+filepath.Join(dir, "copias-locales"))
}

// served is one `observatory serve` process.
type served struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	log  *syncBuffer
	done chan struct{}
}

// serveBinary starts `observatory serve` (killed at the end of the test
// if still running).
func serveBinary(t *testing.T, dir string, env []string) *served {
	t.Helper()
	addr := freeAddr(t)
	s := &served{t: t, base: "http://" + addr, log: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(binary, "serve")
	s.cmd.Dir, s.cmd.Env = dir, append(env, "OBSERVATORIO_HTTP_ADDR="+addr)
	s.cmd.Stderr = s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("registro de serve (%s):\n%s", s.base, s.log.tail(60))
			// FALLOS_LOG=file keeps the whole log of a failed run.
			if p := os.Getenv("FALLOS_LOG"); p != "" {
				os.WriteFile(p, []byte(s.log.String()), 0o644)
			}
		}
	})
	return s
}

func (s *served) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// kill is a crash: SIGKILL, nothing runs after it.
func (s *served) kill() {
	if !s.exited() {
		s.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-s.done
}

// stop is a normal stop (SIGTERM).
func (s *served) stop() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.t.Error("serve did not stop within 30 s of SIGTERM")
		s.kill()
	}
}

// ready waits for /readyz 200 (in demo mode the pending ETL jobs run
// before the site opens, so it also means that the load is over).
func (s *served) ready(within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) && !s.exited() {
		if resp, err := http.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// waitLog waits until the process's log satisfies cond (or it exits).
func (s *served) waitLog(cond func(log string) bool, within time.Duration) {
	deadline := time.Now().Add(within)
	for !cond(s.log.String()) && time.Now().Before(deadline) && !s.exited() {
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a log written by a process and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// checkAgainstSources opens the warehouse (the binary has stopped, or it
// is a server) and compares it with the manifest: every good row of the
// sources once, physically once (nothing left of an interrupted load),
// every bad row in quarantine once, every job committed.
func checkAgainstSources(t *testing.T, cfg warehouse.Config, man *demo.Manifest) {
	t.Helper()
	ctx := context.Background()
	e, err := warehouse.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	count := func(sql string) int64 {
		res, err := e.Query(ctx, sql)
		if err != nil {
			t.Fatal(err)
		}
		return int64(res.Rows[0][0].(uint64))
	}
	for _, c := range []struct {
		table string
		want  int64
	}{{"liquidations", man.Totals.Liquidations}, {"payments", man.Totals.Payments}, {"quarantine", man.Totals.Rejected}} {
		if n := count("SELECT count() FROM " + c.table + " FINAL"); n != c.want {
			t.Errorf("%s: %d filas (FINAL), las fuentes tienen %d", c.table, n, c.want)
		}
		if n := count("SELECT count() FROM " + c.table); n != c.want {
			t.Errorf("%s: %d copias físicas para %d filas: quedó algo de una carga interrumpida", c.table, n, c.want)
		}
	}
	cfgFile, err := config.Load(man.Config)
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[string]bool{}
	for _, j := range cfgFile.ETL.Jobs {
		jobs[j.Name] = true
	}
	res, err := e.Query(ctx, "SELECT DISTINCT job FROM etl_runs WHERE status = 'committed'")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rows {
		delete(jobs, r[0].(string))
	}
	if len(jobs) > 0 {
		t.Errorf("trabajos sin ejecución confirmada: %v", jobs)
	}
}

// release is a dataset's latest release as /datos/{id}/versiones says.
type release struct {
	Version  uint32 `json:"version"`
	Filas    uint64 `json:"filas"`
	Archivos []struct {
		Name   string `json:"nombre"`
		SHA256 string `json:"sha256"`
	} `json:"archivos"`
}

func latestRelease(t *testing.T, base, id string) release {
	t.Helper()
	var out struct {
		Versiones []release `json:"versiones"`
	}
	if err := json.Unmarshal([]byte(get(t, base+"/datos/"+id+"/versiones", "application/json")), &out); err != nil || len(out.Versiones) == 0 {
		t.Fatalf("versiones de %s: %v", id, err)
	}
	return out.Versiones[0]
}

func (r release) sum(name string) string {
	for _, f := range r.Archivos {
		if f.Name == name {
			return f.SHA256
		}
	}
	return ""
}

// checkDownloads downloads the record-level dataset whole (its published
// SHA-256), filtered (the rows of one municipality, as in the whole file)
// and as JSON (every row), and an aggregate whole.
func checkDownloads(t *testing.T, base string) release {
	t.Helper()
	rel := latestRelease(t, base, "liquidaciones")
	whole := get(t, base+"/datos/liquidaciones.csv", "text/csv")
	if s := sha256.Sum256([]byte(whole)); hex.EncodeToString(s[:]) != rel.sum("liquidaciones.csv") {
		t.Fatalf("liquidaciones.csv no tiene la suma publicada en la versión %d", rel.Version)
	}
	recs, err := csv.NewReader(strings.NewReader(whole)).ReadAll()
	if err != nil || uint64(len(recs)-1) != rel.Filas {
		t.Fatalf("liquidaciones.csv: %v, %d filas de %d", err, len(recs)-1, rel.Filas)
	}
	col := -1
	for i, c := range recs[0] {
		if c == "codigo_municipio" {
			col = i
		}
	}
	want := 0
	for _, r := range recs[1:] {
		if r[col] == "68001" {
			want++
		}
	}
	filtered, err := csv.NewReader(strings.NewReader(get(t, base+"/datos/liquidaciones.csv?codigo_municipio=68001", "text/csv"))).ReadAll()
	if err != nil || len(filtered)-1 != want || want == 0 {
		t.Fatalf("export filtrado: %v, %d filas, el archivo completo tiene %d de 68001", err, len(filtered)-1, want)
	}
	var rows []json.RawMessage
	if err := json.Unmarshal([]byte(get(t, base+"/datos/liquidaciones.json", "application/json")), &rows); err != nil || uint64(len(rows)) != rel.Filas {
		t.Fatalf("liquidaciones.json: %v, %d filas de %d", err, len(rows), rel.Filas)
	}
	agg := latestRelease(t, base, "pagos-diarios")
	body := get(t, base+"/datos/pagos-diarios.csv", "text/csv")
	if s := sha256.Sum256([]byte(body)); hex.EncodeToString(s[:]) != agg.sum("pagos-diarios.csv") {
		t.Fatalf("pagos-diarios.csv no tiene la suma publicada")
	}
	return rel
}

// checkLocalCopies: every file of the node's local cache named by a hash
// has that hash (an interrupted fill never leaves a wrong file in place).
func checkLocalCopies(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || len(d.Name()) != 64 {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
			return nil
		}
		if s := sha256.Sum256(b); hex.EncodeToString(s[:]) != d.Name() {
			t.Errorf("copia local %s con otro contenido", p)
		}
		n++
		return nil
	})
	return n
}

// slowClient reads through a 4 KiB socket buffer, so that a download
// stays in flight on the server (blocked writing) while the client holds
// it.
func slowClient() *http.Client {
	d := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); err != nil {
			return err
		}
		return serr
	}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableCompression: true, DisableKeepAlives: true}}
}

// TestObservatoryKilled kills `observatory serve` during the ETL run it
// makes at start-up (several times, at different moments) and then during
// downloads in flight, and restarts it on the same data each time: the
// warehouse ends with exactly the sources' rows, nothing half-loaded, and
// downloads work again with the published checksums, on both engines.
func TestObservatoryKilled(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		dir := t.TempDir()
		killObservatory(t, dir, embeddedSetup(t, dir))
	})
	t.Run("server", func(t *testing.T) {
		srv := chserver.Start(t, chserver.Options{Name: "fallos"})
		killObservatory(t, t.TempDir(), serverSetup(srv))
	})
}

func killObservatory(t *testing.T, dir string, eng engineSetup) {
	man, env := demoSources(t, dir, eng.env)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 8))

	// 1. Kills during the start-up load (in demo mode the jobs that never
	// committed run before the site opens): in the middle of a job, right
	// after a job commits (the next job starting, the commit's
	// consolidation and publication), and at a random moment (start-up,
	// migrations, anything).
	const loading = "cargando trabajos que nunca se han ejecutado"
	committed := regexp.MustCompile(`msg="[a-z-]+: committed`)
	jobName := regexp.MustCompile(`msg="([a-z-]+): committed`)
	pendingAtFirst := regexp.MustCompile(loading + `" trabajos=(\d+)`)
	duringETL, jobs := 0, 0
	done := map[string]bool{} // jobs committed by the killed starts
	for i := 0; i < 3; i++ {
		s := serveBinary(t, dir, env)
		start := time.Now()
		switch i {
		case 0:
			s.waitLog(func(l string) bool { return strings.Contains(l, loading) }, time.Minute)
			time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		case 1:
			s.waitLog(func(l string) bool {
				_, after, ok := strings.Cut(l, loading)
				return ok && committed.MatchString(after)
			}, time.Minute)
		default:
			time.Sleep(time.Duration(200+rng.IntN(3000)) * time.Millisecond)
		}
		log := s.log.String()
		for _, m := range jobName.FindAllStringSubmatch(log, -1) {
			done[m[1]] = true
		}
		if m := pendingAtFirst.FindStringSubmatch(log); m != nil && jobs == 0 {
			jobs, _ = strconv.Atoi(m[1])
		}
		inETL := strings.Contains(log, loading) && !strings.Contains(log, "observatorio en servicio")
		s.kill()
		if inETL {
			duringETL++
		}
		_, after, _ := strings.Cut(log, loading)
		t.Logf("serve matado a los %v (%s; %d trabajos confirmados en ese arranque)", time.Since(start).Round(time.Millisecond),
			map[bool]string{true: "durante el ETL", false: "fuera del ETL"}[inETL], len(committed.FindAllString(after, -1)))
	}
	if duringETL == 0 {
		t.Fatal("ningún proceso fue matado durante el ETL: la prueba no probó nada")
	}

	// 2. A start that finishes the load.
	s := serveBinary(t, dir, env)
	if !s.ready(3 * time.Minute) {
		t.Fatalf("serve no quedó listo tras las caídas")
	}
	// A kill during the publication that follows the last job (the load
	// is faster than the random kill) leaves no job pending; any earlier
	// kill in the load must leave work for this start.
	if !strings.Contains(s.log.String(), loading) && len(done) < jobs {
		t.Errorf("el último arranque no tenía trabajos pendientes, pero solo %d de %d trabajos se habían confirmado", len(done), jobs)
	}
	if jobs == 0 {
		t.Error("no se vio la carga inicial de los trabajos pendientes")
	}
	before := checkDownloads(t, s.base)

	// 3. Downloads in flight when the process dies: each either arrives
	// whole (the kernel may still send what was in the socket's buffer;
	// whole means the same bytes as after the restart) or ends in an
	// error the client sees (Content-Length or chunked framing), never as
	// a silently short file.
	paths := []string{"/datos/liquidaciones.json", "/datos/liquidaciones.csv?codigo_municipio=68001", "/datos/liquidaciones.csv",
		"/datos/liquidaciones.excel.csv", fmt.Sprintf("/datos/liquidaciones/versiones/%d/liquidaciones.csv", before.Version)}
	type result struct {
		path string
		n    int64
		sum  string
		err  error
	}
	results := make(chan result, len(paths))
	started := make(chan struct{}, len(paths))
	hold := make(chan struct{})
	cl := slowClient()
	for _, p := range paths {
		go func() {
			resp, err := cl.Get(s.base + p)
			if err != nil {
				started <- struct{}{}
				results <- result{p, 0, "", err}
				return
			}
			defer resp.Body.Close()
			h := sha256.New()
			n, err := io.CopyN(h, resp.Body, 8192)
			started <- struct{}{}
			if err != nil {
				results <- result{p, n, "", fmt.Errorf("primer bloque: %w (estado %d)", err, resp.StatusCode)}
				return
			}
			<-hold
			rest, err := io.Copy(h, resp.Body)
			results <- result{p, n + rest, hex.EncodeToString(h.Sum(nil)), err}
		}()
	}
	for range paths {
		<-started
	}
	s.kill()
	close(hold)
	inFlight := make([]result, 0, len(paths))
	for range paths {
		inFlight = append(inFlight, <-results)
	}

	// 4. Restarted on the same data: the same release, whole again.
	s = serveBinary(t, dir, env)
	if !s.ready(2 * time.Minute) {
		t.Fatalf("serve no volvió a estar listo tras la caída con descargas en curso")
	}
	cut := 0
	for _, r := range inFlight {
		sum := sha256.Sum256([]byte(get(t, s.base+r.path, "")))
		switch {
		case r.err != nil:
			cut++
			t.Logf("%s: cortada a los %d bytes: %v", r.path, r.n, r.err)
		case r.sum != hex.EncodeToString(sum[:]):
			t.Errorf("%s: terminó sin error con %d bytes que no son los de la descarga entera: el cliente no puede saber que está incompleta", r.path, r.n)
		default:
			t.Logf("%s: llegó entera (%d bytes, los mismos que tras el reinicio) pese a la caída", r.path, r.n)
		}
	}
	if cut == 0 {
		t.Error("ninguna descarga quedó cortada: la prueba no probó nada")
	}
	after := checkDownloads(t, s.base)
	if after.Version != before.Version || after.sum("liquidaciones.csv") != before.sum("liquidaciones.csv") {
		t.Errorf("el reinicio cambió la versión publicada: %d → %d", before.Version, after.Version)
		diff := get(t, fmt.Sprintf("%s/datos/liquidaciones/diferencias?desde=%d&hasta=%d", s.base, before.Version, after.Version), "")
		if len(diff) > 3000 {
			diff = diff[:3000]
		}
		t.Logf("diferencias entre las versiones:\n%s", diff)
	}
	s.stop()
	if n := checkLocalCopies(t, filepath.Join(dir, "copias-locales")); n == 0 {
		t.Error("no hay copias locales de los archivos publicados")
	}
	checkAgainstSources(t, eng.cfg(), man)
}

// hit is one response seen by the load of TestWarehouseKilledUnderLoad.
type hit struct {
	at, end time.Time // request sent, response read
	path    string
	status  int
	stale   bool // X-Observatorio-Datos: en-cache
	warning bool
	notice  bool // the Spanish notice on an HTML page
	retry   string
	noStore bool
	html    bool
	err     error
}

// TestWarehouseKilledUnderLoad kills the ClickHouse server (SIGKILL) under
// `observatory serve` while clients load pages, charts and downloads, and
// brings it back on the same data and ports: no 500 ever; what was served
// before is served during the outage, marked stale (notice, Warning,
// no-store); what has no copy is a 503 with Retry-After; /healthz stays
// 200, /readyz is 503 then 200; fresh data come back without a restart of
// the observatory; and the warehouse still matches the sources.
func TestWarehouseKilledUnderLoad(t *testing.T) {
	srv := chserver.Start(t, chserver.Options{Name: "caida"})
	eng := serverSetup(srv)
	dir := t.TempDir()
	man, env := demoSources(t, dir, eng.env)
	s := serveBinary(t, dir, env)
	if !s.ready(3 * time.Minute) {
		t.Fatal("serve no quedó listo")
	}
	base := s.base

	// The URLs a visitor meets, all fetched once (they are then cached).
	warm := []string{"/", "/datos", "/datos/liquidaciones", "/datos/pagos-diarios", "/data.json", "/datos/liquidaciones/versiones",
		"/datos/liquidaciones.csv", "/datos/pagos-diarios.csv", "/datos/recaudo-mensual.excel.csv",
		"/gobierno-en-linea", "/gobierno-en-linea/entidades/25151", "/gobierno-en-linea/clasificacion",
		"/tableros/municipios.json?q=bucar", "/graficos/recaudo-mensual.json", "/tableros/recaudo?municipio=68001"}
	chartRe := regexp.MustCompile(`data-grafico="(/graficos/[^"]+)"`)
	for _, d := range []string{"recaudo", "canales", "cartera", "verificacion", "presupuesto", "gobierno-en-linea", "observatorio"} {
		page := get(t, base+"/tableros/"+d, "text/html")
		warm = append(warm, "/tableros/"+d)
		for _, m := range chartRe.FindAllStringSubmatch(page, -1) {
			u := strings.ReplaceAll(m[1], "&amp;", "&")
			warm = append(warm, u, strings.Replace(u, ".json", ".csv", 1))
		}
	}
	for _, p := range warm {
		get(t, base+p, "")
	}
	// What no cache can answer: exports and API pages read the warehouse;
	// selections never shown before may be built from cached parts.
	uncached := []string{"/datos/liquidaciones.csv?codigo_municipio=18001", "/api/datos/liquidaciones?limite=5",
		"/api/3/action/datastore_search?resource_id=pagos-diarios&limit=3"}
	cold := []string{"/tableros/canales?municipio=18001&anio=2019", "/tableros/cartera?municipio=25151", "/tableros/verificacion?municipio=18001"}
	warmSet := map[string]bool{}
	for _, p := range warm {
		warmSet[p] = true
	}
	t.Logf("%d direcciones servidas antes de la caída, %d sin copia posible, %d selecciones nunca vistas", len(warmSet), len(uncached), len(cold))

	var mu sync.Mutex
	var hits []hit
	var sampleNotice string
	noticeRe := regexp.MustCompile(`<p class="aviso aviso-cache"[^>]*>[^<]*</p>`)
	record := func(h hit) {
		mu.Lock()
		hits = append(hits, h)
		mu.Unlock()
	}
	fetch := func(cl *http.Client, p string) {
		h := hit{at: time.Now(), path: p}
		resp, err := cl.Get(base + p)
		if err != nil {
			h.err, h.end = err, time.Now()
			record(h)
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		h.end = time.Now()
		h.status, h.err = resp.StatusCode, err
		h.stale = resp.Header.Get(stale.DataHeader) == stale.Cached
		h.warning = resp.Header.Get("Warning") == stale.Warning
		h.noStore = resp.Header.Get("Cache-Control") == "no-store"
		h.retry = resp.Header.Get("Retry-After")
		h.html = strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html")
		h.notice = bytes.Contains(b, []byte("Datos en caché: el almacén de datos no responde; cifras al "))
		if h.notice {
			mu.Lock()
			if sampleNotice == "" {
				sampleNotice = p + ": " + noticeRe.FindString(string(b))
			}
			mu.Unlock()
		}
		record(h)
	}
	// Probes of /healthz and /readyz every 100 ms.
	type probe struct {
		at              time.Time
		health, readyz  int
		healthErr, rErr error
	}
	var probes []probe
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		cl := &http.Client{Timeout: 5 * time.Second}
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			p := probe{at: time.Now()}
			if r, err := cl.Get(base + "/healthz"); err == nil {
				p.health = r.StatusCode
				r.Body.Close()
			} else {
				p.healthErr = err
			}
			if r, err := cl.Get(base + "/readyz"); err == nil {
				p.readyz = r.StatusCode
				r.Body.Close()
			} else {
				p.rErr = err
			}
			mu.Lock()
			probes = append(probes, p)
			mu.Unlock()
		}
	}()
	// The load: 8 clients (a 2-core machine) over the warm URLs, and from
	// the kill on also the uncached ones and the cold selections.
	all := append(append(append([]string{}, warm...), uncached...), cold...)
	var outage atomic.Bool
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := &http.Client{Timeout: 30 * time.Second}
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := all[i%len(all)]
				if !warmSet[p] && !outage.Load() {
					continue // before the kill, only what was served: all of it fresh
				}
				fetch(cl, p)
			}
		}()
	}
	time.Sleep(2 * time.Second)
	outage.Store(true)
	killed := time.Now()
	srv.Kill()
	time.Sleep(6 * time.Second)
	outageEnd := time.Now()
	srv.Restart(t)
	back := time.Now() // ClickHouse answers again (Restart waits for it)
	time.Sleep(6 * time.Second)
	close(stop)
	wg.Wait()

	// Every URL once more, after the load: everything fresh and whole.
	for _, p := range all {
		fetch(http.DefaultClient, p)
	}
	final := hits[len(hits)-len(all):]

	// Checks.
	var total, staleN, n503, n500, errs, before, during, after int
	var firstFresh, lastStale time.Time
	for _, h := range hits {
		total++
		switch {
		case h.err != nil:
			errs++
			t.Errorf("%s: %v", h.path, h.err)
			continue
		case h.status == http.StatusInternalServerError:
			n500++
			t.Errorf("%s: 500 a los %v de la caída", h.path, h.at.Sub(killed).Round(time.Millisecond))
		case h.status == http.StatusServiceUnavailable:
			n503++
			if h.retry == "" {
				t.Errorf("%s: 503 sin Retry-After", h.path)
			}
		case h.status != http.StatusOK:
			t.Errorf("%s: %d", h.path, h.status)
		}
		if h.stale {
			staleN++
			if !h.warning || !h.noStore || (h.html && !h.notice) {
				t.Errorf("%s: marcada en caché sin Warning, no-store o aviso (%+v)", h.path, h)
			}
			if h.at.After(lastStale) {
				lastStale = h.at
			}
		}
		// Requests in flight at the kill or at the return may go either
		// way; the others must be what their phase says.
		switch {
		case h.end.Before(killed):
			before++
			if h.status != http.StatusOK || h.stale {
				t.Errorf("%s antes de la caída: %d, en caché %v", h.path, h.status, h.stale)
			}
		case h.at.After(killed.Add(500*time.Millisecond)) && h.end.Before(outageEnd):
			during++
			if warmSet[h.path] && (h.status != http.StatusOK || !h.stale) {
				t.Errorf("%s durante la caída: %d, en caché %v (ya se había servido: debe salir de la memoria, marcada)", h.path, h.status, h.stale)
			}
			if h.status == http.StatusOK && !h.stale {
				t.Errorf("%s durante la caída: 200 sin marca de caché", h.path)
			}
		case h.at.After(back):
			after++
			if h.status == http.StatusOK && !h.stale && firstFresh.IsZero() {
				firstFresh = h.at
			}
		}
	}
	for _, h := range final {
		if h.status != http.StatusOK || h.stale {
			t.Errorf("%s después de la recuperación: %d, en caché %v", h.path, h.status, h.stale)
		}
	}
	var ready503, readyBack time.Time
	for _, p := range probes {
		if p.healthErr != nil || p.health != http.StatusOK {
			t.Errorf("/healthz a los %v de la caída: %d %v", p.at.Sub(killed).Round(time.Millisecond), p.health, p.healthErr)
		}
		if p.at.After(killed) && p.readyz == http.StatusServiceUnavailable && ready503.IsZero() {
			ready503 = p.at
		}
		if p.at.After(back) && p.readyz == http.StatusOK && readyBack.IsZero() {
			readyBack = p.at
		}
	}
	if ready503.IsZero() || ready503.After(outageEnd) {
		t.Error("/readyz no respondió 503 durante la caída")
	}
	if readyBack.IsZero() {
		t.Error("/readyz no volvió a 200")
	}
	if during == 0 || after == 0 {
		t.Fatalf("sin carga durante la caída (%d) o después (%d)", during, after)
	}
	if !lastStale.Before(back.Add(5 * time.Second)) {
		t.Errorf("respuestas en caché hasta %v después de que ClickHouse volvió", lastStale.Sub(back))
	}
	t.Logf("CIFRAS: %d respuestas (%d antes, %d durante la caída de %v, %d después); %d servidas en caché, %d 503 con Retry-After, %d errores 500, %d errores de red; "+
		"/readyz 503 a los %v de matar ClickHouse; ClickHouse reiniciado (mismos datos y puertos) en %v; tras volver: /readyz 200 a los %v, primera respuesta fresca a los %v, última en caché a los %v",
		total, before, during, outageEnd.Sub(killed).Round(time.Millisecond), after, staleN, n503, n500, errs,
		ready503.Sub(killed).Round(time.Millisecond), back.Sub(outageEnd).Round(time.Millisecond), readyBack.Sub(back).Round(time.Millisecond),
		firstFresh.Sub(back).Round(time.Millisecond), lastStale.Sub(back).Round(time.Millisecond))
	t.Logf("aviso en %s", sampleNotice)
	perPath := map[string]string{}
	for _, h := range hits {
		if h.at.After(killed.Add(500*time.Millisecond)) && h.end.Before(outageEnd) && !warmSet[h.path] {
			perPath[h.path] = fmt.Sprintf("%d en caché=%v", h.status, h.stale)
		}
	}
	keys := make([]string, 0, len(perPath))
	for k := range perPath {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("sin copia previa, durante la caída: %s → %s", k, perPath[k])
	}

	s.stop()
	checkAgainstSources(t, eng.cfg(), man)
}
