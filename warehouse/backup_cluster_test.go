package warehouse_test

import (
	"context"
	"testing"

	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/chserver"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestBackupRestoreCluster copies a warehouse on a 2-shard ClickHouse
// cluster through its Distributed tables and restores it into another
// database of the cluster (written through the Distributed tables, sharded
// again) and into the embedded engine.
func TestBackupRestoreCluster(t *testing.T) {
	ctx := context.Background()
	cl := chserver.StartCluster(t, 2, chserver.Options{User: "observatorio", Password: "clave-de-prueba"})
	open := func() warehouse.Engine {
		e := whtest.OpenServer(t, cl.Server(0), cl.Name(), cl.Server(1))
		if _, err := warehouse.Migrate(ctx, e, cl.Name()); err != nil {
			t.Fatalf("%v\n%s", err, cl.LogTail(40))
		}
		return e
	}
	src := open()
	fillForBackup(t, src)
	dir, m := backupTo(t, src, warehouse.BackupOptions{Cluster: cl.Name()})
	if len(m.Skipped) != 0 {
		t.Fatalf("the _local shards are the schema's, not foreign: %v", m.Skipped)
	}
	for _, bt := range m.Tables {
		if bt.Name == "etl_runs" && bt.Rows != 1 || bt.Name == "liquidations" && bt.Rows != 5000 {
			t.Fatalf("%s: %d rows in the copy", bt.Name, bt.Rows)
		}
	}

	dst := open()
	if _, err := warehouse.Restore(ctx, dst, warehouse.RestoreOptions{Dir: dir, Cluster: cl.Name()}); err != nil {
		t.Fatalf("%v\n%s", err, cl.LogTail(40))
	}
	sameContent(t, src, dst)
	// Written through the Distributed tables, the rows land on the shards
	// their shard key says, as they were in the source.
	for i, s := range cl.Servers() {
		for _, table := range []string{"liquidations_local", "pub_pagos_diarios_local"} {
			var a, b uint64
			if err := s.Conn(t).QueryRow(ctx, "SELECT count() FROM "+src.Database()+"."+table).Scan(&a); err != nil {
				t.Fatal(err)
			}
			if err := s.Conn(t).QueryRow(ctx, "SELECT count() FROM "+dst.Database()+"."+table).Scan(&b); err != nil {
				t.Fatal(err)
			}
			if a != b {
				t.Errorf("shard %d: %s has %d rows in the source, %d restored", i+1, table, a, b)
			}
			t.Logf("shard %d: %s %d filas", i+1, table, b)
		}
	}
	// Forced over itself: the shards are emptied ON CLUSTER first.
	if _, err := warehouse.Restore(ctx, dst, warehouse.RestoreOptions{Dir: dir, Cluster: cl.Name(), Force: true}); err != nil {
		t.Fatalf("%v\n%s", err, cl.LogTail(40))
	}
	sameContent(t, src, dst)

	emb := whtest.Embedded(t)
	if _, err := warehouse.Restore(ctx, emb, warehouse.RestoreOptions{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	sameContent(t, src, emb)
}
