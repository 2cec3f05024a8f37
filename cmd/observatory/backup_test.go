package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/chserver"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestBackupAndRestoreCommands loads the demo through the ETL on each
// engine, copies each warehouse with `observatory backup`, restores each
// copy with `observatory restore` on the same engine and on the other one
// (into other databases: chDB opens one data directory per process), and
// compares every table's rows and content checksum with its source. Then a
// damaged copy and a restore over rows are refused.
// audited is the admin_audit rows of a copy.
func audited(t *testing.T, m *warehouse.BackupManifest) uint64 {
	for _, bt := range m.Tables {
		if bt.Name == "admin_audit" {
			return bt.Rows
		}
	}
	t.Fatal("no admin_audit in the copy")
	return 0
}

func TestBackupAndRestoreCommands(t *testing.T) {
	dir := t.TempDir()
	base := cleanEnv("OBSERVATORIO_CHDB_LIB=" + chdbLib(t))
	if code, stderr := runBinary(t, dir, base, "demo", "generate", "--out", "demo", "--scale", "0.05"); code != 0 {
		t.Fatalf("demo generate: %s", stderr)
	}
	cfgPath := filepath.Join(dir, "demo", "observatorio.yaml")
	srv := chserver.Start(t, chserver.Options{Name: "copias"})
	embedded := func(db string) []string {
		return append(append([]string{}, base...), "OBSERVATORIO_DATA_DIR="+filepath.Join(dir, "almacen"), "OBSERVATORIO_DATABASE="+db)
	}
	server := func(db string) []string { return serverEnv(base, srv, db) }
	must := func(env []string, args ...string) {
		t.Helper()
		if code, stderr := runBinary(t, dir, env, args...); code != 0 {
			t.Fatalf("observatory %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
	}
	must(embedded("observatorio"), "etl", "run", "--config", cfgPath)
	must(server("observatorio"), "etl", "run", "--config", cfgPath)
	must(embedded("observatorio"), "backup", "--config", cfgPath, "--out", "copia-embebido")
	must(server("observatorio"), "backup", "--config", cfgPath, "--out", "copia-servidor")
	must(base, "backup", "verify", "--from", "copia-servidor")
	must(embedded("restaurada"), "restore", "--config", cfgPath, "--from", "copia-embebido")
	must(embedded("desde_servidor"), "restore", "--config", cfgPath, "--from", "copia-servidor")
	must(server("restaurada"), "restore", "--config", cfgPath, "--from", "copia-servidor")
	must(server("desde_embebido"), "restore", "--config", cfgPath, "--from", "copia-embebido")
	// The retention policy runs from the command line (nothing in the demo
	// is old enough to go). Before this process opens the data directory:
	// chDB lets one process at a time use it.
	must(embedded("observatorio"), "retention", "run", "--config", cfgPath, "--dry-run")

	ctx := context.Background()
	openEmb := func(db string) warehouse.Engine {
		e, err := warehouse.Open(ctx, warehouse.Config{Database: db, Embedded: warehouse.EmbeddedConfig{Path: filepath.Join(dir, "almacen"), Library: chdbLib(t)}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	openSrv := func(db string) warehouse.Engine { return openServer(t, srv, db) }
	schema, err := warehouse.Schema()
	if err != nil {
		t.Fatal(err)
	}
	compare := func(name string, src warehouse.Engine, copies ...warehouse.Engine) {
		for _, s := range schema {
			rows, sum := whtest.Checksum(t, src, s.Name)
			if s.Name == "liquidations" && rows == 0 {
				t.Fatalf("%s: the ETL loaded no liquidations", name)
			}
			for _, c := range copies {
				r, h := whtest.Checksum(t, c, s.Name)
				if r != rows || h != sum {
					t.Errorf("%s → %s %s: %s has %d rows (checksum %d), the source %d (%d)", name, c.Kind(), c.Database(), s.Name, r, h, rows, sum)
				}
			}
		}
	}
	compare("embedded", openEmb("observatorio"), openEmb("restaurada"), openSrv("desde_embebido"))
	compare("server", openSrv("observatorio"), openSrv("restaurada"), openEmb("desde_servidor"))

	// This process now holds the embedded data directory, as a running
	// serve would: the command says so and what to do.
	code, stderr := runBinary(t, dir, embedded("observatorio"), "backup", "--config", cfgPath, "--out", "otra-copia")
	if code != 1 || !strings.Contains(stderr, "observatory serve") || !strings.Contains(stderr, "backup.schedule") {
		t.Fatalf("backup of a locked embedded warehouse: exit %d, %s", code, stderr)
	}

	// A damaged file is named, and nothing is written.
	m, err := warehouse.ReadManifest(filepath.Join(dir, "copia-embebido"))
	if err != nil {
		t.Fatal(err)
	}
	var victim string
	for _, bt := range m.Tables {
		if bt.Name == "payments" {
			victim = filepath.Join("copia-embebido", bt.File)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, victim))
	b[len(b)/3] ^= 1
	os.WriteFile(filepath.Join(dir, victim), b, 0o644)
	code, stderr = runBinary(t, dir, server("otra"), "restore", "--config", cfgPath, "--from", "copia-embebido")
	if code != 1 || !strings.Contains(stderr, victim) || !strings.Contains(stderr, "SHA-256") {
		t.Fatalf("restore of a damaged copy: exit %d, %s", code, stderr)
	}
	if code, stderr := runBinary(t, dir, base, "backup", "verify", "--from", "copia-embebido"); code != 1 || !strings.Contains(stderr, "payments.native.zst") {
		t.Fatalf("verify of a damaged copy: exit %d, %s", code, stderr)
	}
	// A restore over a warehouse with rows is refused.
	code, stderr = runBinary(t, dir, server("restaurada"), "restore", "--config", cfgPath, "--from", "copia-servidor")
	if code != 1 || !strings.Contains(stderr, "no está vacío") || !strings.Contains(stderr, "--force") {
		t.Fatalf("restore over rows: exit %d, %s", code, stderr)
	}
	// A retention pass is recorded in the audit log, one row per table.
	must(server("restaurada"), "retention", "run", "--config", cfgPath)
	ms, err := warehouse.ReadManifest(filepath.Join(dir, "copia-servidor"))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := whtest.Checksum(t, openSrv("restaurada"), "admin_audit"); n != 3+audited(t, ms) {
		t.Fatalf("admin_audit after a retention pass: %d rows", n)
	}
}
