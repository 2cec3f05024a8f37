package chserver

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"
)

func execAll(t *testing.T, ctx context.Context, conn driver.Conn, qs ...string) {
	t.Helper()
	for _, q := range qs {
		t0 := time.Now()
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s\n=> %v", q, err)
		}
		t.Logf("%6.0f ms  %s", float64(time.Since(t0).Microseconds())/1000, strings.Join(strings.Fields(q), " "))
	}
}

func count(t *testing.T, ctx context.Context, conn driver.Conn, q string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
		t.Fatalf("%s\n=> %v", q, err)
	}
	return n
}

// TestCluster: two shards, ON CLUSTER DDL with ReplicatedMergeTree and
// Distributed, rows inserted into each shard's local table and through the
// Distributed table, counted over the Distributed table from both servers.
func TestCluster(t *testing.T) {
	t0 := time.Now()
	c := StartCluster(t, 2, Options{})
	t.Logf("clúster %q de %d shards listo en %v: %v, zookeeper %s", c.Name(), len(c.Servers()), time.Since(t0), c.Addrs(), c.ZooKeeperAddr())
	ctx := ctxT(t)
	s1, s2 := c.Server(0), c.Server(1)
	c1, c2 := s1.Conn(t), s2.Conn(t)

	// Macros and cluster as each server sees them.
	for i, s := range c.Servers() {
		out, err := s.HTTPQuery("SELECT macro, substitution FROM system.macros ORDER BY macro FORMAT TSV", nil)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("cluster\tobservatorio\nreplica\tr1\nshard\t%02d\n", i+1)
		if out != want {
			t.Fatalf("%s: system.macros = %q, quería %q", s.Name(), out, want)
		}
	}
	if n := count(t, ctx, c1, "SELECT count() FROM system.clusters WHERE cluster = 'observatorio'"); n != 2 {
		t.Fatalf("system.clusters tiene %d filas para observatorio", n)
	}

	execAll(t, ctx, c1,
		"CREATE DATABASE IF NOT EXISTS obs ON CLUSTER observatorio",
		`CREATE TABLE IF NOT EXISTS obs.hechos ON CLUSTER observatorio (
			id UInt64,
			municipio String,
			valor Decimal(18, 2),
			fecha Date
		) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/obs/hechos', '{replica}')
		PARTITION BY toYYYYMM(fecha)
		ORDER BY (municipio, id)`,
		`CREATE TABLE IF NOT EXISTS obs.hechos_all ON CLUSTER observatorio AS obs.hechos
		ENGINE = Distributed(observatorio, obs, hechos, rand())`,
	)
	// The DDL reached the other server too.
	if n := count(t, ctx, c2, "SELECT count() FROM system.tables WHERE database = 'obs'"); n != 2 {
		t.Fatalf("%s tiene %d tablas en obs, quería 2", s2.Name(), n)
	}
	var zkPath string
	if err := c2.QueryRow(ctx, "SELECT zookeeper_path FROM system.replicas WHERE database = 'obs' AND table = 'hechos'").Scan(&zkPath); err != nil || zkPath != "/clickhouse/tables/02/obs/hechos" {
		t.Fatalf("zookeeper_path en shard02 = %q (%v)", zkPath, err)
	}

	insert := func(conn driver.Conn, table string, from, n int, ctx context.Context) {
		t.Helper()
		b, err := conn.PrepareBatch(ctx, "INSERT INTO "+table+" (id, municipio, valor, fecha)")
		if err != nil {
			t.Fatal(err)
		}
		for i := from; i < from+n; i++ {
			if err := b.Append(uint64(i), fmt.Sprintf("mun-%d", i%5), fmt.Sprintf("%d.25", i), time.Date(2024, time.Month(1+i%12), 1, 0, 0, 0, 0, time.UTC)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
	}
	insert(c1, "obs.hechos", 0, 100, ctx)   // shard 01 directly
	insert(c2, "obs.hechos", 100, 150, ctx) // shard 02 directly
	// Through the Distributed table, synchronously (insert_distributed_sync),
	// so that the rows are in the shards when Send returns.
	syncCtx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"insert_distributed_sync": 1}))
	insert(c1, "obs.hechos_all", 1000, 60, syncCtx)

	for _, conn := range []driver.Conn{c1, c2} {
		if n := count(t, ctx, conn, "SELECT count() FROM obs.hechos_all"); n != 310 {
			t.Fatalf("count() sobre la tabla Distributed = %d, quería 310", n)
		}
	}
	l1 := count(t, ctx, c1, "SELECT count() FROM obs.hechos")
	l2 := count(t, ctx, c2, "SELECT count() FROM obs.hechos")
	if l1+l2 != 310 || l1 < 100 || l2 < 150 {
		t.Fatalf("filas locales %d + %d", l1, l2)
	}
	t.Logf("filas locales: shard01=%d shard02=%d (60 repartidas por rand())", l1, l2)

	// Asynchronous insert through Distributed (the default): the rows are
	// queued on disk and sent in the background; SYSTEM FLUSH DISTRIBUTED
	// does not exist in 18.16, so wait for them.
	insert(c2, "obs.hechos_all", 2000, 40, ctx)
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := count(t, ctx, c1, "SELECT count() FROM obs.hechos_all")
		if n == 350 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tras un INSERT asíncrono en Distributed, count() = %d, quería 350", n)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// An aggregate over both shards.
	var sum decimal.Decimal
	if err := c2.QueryRow(ctx, "SELECT sum(valor) FROM obs.hechos_all WHERE id < 250").Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum.String() != "31187.5" { // sum(0..249) + 250*0.25
		t.Fatalf("sum(valor) = %s", sum)
	}

	// ALTER ... ON CLUSTER: 18.16 wants the replicated table altered on a
	// cluster whose shards have internal_replication=true (observatorio) and
	// the Distributed one on a cluster whose shards do not
	// (observatorio_plain); see ClusterNamePlain.
	execAll(t, ctx, c2,
		"ALTER TABLE obs.hechos ON CLUSTER observatorio ADD COLUMN fuente String DEFAULT 'socrata'",
		"ALTER TABLE obs.hechos_all ON CLUSTER "+ClusterNamePlain+" ADD COLUMN fuente String DEFAULT 'socrata'",
	)
	if n := count(t, ctx, c1, "SELECT count() FROM obs.hechos_all WHERE fuente = 'socrata'"); n != 350 {
		t.Fatalf("tras ADD COLUMN ON CLUSTER: %d filas con fuente", n)
	}

	// Stopping and restarting one shard: the other keeps answering for its
	// own data and the Distributed table fails (no replica of shard 1) until
	// it is back.
	s1.Stop()
	if _, err := s2.HTTPQuery("SELECT count() FROM obs.hechos_all", nil); err == nil {
		t.Fatal("la tabla Distributed respondió con un shard caído")
	}
	s1.Restart(t)
	deadline = time.Now().Add(30 * time.Second)
	for {
		out, err := s2.HTTPQuery("SELECT count() FROM obs.hechos_all", nil)
		if err == nil && strings.TrimSpace(out) == "350" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tras reiniciar shard01: %q %v", out, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	execAll(t, ctx, s2.Conn(t),
		"DROP TABLE IF EXISTS obs.hechos_all ON CLUSTER observatorio",
		"DROP TABLE IF EXISTS obs.hechos ON CLUSTER observatorio",
	)
	if out, _ := s1.HTTPQuery("SELECT count() FROM system.tables WHERE database = 'obs' FORMAT TSV", url.Values{}); strings.TrimSpace(out) != "0" {
		t.Fatalf("tras DROP ON CLUSTER quedan %s tablas en shard01", out)
	}
	t0 = time.Now()
	c.Stop()
	t.Logf("clúster detenido en %v", time.Since(t0))
}

