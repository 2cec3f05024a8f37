package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/chserver"
)

// TestServeStopsTheETLWithinTheGrace sends SIGTERM to `serve` while its
// ETL run is loading. With a grace shorter than the run, the process exits
// within the grace and the few seconds it gives a cancelled run, and the
// run is recorded as failed with no watermark: nothing was committed. With
// a grace long enough, the run finishes and commits before the process
// exits, and the warehouse then holds the source's rows exactly once
// (what the abandoned run had loaded was replaced). On both engines.
func TestServeStopsTheETLWithinTheGrace(t *testing.T) {
	const rows = 250000
	t.Run("embedded", func(t *testing.T) {
		dir := t.TempDir()
		env := cleanEnv("OBSERVATORIO_CHDB_LIB="+chdbLib(t), "OBSERVATORIO_DATA_DIR="+filepath.Join(dir, "almacen"), "OBSERVATORIO_PSEUDONYM_KEY="+strings.Repeat("ab", 32))
		stopDuringETL(t, dir, env, rows, func() warehouse.Config {
			return warehouse.Config{Database: "observatorio", Embedded: warehouse.EmbeddedConfig{Path: filepath.Join(dir, "almacen"), Library: chdbLib(t)}}
		})
	})
	t.Run("server", func(t *testing.T) {
		srv := chserver.Start(t, chserver.Options{Name: "apagado"})
		dir := t.TempDir()
		env := cleanEnv("OBSERVATORIO_CLICKHOUSE_ADDR="+srv.Addr(), "OBSERVATORIO_CLICKHOUSE_HTTP_ADDR="+srv.HTTPAddr(),
			"OBSERVATORIO_CLICKHOUSE_USER="+srv.User(), "OBSERVATORIO_CLICKHOUSE_PASSWORD="+srv.Password(),
			"OBSERVATORIO_PSEUDONYM_KEY="+strings.Repeat("ab", 32))
		stopDuringETL(t, dir, env, rows, func() warehouse.Config {
			return warehouse.Config{Database: "observatorio", Server: warehouse.ServerConfig{Addrs: []string{srv.Addr()}, HTTPAddrs: []string{srv.HTTPAddr()}, User: srv.User(), Password: srv.Password()}}
		})
	})
}

func stopDuringETL(t *testing.T, dir string, env []string, rows int, whCfg func() warehouse.Config) {
	bad := writePayments(t, filepath.Join(dir, "pagos.csv"), rows)
	env = append(env, "OBSERVATORIO_ADMIN_TOKEN=ficha")

	// 1. A grace of one second: the run is cancelled.
	grace := time.Second
	took, log := serveAndStopMidRun(t, dir, env, crashJob+"http:\n  shutdown_grace: 1s\n")
	t.Logf("salida %s después de SIGTERM con plazo %s", took.Round(time.Millisecond), grace)
	if took > grace+abandonBound+3*time.Second {
		t.Errorf("serve took %s to exit after SIGTERM; grace %s", took, grace)
	}
	if !strings.Contains(log, "se cancelan las ejecuciones ETL en curso") {
		t.Errorf("the log does not say the run was cancelled:\n%s", log)
	}
	ctx := context.Background()
	e, err := warehouse.Open(ctx, whCfg())
	if err != nil {
		t.Fatal(err)
	}
	q := func(sql string) uint64 {
		t.Helper()
		res, err := e.Query(ctx, sql)
		if err != nil {
			t.Fatal(err)
		}
		return res.Rows[0][0].(uint64)
	}
	runs, err := etl.LastRuns(ctx, e, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Status != etl.StatusFailed || !strings.Contains(runs[0].Error, "context canceled") {
		t.Fatalf("runs after the cancelled one: %+v", runs)
	}
	if n := q("SELECT count() FROM watermarks"); n != 0 {
		t.Errorf("the cancelled run left %d watermarks", n)
	}
	if n := q("SELECT count() FROM dataset_releases WHERE dataset = 'pagos-diarios' AND rows > 0"); n != 0 {
		t.Errorf("the cancelled run was published (%d releases with rows)", n)
	}
	t.Logf("la ejecución cancelada dejó %d de %d filas cargadas sin confirmar", q("SELECT count() FROM payments"), rows)
	e.Close()

	// 2. A grace long enough: the run finishes and commits, then serve
	// exits.
	took, log = serveAndStopMidRun(t, dir, env, crashJob+"http:\n  shutdown_grace: 2m\n")
	t.Logf("salida %s después de SIGTERM con plazo 2m, al terminar la ejecución", took.Round(time.Millisecond))
	if strings.Contains(log, "se cancelan") {
		t.Errorf("a run that fits the grace was cancelled:\n%s", log)
	}
	if e, err = warehouse.Open(ctx, whCfg()); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if runs, err = etl.LastRuns(ctx, e, 10); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Status != etl.StatusCommitted {
		t.Fatalf("runs: %+v", runs)
	}
	for sql, want := range map[string]uint64{
		"SELECT count() FROM payments FINAL":         uint64(rows),
		"SELECT uniqExact(payment_id) FROM payments": uint64(rows),
		"SELECT count() FROM payments":               uint64(rows), // consolidated: one physical copy
		"SELECT count() FROM quarantine FINAL":       uint64(bad),
	} {
		if n := q(sql); n != want {
			t.Errorf("%s = %d, want %d", sql, n, want)
		}
	}
}

// serveAndStopMidRun starts `serve` with a configuration, waits until the
// admin API shows the ETL run in progress, sends SIGTERM and returns how
// long the process took to exit, and its log. The exit must be clean.
func serveAndStopMidRun(t *testing.T, dir string, env []string, cfg string) (time.Duration, string) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary, "serve")
	cmd.Dir = dir
	cmd.Env = append(env, "OBSERVATORIO_CONFIG="+writeFile(t, dir, "observatorio.yaml", cfg), "OBSERVATORIO_HTTP_ADDR="+addr)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var log strings.Builder
	logDone := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
		close(logDone)
	}()
	logText := func() string {
		mu.Lock()
		defer mu.Unlock()
		return log.String()
	}
	exited := make(chan error, 1)
	go func() {
		<-logDone
		exited <- cmd.Wait()
	}()
	defer cmd.Process.Kill()

	deadline := time.Now().Add(2 * time.Minute)
	for !running(addr) {
		select {
		case err := <-exited:
			t.Fatalf("serve exited (%v) before its run started:\n%s", err, logText())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no run in progress after 2 min:\n%s", logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		took := time.Since(start)
		if err != nil {
			t.Fatalf("serve did not exit cleanly: %v\n%s", err, logText())
		}
		return took, logText()
	case <-time.After(3 * time.Minute):
		t.Fatalf("serve still running 3 min after SIGTERM:\n%s", logText())
	}
	return 0, ""
}

// running says whether the admin API shows a run in progress.
func running(addr string) bool {
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/admin/runs", nil)
	req.Header.Set("Authorization", "Bearer ficha")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var body struct {
		Runs []etl.RunRow `json:"ejecuciones"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&body) != nil {
		return false
	}
	for _, r := range body.Runs {
		if r.Status == etl.StatusRunning {
			return true
		}
	}
	return false
}
