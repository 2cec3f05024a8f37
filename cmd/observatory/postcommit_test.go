package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/observatorio-civico/observatorio/warehouse/chserver"
)

// TestEtlRunFailsWhenThePublicationFails: a run whose rows commit but whose
// dataset releases cannot be stored must end `etl run` with a non-zero exit
// and say so, not only log it: an operator's cron or CI sees the exit code,
// not the log. The rows stay committed, and the next run publishes.
func TestEtlRunFailsWhenThePublicationFails(t *testing.T) {
	dir := t.TempDir()
	base := cleanEnv("OBSERVATORIO_CHDB_LIB=" + chdbLib(t))
	if code, stderr := runBinary(t, dir, base, "demo", "generate", "--out", "demo", "--scale", "0.05"); code != 0 {
		t.Fatalf("demo generate: %s", stderr)
	}
	cfgPath := filepath.Join(dir, "demo", "observatorio.yaml")
	srv := chserver.Start(t, chserver.Options{Name: "publicacion"})
	env := serverEnv(base, srv, "observatorio")
	if code, stderr := runBinary(t, dir, env, "migrate", "--config", cfgPath); code != 0 {
		t.Fatalf("migrate: exit %d\n%s", code, stderr)
	}

	// The table the releases' files go to is replaced by one they cannot
	// be written to.
	ctx := context.Background()
	eng := openServer(t, srv, "observatorio")
	for _, q := range []string{
		"RENAME TABLE dataset_files TO dataset_files_aparte",
		"CREATE TABLE dataset_files (x UInt8) ENGINE = Memory",
	} {
		if err := eng.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	code, stderr := runBinary(t, dir, env, "etl", "run", "--config", cfgPath, "divipola")
	if code == 0 {
		t.Fatalf("etl run ended 0 with the publication failing:\n%s", stderr)
	}
	last := lastLine(stderr)
	t.Logf("etl run: exit %d: %s", code, last)
	for _, want := range []string{"divipola", "los datos se confirmaron", `"publicación de conjuntos de datos"`} {
		if !strings.Contains(last, want) {
			t.Errorf("the error line lacks %q: %s", want, last)
		}
	}
	if strings.Contains(stderr, "agregados de los tableros") {
		t.Errorf("the dashboards' task failed too, or did not run after the publication failed:\n%s", stderr)
	}
	res, err := eng.Query(ctx, "SELECT status FROM etl_runs FINAL WHERE job = 'divipola'")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Rows[0][0] != "committed" {
		t.Fatalf("the run's rows should stay committed: %v", res.Rows)
	}

	// With the table back, the next run (nothing new to load) publishes.
	for _, q := range []string{"DROP TABLE dataset_files", "RENAME TABLE dataset_files_aparte TO dataset_files"} {
		if err := eng.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if code, stderr := runBinary(t, dir, env, "etl", "run", "--config", cfgPath, "divipola"); code != 0 {
		t.Fatalf("etl run after the repair: exit %d\n%s", code, stderr)
	}
	res, err = eng.Query(ctx, "SELECT count() FROM dataset_releases FINAL WHERE dataset = 'entidades'")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.Rows[0][0].(uint64); n == 0 {
		t.Error("no release of entidades (the DIVIPOLA dataset) after the repair")
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