// TestClusterThreeShards checks that three servers plus ZooKeeper run at once
// on this machine and that ON CLUSTER DDL reaches all of them.
func TestClusterThreeShards(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	t0 := time.Now()
	c := StartCluster(t, 3, Options{})
	t.Logf("clúster de 3 shards listo en %v", time.Since(t0))
	ctx := ctxT(t)
	conn := c.Server(2).Conn(t)
	execAll(t, ctx, conn,
		"CREATE DATABASE IF NOT EXISTS obs ON CLUSTER observatorio",
		"CREATE TABLE obs.t ON CLUSTER observatorio (n UInt64) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/obs/t', '{replica}') ORDER BY n",
		"CREATE TABLE obs.t_all ON CLUSTER observatorio AS obs.t ENGINE = Distributed(observatorio, obs, t, n)",
	)
	for i, s := range c.Servers() {
		if err := s.Conn(t).Exec(ctx, fmt.Sprintf("INSERT INTO obs.t (n) SELECT number FROM system.numbers LIMIT %d", (i+1)*10)); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range c.Servers() {
		out, err := s.HTTPQuery("SELECT count(), uniqExact(_shard_num) FROM obs.t_all FORMAT TSV", nil)
		if err != nil {
			// _shard_num is newer than 18.16.
			out, err = s.HTTPQuery("SELECT count(), 3 FROM obs.t_all FORMAT TSV", nil)
		}
		if err != nil || out != "60\t3\n" {
			t.Fatalf("%s: %q %v", s.Name(), out, err)
		}
	}
}
