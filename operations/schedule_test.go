package operations_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/observatorio-civico/observatorio/operations"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestScheduledBackups makes three scheduled copies with keep = 2: the
// oldest goes, and nothing else in the folder is touched.
func TestScheduledBackups(t *testing.T) {
	ctx := context.Background()
	e := whtest.Embedded(t)
	seedHistory(t, e)
	dir := t.TempDir()
	// Not scheduled copies: left alone by the rotation.
	os.Mkdir(filepath.Join(dir, "observatorio-a-mano"), 0o755)
	os.WriteFile(filepath.Join(dir, "notas.txt"), []byte("x"), 0o644)
	clock := now
	reg := prometheus.NewRegistry()
	s := &operations.Scheduler{Eng: e, Backup: operations.BackupConfig{Dir: dir, Keep: 2}, Metrics: operations.NewMetrics(reg),
		Now: func() time.Time { clock = clock.Add(time.Hour); return clock }}
	var made []string
	for i := 0; i < 3; i++ {
		d, m, err := s.RunBackup(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.TotalRows() == 0 {
			t.Fatal("empty copy")
		}
		made = append(made, filepath.Base(d))
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	sort.Strings(names)
	want := []string{"notas.txt", "observatorio-a-mano", made[1], made[2]}
	sort.Strings(want)
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("folder holds %v, want %v", names, want)
	}
	if made[2] != "observatorio-20260601T150000Z" {
		t.Fatalf("copy name %s", made[2])
	}
	if n := backupsOK(t, reg); n != 3 {
		t.Fatalf("backups_total{ok} = %v", n)
	}
	m, err := warehouse.ReadManifest(filepath.Join(dir, made[2]))
	if err != nil {
		t.Fatal(err)
	}
	if err := warehouse.VerifyBackup(filepath.Join(dir, made[2]), m, warehouse.VerifyOptions{Deep: true}); err != nil {
		t.Fatal(err)
	}
}

// backupsOK reads observatorio_backups_total{result="ok"}.
func backupsOK(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "observatorio_backups_total" {
			for _, m := range mf.GetMetric() {
				if m.GetLabel()[0].GetValue() == "ok" {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatal("observatorio_backups_total{result=ok} not registered")
	return 0
}

func TestSchedulerRefusesBadSchedule(t *testing.T) {
	s := &operations.Scheduler{Retention: operations.RetentionConfig{Schedule: "a las cuatro"}}
	if _, err := s.Start(context.Background()); err == nil {
		t.Fatal("bad schedule accepted")
	}
	if err := (operations.RetentionConfig{Schedule: "61 * * * *"}).Validate(); err == nil {
		t.Fatal("Validate accepted minute 61")
	}
	if err := (operations.BackupConfig{Schedule: "@daily"}).Validate(); err == nil || !strings.Contains(err.Error(), "backup.dir") {
		t.Fatalf("schedule without dir: %v", err)
	}
}
