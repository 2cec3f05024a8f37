package warehouse_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/chserver"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestClusterTwoShards applies the observatory's migrations in cluster form
// (ON CLUSTER, ReplicatedMergeTree shards, Distributed tables) to two real
// ClickHouse servers and checks that the Distributed tables return the rows
// of both shards, from either server.
func TestClusterTwoShards(t *testing.T) {
	cl := chserver.StartCluster(t, 2, chserver.Options{User: "observatorio", Password: "clave-de-prueba"})
	t.Logf("clúster %s: %v", cl.Name(), cl.Addrs())
	ctx := context.Background()
	e := whtest.OpenServer(t, cl.Server(0), cl.Name(), cl.Server(1))
	rep, err := warehouse.Migrate(ctx, e, cl.Name())
	if err != nil {
		t.Fatalf("%v\n%s", err, cl.LogTail(40))
	}
	if len(rep.Applied) == 0 {
		t.Fatal("no migration applied")
	}
	if rep, err = warehouse.Migrate(ctx, e, cl.Name()); err != nil || len(rep.Applied) != 0 {
		t.Fatalf("second run: %v %v", rep, err)
	}
	db := e.Database()

	// Each server holds the local shard table and the Distributed table.
	for i, srv := range cl.Servers() {
		conn := srv.Conn(t)
		var engine string
		if err := conn.QueryRow(ctx, "SELECT engine FROM system.tables WHERE database = ? AND name = 'payments_local'", db).Scan(&engine); err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
		if engine != "ReplicatedReplacingMergeTree" {
			t.Fatalf("server %d: payments_local engine %q", i, engine)
		}
		if err := conn.QueryRow(ctx, "SELECT engine FROM system.tables WHERE database = ? AND name = 'payments'", db).Scan(&engine); err != nil || engine != "Distributed" {
			t.Fatalf("server %d: payments engine %q (%v)", i, engine, err)
		}
	}

	// Rows written straight into each shard's local table...
	cols := "(payment_id, municipality_code, tax, tax_year, paid_at, paid_date, amount, channel, loaded_at)"
	// (over HTTP: clickhouse-go's Exec of INSERT ... VALUES hangs on 18.16)
	for i, srv := range cl.Servers() {
		var values []string
		for j := 0; j < 10; j++ {
			values = append(values, fmt.Sprintf("('S%d-%d', '68001', 'predial', 2020, '2020-08-01 10:00:00', '2020-08-01', 1000.50, 'pse', now())", i, j))
		}
		if _, err := srv.HTTPQuery(fmt.Sprintf("INSERT INTO %s.payments_local %s VALUES %s", db, cols, strings.Join(values, ", ")), nil); err != nil {
			t.Fatal(err)
		}
	}
	// ...and rows through the engine's batch insert into the Distributed
	// table, which shards them by municipality.
	var rows [][]any
	paid := time.Date(2020, 9, 1, 9, 0, 0, 0, time.UTC)
	for j := 0; j < 30; j++ {
		code := []string{"18001", "68001", "25151"}[j%3]
		rows = append(rows, []any{fmt.Sprintf("D-%d", j), code, "ica", 2020, paid, paid, decimal.NewFromInt(2000), "web", paid})
	}
	if err := e.Insert(ctx, "payments", []string{"payment_id", "municipality_code", "tax", "tax_year", "paid_at", "paid_date", "amount", "channel", "loaded_at"}, rows); err != nil {
		t.Fatal(err)
	}
	// In cluster mode the engine inserts with insert_distributed_sync, so
	// the rows are on their shards when Insert returns.

	want := uint64(10 + 10 + 30)
	for i, srv := range cl.Servers() {
		var n uint64
		if err := srv.Conn(t).QueryRow(ctx, "SELECT count() FROM "+db+".payments").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("Distributed count from server %d = %d, want %d", i, n, want)
		}
		var local uint64
		if err := srv.Conn(t).QueryRow(ctx, "SELECT count() FROM "+db+".payments_local").Scan(&local); err != nil {
			t.Fatal(err)
		}
		if local == 0 || local == want {
			t.Fatalf("shard %d holds %d of %d rows: not sharded", i, local, want)
		}
		t.Logf("shard %d: %d filas locales de %d", i, local, want)
	}
	// The engine's typed query goes through the Distributed table too.
	res, err := e.Query(ctx, "SELECT count(), sum(amount) FROM payments")
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows[0][0].(uint64) != want || !res.Rows[0][1].(decimal.Decimal).Equal(decimal.RequireFromString("80010")) {
		t.Fatalf("engine query = %v", res.Rows[0])
	}
}

// TestClusterDDLShape checks the cluster form derived from the migrations
// without servers, so that its shape is visible in a failing test.
func TestClusterDDLShape(t *testing.T) {
	migs, err := warehouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := warehouse.Layout{Database: "obs", Cluster: "observatorio"}.Statements(migs[0].SQL)
	if err != nil {
		t.Fatal(err)
	}
	var local, dist string
	for _, s := range stmts {
		if strings.Contains(s, "`obs`.`payments_local` ON CLUSTER") {
			local = s
		}
		if strings.Contains(s, "`obs`.`payments` ON CLUSTER") {
			dist = s
		}
	}
	if !strings.Contains(local, "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/obs/payments_local', '{replica}', loaded_at)") {
		t.Errorf("local table DDL:\n%s", local)
	}
	if !strings.Contains(dist, "ENGINE = Distributed(`observatorio`, `obs`, `payments_local`, cityHash64(municipality_code))") {
		t.Errorf("distributed DDL:\n%s", dist)
	}
	single, _ := warehouse.Layout{Database: "obs"}.Statements(migs[0].SQL)
	for _, s := range single {
		if strings.Contains(s, "ON CLUSTER") || strings.Contains(s, "Replicated") || strings.Contains(s, "Distributed") {
			t.Errorf("single-node DDL has cluster parts: %s", s)
		}
	}
}
