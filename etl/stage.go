package etl

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// staging holds a run's rows out of the tables readers use until the run
// commits. The tables are ReplacingMergeTrees versioned by load time, so a
// row loaded by a run replaces the older copy of its key in every merge,
// the engine's background merges included, committed or not: without a
// staging table, a run that died after loading part of a corrected file
// left the keys it had loaded invisible to every reader (they read only
// committed runs' rows) until the job's next successful run, and every
// release published meanwhile lacked them. The commit moves the staged
// partitions into the tables (warehouse.AttachStage, which links the parts'
// files) before it consolidates them; only a crash between that move and the
// committed row leaves uncommitted rows in the tables, and the job's next
// run loads them again.
//
// Staging tables are named etl_stage_<job>_<run>__<table>, with the job's
// name hashed (a job's name need not be an identifier). A run drops its
// staging tables when it fails, and the next run of the job drops those a
// crash left behind.
//
// On a cluster the run writes straight into the Distributed tables (nil
// staging): a staging table per shard would need the sharding expression
// and an ATTACH on every shard.
type staging struct {
	eng    warehouse.Engine
	prefix string            // etl_stage_<job>_
	run    string            // the run's part of the names
	tables map[string]string // table → its staging table, as created
}

func newStaging(eng warehouse.Engine, job, runID string) *staging {
	return &staging{eng: eng, prefix: stagePrefix(job), run: stageRun(runID), tables: map[string]string{}}
}

func stagePrefix(job string) string {
	h := fnv.New32a()
	h.Write([]byte(job))
	return fmt.Sprintf("%s%08x_", warehouse.StagePrefix, h.Sum32())
}

// stageRun is a run id as a part of a table name: NewRunID's time and
// random hex, with the punctuation replaced.
func stageRun(runID string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, runID)
}

// name is the staging table of table.
func (s *staging) name(table string) string { return s.prefix + s.run + "__" + table }

// tableFor is the table the run writes table's rows into, created on first
// use.
func (s *staging) tableFor(ctx context.Context, table string) (string, error) {
	if s == nil {
		return table, nil
	}
	if st, ok := s.tables[table]; ok {
		return st, nil
	}
	st := s.name(table)
	if err := warehouse.CreateInsertStage(ctx, s.eng, table, st); err != nil {
		return "", fmt.Errorf("tabla de preparación de %s: %w", table, err)
	}
	s.tables[table] = st
	return st, nil
}

// attach moves every staged table's rows into its table and drops the
// staging tables.
//
// Where the commit leaves each partition in one part (the embedded engine,
// warehouse.FinalPerPartition), each staged partition is first merged into
// one part, one partition at a time. Moved in as they were (the staging
// table merges only 20 parts at once, see warehouse.CreateInsertStage),
// 13-20 parts per partition landed in the table, whose own background
// merges then started on every partition at once, before consolidate
// could take them one by one: five merges held 242 MB together at the end
// of a 19.8M-row load (etl/BENCHMARKS.md, "Session 10"). A partition the
// table did not hold before (a first load) then needs no further merge.
func (s *staging) attach(ctx context.Context) error {
	if s == nil {
		return nil
	}
	for table, st := range s.tables {
		if warehouse.FinalPerPartition(s.eng) {
			if err := warehouse.MergeSplitPartitions(ctx, s.eng, st); err != nil {
				return fmt.Errorf("consolidando la tabla de preparación de %s: %w", table, err)
			}
		}
		if _, err := warehouse.AttachStage(ctx, s.eng, st, table); err != nil {
			return err
		}
	}
	return s.drop(ctx)
}

// drop drops the run's staging tables.
func (s *staging) drop(ctx context.Context) error {
	if s == nil {
		return nil
	}
	for table, st := range s.tables {
		if err := warehouse.DropTable(ctx, s.eng, st); err != nil {
			return err
		}
		delete(s.tables, table)
	}
	return nil
}

// dropAbandoned drops the staging tables of the job's earlier runs that
// can no longer commit: runs logged as failed or committed (the drop after
// them did not happen: a crash, the warehouse gone), and runs still logged
// as running that started longer ago than the job's timeout (the process
// died). A run of the same job in another process that is still within its
// timeout keeps its tables.
func (s *staging) dropAbandoned(ctx context.Context, job string, timeout time.Duration, now time.Time) error {
	if s == nil {
		return nil
	}
	names, err := warehouse.TablesWithPrefix(ctx, s.eng, s.prefix)
	if err != nil || len(names) == 0 {
		return err
	}
	res, err := s.eng.Query(ctx, "SELECT run_id, status, started_at FROM etl_runs FINAL WHERE job = {j:String} AND status = {s:String}",
		warehouse.P("j", job), warehouse.P("s", StatusRunning))
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for _, row := range res.Rows {
		id, _ := row[0].(string)
		started, _ := row[2].(time.Time)
		if now.Sub(started) < timeout {
			live[stageRun(id)] = true
		}
	}
	for _, name := range names {
		run, _, ok := strings.Cut(strings.TrimPrefix(name, s.prefix), "__")
		if !ok || run == s.run || live[run] {
			continue
		}
		if err := warehouse.DropTable(ctx, s.eng, name); err != nil {
			return err
		}
	}
	return nil
}
