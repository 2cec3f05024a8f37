package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/observatorio-civico/observatorio/config"
	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/chserver"
)

// The binary is built once and run as a subprocess: that is how an operator
// meets it, and chDB's one-library-per-process rule makes a fresh process
// the only way to test a missing library.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "observatory-bin-*")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "observatory")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func chdbLib(t *testing.T) string {
	lib, err := warehouse.FindLibrary(os.Getenv("OBSERVATORIO_CHDB_LIB"))
	if err != nil {
		t.Fatal(err)
	}
	return lib
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// cleanEnv is the process environment without the observatory's variables.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OBSERVATORIO_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// serverEnv is base with the variables that point the binary at a test
// ClickHouse server's database db.
func serverEnv(base []string, srv *chserver.Server, db string) []string {
	return append(append([]string{}, base...), "OBSERVATORIO_CLICKHOUSE_ADDR="+srv.Addr(), "OBSERVATORIO_CLICKHOUSE_HTTP_ADDR="+srv.HTTPAddr(),
		"OBSERVATORIO_CLICKHOUSE_USER="+srv.User(), "OBSERVATORIO_CLICKHOUSE_PASSWORD="+srv.Password(), "OBSERVATORIO_DATABASE="+db)
}

// openServer opens, from the test, the database db of a test server the
// binary uses.
func openServer(t *testing.T, srv *chserver.Server, db string) warehouse.Engine {
	t.Helper()
	e, err := warehouse.Open(context.Background(), warehouse.Config{Database: db, Server: warehouse.ServerConfig{
		Addrs: []string{srv.Addr()}, HTTPAddrs: []string{srv.HTTPAddr()}, User: srv.User(), Password: srv.Password()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// runBinary runs the binary to completion and returns exit code and stderr.
func runBinary(t *testing.T, dir string, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stderr.String()
}

func TestBadConfigurationFailsWithOneLine(t *testing.T) {
	dir := t.TempDir()
	readOnly := filepath.Join(dir, "solo-lectura")
	os.Mkdir(readOnly, 0o555)
	cases := []struct {
		name string
		env  []string
		want string
	}{
		{"missing library", []string{"OBSERVATORIO_CHDB_LIB=" + filepath.Join(dir, "no-existe", "libchdb.so"), "OBSERVATORIO_DATA_DIR=" + filepath.Join(dir, "datos")}, "make deps"},
		{"unreachable server", []string{"OBSERVATORIO_CLICKHOUSE_ADDR=127.0.0.1:1"}, "no se pudo conectar con ClickHouse en 127.0.0.1:1"},
		{"unwritable data directory", []string{"OBSERVATORIO_CHDB_LIB=" + chdbLib(t), "OBSERVATORIO_DATA_DIR=" + filepath.Join(readOnly, "datos")}, "no se puede crear"},
		// The operator's own allocator options reach the library; this one
		// made it abort (SIGABRT) as it loaded.
		{"allocator option that aborts the library", []string{"OBSERVATORIO_CHDB_LIB=" + chdbLib(t), "OBSERVATORIO_DATA_DIR=" + filepath.Join(dir, "datos-jemalloc"), "JE_MALLOC_CONF=dirty_decay_ms:1000,background_thread:true"}, "background_thread:true"},
		{"unknown config key", []string{"OBSERVATORIO_CONFIG=" + writeFile(t, dir, "malo.yaml", "warehouse:\n  servidor: {}\n")}, "servidor"},
	}
	if os.Geteuid() == 0 {
		// root writes anywhere: use a path under a regular file instead.
		f := writeFile(t, dir, "archivo", "x")
		cases[2].env[1] = "OBSERVATORIO_DATA_DIR=" + filepath.Join(f, "datos")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stderr := runBinary(t, dir, cleanEnv(c.env...), "migrate")
			if code == 0 {
				t.Fatalf("exit 0; stderr: %s", stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			last := lines[len(lines)-1]
			if len(lines) != 1 || !strings.HasPrefix(last, "observatory: ") || !strings.Contains(last, c.want) {
				t.Fatalf("stderr is not one line naming the problem (%q):\n%s", c.want, stderr)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWalkingSkeleton runs `observatory serve --demo` on each engine and
// reads the home page, its chart and its CSV over real HTTP.
func TestWalkingSkeleton(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		dir := t.TempDir()
		skeleton(t, dir, cleanEnv("OBSERVATORIO_CHDB_LIB="+chdbLib(t), "OBSERVATORIO_DATA_DIR="+filepath.Join(dir, "almacen")))
		// The data directory persists: a second start finds the data and
		// does not load the demo again.
		skeleton(t, dir, cleanEnv("OBSERVATORIO_CHDB_LIB="+chdbLib(t), "OBSERVATORIO_DATA_DIR="+filepath.Join(dir, "almacen")))
	})
	t.Run("server", func(t *testing.T) {
		srv := chserver.Start(t, chserver.Options{Name: "esqueleto", User: "observatorio", Password: "clave-de-prueba"})
		skeleton(t, t.TempDir(), cleanEnv(
			"OBSERVATORIO_CLICKHOUSE_ADDR="+srv.Addr(),
			"OBSERVATORIO_CLICKHOUSE_HTTP_ADDR="+srv.HTTPAddr(),
			"OBSERVATORIO_CLICKHOUSE_USER="+srv.User(),
			"OBSERVATORIO_CLICKHOUSE_PASSWORD="+srv.Password(),
		))
	})
}

func skeleton(t *testing.T, dir string, env []string) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary, "serve", "--demo")
	cmd.Dir = dir
	cmd.Env = append(env, "OBSERVATORIO_HTTP_ADDR="+addr)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	logDone := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
		}
		close(logDone)
	}()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve did not exit cleanly on SIGTERM: %v", err)
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Error("serve did not stop within 30 s of SIGTERM")
		}
		<-logDone
		if t.Failed() {
			t.Logf("serve log:\n%s", log.String())
		}
	}()
	base := "http://" + addr
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 90 s")
		}
		time.Sleep(200 * time.Millisecond)
	}

	home := get(t, base+"/", "text/html")
	for _, want := range []string{`lang="es-CO"`, "Recaudo mensual por municipio", "5.100</strong> liquidaciones", "Datos de demostración",
		`data-grafico="/graficos/recaudo-mensual.json"`, `href="/datos/recaudo-mensual.csv"`, "Bucaramanga (68001)"} {
		if !strings.Contains(home, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	if strings.Contains(home, "<script>") {
		t.Error("home page has an inline script")
	}
	option := get(t, base+"/graficos/recaudo-mensual.json", "application/json")
	if !strings.Contains(option, `"aria"`) || !strings.Contains(option, "Cáqueza") {
		t.Errorf("chart option: %.300s", option)
	}
	body := get(t, base+"/datos/recaudo-mensual.csv", "text/csv")
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	if !strings.HasPrefix(strings.Join(recs[0], ","), "mes,codigo_municipio,municipio,impuesto,pagos,recaudo") || len(recs) < 100 {
		t.Fatalf("CSV header %v, %d rows", recs[0], len(recs))
	}
	// The Gobierno en Línea tracker answers with the demo's Cáqueza.
	gelPage := get(t, base+"/gobierno-en-linea/entidades/25151", "text/html")
	if !strings.Contains(gelPage, "Cáqueza") || !strings.Contains(gelPage, "Información") {
		t.Errorf("GEL page for Cáqueza: %.300s", gelPage)
	}
	// Every dashboard page answers.
	for _, d := range []string{"recaudo", "canales", "cartera", "verificacion", "presupuesto", "gobierno-en-linea", "observatorio"} {
		get(t, base+"/tableros/"+d, "text/html")
	}
}

func get(t *testing.T, url, wantType string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	if wantType != "" && !strings.HasPrefix(resp.Header.Get("Content-Type"), wantType) {
		t.Fatalf("GET %s: Content-Type %q", url, resp.Header.Get("Content-Type"))
	}
	return string(b)
}

// TestComposeFile reads docker-compose.yml: no Docker engine runs here, so
// this checks what can be checked by reading: pinned images, a volume and a
// healthcheck for ClickHouse, and only environment variables the
// observatory knows.
func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       any               `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
			Healthcheck map[string]any    `yaml:"healthcheck"`
			Command     []string          `yaml:"command"`
			StopGrace   string            `yaml:"stop_grace_period"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	ch, obs := compose.Services["clickhouse"], compose.Services["observatory"]
	if !strings.HasPrefix(ch.Image, "clickhouse/clickhouse-server:") || strings.HasSuffix(ch.Image, ":latest") {
		t.Errorf("clickhouse image not pinned: %q", ch.Image)
	}
	if len(ch.Volumes) == 0 || ch.Healthcheck == nil || obs.Healthcheck == nil {
		t.Error("clickhouse needs a volume and a healthcheck; observatory a healthcheck")
	}
	if obs.Build == nil {
		t.Error("observatory is not built from the Dockerfile")
	}
	// Docker must wait for the shutdown grace and the ETL's cancellation
	// before it kills the process.
	if d, err := time.ParseDuration(obs.StopGrace); err != nil || d < config.Default().HTTP.ShutdownGrace+abandonBound {
		t.Errorf("stop_grace_period %q is shorter than http.shutdown_grace + %s", obs.StopGrace, abandonBound)
	}
	known := map[string]bool{"OBSERVATORIO_PSEUDONYM_KEY": true}
	for _, e := range config.Env {
		known[e[0]] = true
	}
	for k := range obs.Environment {
		if !known[k] {
			t.Errorf("docker-compose sets %s, which the observatory does not read", k)
		}
	}
	if obs.Environment["OBSERVATORIO_CLICKHOUSE_ADDR"] != "clickhouse:9000" {
		t.Error("observatory is not pointed at the clickhouse service")
	}
	if _, err := os.Stat("../../Dockerfile"); err != nil {
		t.Error(err)
	}
}

