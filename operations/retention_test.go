package operations_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/operations"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/chserver"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// now is the pinned clock of the retention tests.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func daysAgo(n int) time.Time { return now.Add(-time.Duration(n) * 24 * time.Hour) }

// seedHistory writes a history of runs, rejects and admin actions:
//
//	run   job  status     started      rows that name it
//	A     j1   committed  3 years ago  quarantine (3 years old)
//	B     j1   committed  3 years ago  liquidations, quarantine
//	C     j1   committed  10 days ago  quarantine      (j1's last)
//	D     j2   committed  3 years ago  -               (j2's last)
//	E     j1   failed     3 years ago  -               (two log rows)
//	F     j1   committed  500 days ago quarantine (3 rows)
//	G     j1   committed  10 days ago  quarantine dated 500 days ago
func seedHistory(t *testing.T, e warehouse.Engine) {
	t.Helper()
	type run struct {
		id, job, status string
		started         time.Time
	}
	runs := []run{
		{"A", "j1", "committed", daysAgo(1100)}, {"B", "j1", "committed", daysAgo(1100)}, {"C", "j1", "committed", daysAgo(10)},
		{"D", "j2", "committed", daysAgo(1100)}, {"E", "j1", "running", daysAgo(1100)}, {"E", "j1", "failed", daysAgo(1100)},
		{"F", "j1", "committed", daysAgo(500)}, {"G", "j1", "committed", daysAgo(10)},
	}
	// One insert per row, as the runner logs them: E's two rows stay two
	// physical rows until a merge.
	for i, r := range runs {
		finished := r.started.Add(time.Duration(i+1) * time.Minute)
		insert(t, e, "etl_runs", []string{"run_id", "job", "started_at", "finished_at", "status", "rows_read", "rows_loaded", "rows_quarantined", "rows_skipped", "rows_unchanged", "error"},
			[][]any{{r.id, r.job, r.started, finished, r.status, 10, 9, 1, 0, 0, ""}})
	}
	var rows [][]any

	rows = nil
	q := func(run string, at time.Time, n int) {
		for i := 0; i < n; i++ {
			rows = append(rows, []any{"j1", "src", "f-" + run + ".csv", i + 2, "avaluo", "mil", "numero", "no es un número", run, at})
		}
	}
	q("A", daysAgo(1100), 1)
	q("B", daysAgo(1100), 1)
	q("C", daysAgo(10), 2)
	q("F", daysAgo(500), 3)
	q("G", daysAgo(500), 2)
	insert(t, e, "quarantine", []string{"job", "source", "source_file", "source_line", "field", "raw", "code", "reason", "run_id", "quarantined_at"}, rows)

	rows = nil
	for i := 0; i < 4; i++ {
		d := decimal.NewFromInt(1000)
		rows = append(rows, []any{fmt.Sprintf("L-%d", i), "68001", "predial", 2023, "p", "natural", "web", daysAgo(1100), daysAgo(1000), d, "{}", d, d, "match", decimal.Zero, "", "s", "f.csv", i + 2, "B", daysAgo(1100)})
	}
	insert(t, e, "liquidations", []string{"liquidation_id", "municipality_code", "tax", "tax_year", "taxpayer_pseudonym", "taxpayer_kind", "filing_channel", "issue_date", "due_date", "base_amount", "inputs", "billed_total", "expected_total", "verification_status", "verification_diff", "verification_detail", "source", "source_file", "source_line", "run_id", "loaded_at"}, rows)

	rows = nil
	for i, age := range []int{2200, 2190, 1500, 1} {
		rows = append(rows, []any{daysAgo(age), "publish", fmt.Sprint(i), 200, "10.0.0.1", ""})
	}
	insert(t, e, "admin_audit", []string{"at", "action", "target", "status", "client", "detail"}, rows)
}

func insert(t *testing.T, e warehouse.Engine, table string, cols []string, rows [][]any) {
	t.Helper()
	if err := e.Insert(context.Background(), table, cols, rows); err != nil {
		t.Fatalf("%s: %v", table, err)
	}
}

func ids(t *testing.T, e warehouse.Engine, sql string) string {
	t.Helper()
	res, err := e.Query(context.Background(), sql)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res.Rows {
		out = append(out, fmt.Sprint(r[0]))
	}
	return strings.Join(out, " ")
}

