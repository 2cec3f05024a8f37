package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/chserver"
)

// writePayments writes a payments export of n good rows and a few bad ones
// and returns the number of bad rows.
func writePayments(t *testing.T, path string, n int) int {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "Recibo;Documento;Municipio;Impuesto;Vigencia;Fecha pago;Valor;Canal")
	channels := []string{"PSE", "Oficina", "Portal web", "Tarjeta de crédito", "Banco"}
	taxes := []string{"Predial", "ICA", "ReteICA"}
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "R-%07d;%d;68001;%s;2020;%02d/%02d/2020 10:%02d;%d,%02d;%s\n", i, 1000000+i*13, taxes[i%3], 1+i%28, 1+i%12, i%60, 10000+i, i%100, channels[i%5])
	}
	bad := []string{
		"R-X1;90000001;68001;Predial;2020;32/01/2020 10:00;1000;PSE",    // impossible date
		"R-X2;90000002;99999;Predial;2020;01/01/2020 10:00;1000;PSE",    // not a DIVIPOLA code
		"R-X3;90000003;68001;Predial;2020;01/01/2020 10:00;mil;PSE",     // not a number
		"R-0000005;90000004;68001;Predial;2020;01/01/2020 10:00;1;PSE",  // duplicate receipt
		"R-X4;90000005;68001;Predial;2020;01/01/2020 10:00;1000;Paloma", // unknown channel
	}
	for _, l := range bad {
		fmt.Fprintln(w, l)
	}
	w.Flush()
	f.Close()
	return len(bad)
}

const crashJob = `etl:
  batch_size: 2000
  jobs:
    - name: pagos
      retries: 0
      sources:
        - name: pagos-bga
          kind: file
          record: payment
          file: {path: pagos.csv}
          delimiter: ";"
          numbers: {decimal: ",", thousands: none}
          dates: {formats: ["dd/mm/yyyy HH:MI"]}
          mapping: {Recibo: payment_id, Documento: taxpayer_id, Municipio: municipality_code, Impuesto: tax, Vigencia: tax_year, "Fecha pago": paid_at, Valor: amount, Canal: channel}
          values: {channel: {"Portal web": web}}
`

// engineSetup is how the binary and the test reach one engine's warehouse:
// the binary's environment (pseudonym key included), and the test's own
// configuration to open it once the binary has stopped (chDB keeps one
// process per data directory).
type engineSetup struct {
	env []string
	cfg func() warehouse.Config
}

// embeddedSetup keeps the embedded warehouse in dir/almacen.
func embeddedSetup(t *testing.T, dir string) engineSetup {
	data := filepath.Join(dir, "almacen")
	return engineSetup{
		env: cleanEnv("OBSERVATORIO_CHDB_LIB="+chdbLib(t), "OBSERVATORIO_DATA_DIR="+data, "OBSERVATORIO_PSEUDONYM_KEY="+strings.Repeat("ab", 32)),
		cfg: func() warehouse.Config {
			return warehouse.Config{Database: "observatorio", Embedded: warehouse.EmbeddedConfig{Path: data, Library: chdbLib(t)}}
		},
	}
}

// serverSetup points the binary at a throwaway ClickHouse server.
func serverSetup(srv *chserver.Server) engineSetup {
	return engineSetup{
		env: cleanEnv("OBSERVATORIO_CLICKHOUSE_ADDR="+srv.Addr(), "OBSERVATORIO_CLICKHOUSE_HTTP_ADDR="+srv.HTTPAddr(),
			"OBSERVATORIO_CLICKHOUSE_USER="+srv.User(), "OBSERVATORIO_CLICKHOUSE_PASSWORD="+srv.Password(),
			"OBSERVATORIO_PSEUDONYM_KEY="+strings.Repeat("ab", 32)),
		cfg: func() warehouse.Config {
			return warehouse.Config{Database: "observatorio", Server: warehouse.ServerConfig{Addrs: []string{srv.Addr()}, HTTPAddrs: []string{srv.HTTPAddr()}, User: srv.User(), Password: srv.Password()}}
		},
	}
}

// TestETLSurvivesKills kills `observatory etl run` at random moments of a
// load, again and again, then lets a run finish: the warehouse must hold
// exactly the source's good rows, each once, and its bad rows in
// quarantine, on both engines.
func TestETLSurvivesKills(t *testing.T) {
	const rows = 60000
	t.Run("embedded", func(t *testing.T) {
		dir := t.TempDir()
		e := embeddedSetup(t, dir)
		crashAndCheck(t, dir, e.env, rows, e.cfg)
	})
	t.Run("server", func(t *testing.T) {
		srv := chserver.Start(t, chserver.Options{Name: "choques"})
		e := serverSetup(srv)
		crashAndCheck(t, t.TempDir(), e.env, rows, e.cfg)
	})
}

func crashAndCheck(t *testing.T, dir string, env []string, rows int, whCfg func() warehouse.Config) {
	bad := writePayments(t, filepath.Join(dir, "pagos.csv"), rows)
	cfgPath := writeFile(t, dir, "observatorio.yaml", crashJob)
	env = append(env, "OBSERVATORIO_CONFIG="+cfgPath)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	kills := 0
	for i := 0; i < 8; i++ {
		cmd := exec.Command(binary, "etl", "run")
		cmd.Dir, cmd.Env = dir, env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Random moments cover start-up, the middle of the load and the commit.
		time.Sleep(time.Duration(100+rng.IntN(2500)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err == nil {
			kills++
		}
		cmd.Wait()
	}
	code, stderr := runBinary(t, dir, env, "etl", "run")
	if code != 0 {
		t.Fatalf("final run failed (%d): %s", code, stderr)
	}
	t.Logf("%d procesos matados durante la carga; la última ejecución terminó", kills)

	ctx := context.Background()
	e, err := warehouse.Open(ctx, whCfg())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	q := func(sql string) uint64 {
		res, err := e.Query(ctx, sql)
		if err != nil {
			t.Fatal(err)
		}
		return res.Rows[0][0].(uint64)
	}
	good := uint64(rows)
	if n := q("SELECT count() FROM payments FINAL"); n != good {
		res, _ := e.Query(ctx, "SELECT code, field, any(raw), count() FROM quarantine FINAL GROUP BY code, field")
		t.Fatalf("payments (FINAL) = %d, want %d; quarantine: %v", n, good, res.Rows)
	}
	if n := q("SELECT uniqExact(payment_id) FROM payments"); n != good {
		t.Fatalf("distinct payments = %d, want %d", n, good)
	}
	// The committed run consolidated the table: one physical copy each.
	if n := q("SELECT count() FROM payments"); n != good {
		t.Fatalf("payments (physical) = %d, want %d", n, good)
	}
	if n := q("SELECT count() FROM quarantine FINAL"); n != uint64(bad) {
		t.Fatalf("quarantine = %d, want %d", n, bad)
	}
	if n := q("SELECT count() FROM etl_runs FINAL WHERE status = 'committed'"); n < 1 {
		t.Fatal("no committed run in the log")
	}
}