// TestDemoThroughTheETL runs what `make run` runs: `demo generate` writes
// the source files and their job configuration, and `serve --config` loads
// them through the ETL jobs before opening the site. (Scale 0.05 keeps it
// short; `make run` uses scale 1, whose figures are the seeds'.)
func TestDemoThroughTheETL(t *testing.T) {
	dir := t.TempDir()
	env := cleanEnv("OBSERVATORIO_CHDB_LIB="+chdbLib(t), "OBSERVATORIO_DATA_DIR="+filepath.Join(dir, "almacen"))
	code, stderr := runBinary(t, dir, env, "demo", "generate", "--out", "demo", "--scale", "0.05")
	if code != 0 {
		t.Fatalf("demo generate: %d %s", code, stderr)
	}
	env = append(env, "OBSERVATORIO_CONFIG="+filepath.Join(dir, "demo", "observatorio.yaml"))
	addr := freeAddr(t)
	cmd := exec.Command(binary, "serve")
	cmd.Dir, cmd.Env = dir, append(env, "OBSERVATORIO_HTTP_ADDR="+addr)
	var log strings.Builder
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("serve log:\n%s", log.String())
		}
	}()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("not ready after 3 minutes")
		}
		time.Sleep(300 * time.Millisecond)
	}
	home := get(t, "http://"+addr+"/", "text/html")
	if !strings.Contains(home, "Bucaramanga") {
		t.Errorf("home page without the demo's municipalities")
	}
	// Every dataset of the demo has rows from its first release on: the
	// start of serve publishes nothing ahead of the jobs' first commits.
	for _, d := range datasets.Catalog {
		var hist struct {
			Versiones []struct {
				Version uint32 `json:"version"`
				Filas   uint64 `json:"filas"`
			} `json:"versiones"`
		}
		if err := json.Unmarshal([]byte(get(t, "http://"+addr+"/datos/"+d.ID+"/versiones", "application/json")), &hist); err != nil {
			t.Fatal(err)
		}
		if len(hist.Versiones) == 0 {
			t.Errorf("%s: sin versiones", d.ID)
		}
		for _, v := range hist.Versiones {
			if v.Filas == 0 {
				t.Errorf("%s: la versión %d no tiene filas", d.ID, v.Version)
			}
		}
	}
	// chDB keeps one process per data directory: stop the server first.
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	st := exec.Command(binary, "etl", "status")
	st.Dir, st.Env = dir, env
	b, err := st.Output()
	if err != nil {
		t.Fatalf("etl status: %v", err)
	}
	status := string(b)
	for _, job := range []string{"bucaramanga-liquidaciones", "florencia-pagos", "caqueza-liquidaciones", "gel-mediciones", "divipola", "fut"} {
		if !strings.Contains(status, job) {
			t.Errorf("etl status lacks %s:\n%s", job, status)
		}
	}
	if strings.Contains(status, "failed") || !strings.Contains(status, "committed") {
		t.Errorf("etl status:\n%s", status)
	}
}