func checkRetention(t *testing.T, e warehouse.Engine, cluster string) {
	ctx := context.Background()
	seedHistory(t, e)
	ret := &operations.Retention{Eng: e, Cluster: cluster, Policy: operations.DefaultRetention(), Now: func() time.Time { return now }, Actor: "prueba"}

	// A dry run counts and touches nothing.
	ret.DryRun = true
	rep, err := ret.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deleted := map[string]uint64{}
	for _, tr := range rep.Tables {
		deleted[tr.Table] = tr.Deleted
	}
	// In a dry run the quarantine rows of A are still there, so A's log
	// row looks referenced: only E would go.
	if deleted["quarantine"] != 5 || deleted["etl_runs"] != 1 || deleted["admin_audit"] != 2 {
		t.Fatalf("dry run counts: %v", deleted)
	}
	if got := ids(t, e, "SELECT count() FROM quarantine"); got != "9" {
		t.Fatalf("dry run deleted quarantine rows: %s left", got)
	}

	ret.DryRun = false
	rep, err = ret.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range rep.Tables {
		deleted[tr.Table] = tr.Deleted
	}
	if deleted["quarantine"] != 5 || deleted["etl_runs"] != 2 || deleted["admin_audit"] != 2 {
		t.Fatalf("deleted: %v", deleted)
	}
	// Every version of a deleted run is gone, not only the one FINAL shows.
	if got := ids(t, e, "SELECT count() FROM etl_runs WHERE run_id IN ('A', 'E')"); got != "0" {
		t.Fatalf("rows of A and E left: %s", got)
	}
	// Quarantine: the 500-day-old rows of young run G stay; so do C's.
	if got := ids(t, e, "SELECT run_id FROM quarantine ORDER BY run_id"); got != "C C G G" {
		t.Fatalf("quarantine left: %q", got)
	}
	// Run log: B (its liquidations are loaded), D (j2's last), C, F, G
	// stay; A (no rows once its rejects went) and E (failed) go.
	if got := ids(t, e, "SELECT DISTINCT run_id FROM etl_runs ORDER BY run_id"); got != "B C D F G" {
		t.Fatalf("run log left: %q", got)
	}
	for _, tr := range rep.Tables {
		if tr.Table == "etl_runs" && !strings.Contains(tr.Spared, "2 ejecuciones antiguas") {
			t.Fatalf("spared: %q", tr.Spared)
		}
	}
	if got := ids(t, e, "SELECT target FROM admin_audit WHERE action = 'publish' ORDER BY target"); got != "2 3" {
		t.Fatalf("audit left: %q", got)
	}
	// The pass is in the audit log, one row per table, at the pinned time.
	res, err := e.Query(ctx, "SELECT target, client, detail, at FROM admin_audit WHERE action = 'retention' ORDER BY target")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 3 {
		t.Fatalf("audit rows of the pass: %v", res.Rows)
	}
	for _, r := range res.Rows {
		if r[1] != "prueba" || !r[3].(time.Time).Equal(now) || !strings.HasPrefix(r[2].(string), "borradas ") {
			t.Fatalf("audit row %v", r)
		}
	}
	if d := res.Rows[2][2].(string); !strings.Contains(d, "borradas 5 filas anteriores al 2025-04-27 12:00:00 (se conservan 400 días)") {
		t.Fatalf("quarantine audit detail: %q", d)
	}

	// Again: nothing left to delete.
	rep, err = ret.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted() != 0 {
		t.Fatalf("second pass deleted %d rows", rep.Deleted())
	}
	// A policy of 0 keeps rows forever.
	ret.Policy = operations.RetentionConfig{}
	if rep, err = ret.Run(ctx); err != nil || rep.Deleted() != 0 {
		t.Fatalf("keep-forever pass: %v %v", rep, err)
	}
}

// TestRetention applies the default policy with a pinned clock on both
// engines.
func TestRetention(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) { checkRetention(t, e, "") })
}

// TestRetentionCluster applies it on a 2-shard cluster: the mutations go to
// the _local shards ON CLUSTER, the counts read the Distributed tables.
func TestRetentionCluster(t *testing.T) {
	cl := chserver.StartCluster(t, 2, chserver.Options{User: "observatorio", Password: "clave-de-prueba"})
	e := whtest.OpenServer(t, cl.Server(0), cl.Name(), cl.Server(1))
	if _, err := warehouse.Migrate(context.Background(), e, cl.Name()); err != nil {
		t.Fatalf("%v\n%s", err, cl.LogTail(40))
	}
	checkRetention(t, e, cl.Name())
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"400d": 400 * 24 * time.Hour, "0": 0, "720h": 720 * time.Hour, " 30d ": 30 * 24 * time.Hour} {
		got, err := operations.ParseAge(in)
		if err != nil || time.Duration(got) != want {
			t.Errorf("ParseAge(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "-3d", "dos años", "1y", "10"} {
		if _, err := operations.ParseAge(bad); err == nil {
			t.Errorf("ParseAge(%q) accepted", bad)
		}
	}
	if s := operations.Age(730 * 24 * time.Hour).String(); s != "730d" {
		t.Errorf("String = %s", s)
	}
}
