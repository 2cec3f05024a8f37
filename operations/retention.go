package operations

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/observatorio-civico/observatorio/formato"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// Retention applies the retention policy to the warehouse.
//
// ClickHouse 18.16 has no TTL, so rows are deleted with
// ALTER TABLE ... DELETE WHERE mutations, on both engines (on a cluster, on
// the shards' _local tables ON CLUSTER). A mutation runs in the background;
// Run waits until the rows it names are gone, so its report is what
// happened, not what was asked.
type Retention struct {
	Eng     warehouse.Engine
	Cluster string
	Policy  RetentionConfig
	// Now is the clock (tests pin it).
	Now func() time.Time
	Log *slog.Logger
	// Actor says who asked, for the audit log: "programador" or "cli".
	Actor string
	// DryRun counts what would go and deletes nothing.
	DryRun bool
}

// RetentionReport says what a pass removed.
type RetentionReport struct {
	At     time.Time
	DryRun bool
	Tables []TableRetention
}

// Deleted sums the rows removed.
func (r *RetentionReport) Deleted() (n uint64) {
	for _, t := range r.Tables {
		n += t.Deleted
	}
	return n
}

// TableRetention is the policy's effect on one table.
type TableRetention struct {
	Table  string
	Keep   Age
	Cutoff time.Time // rows older than this may go
	// Deleted is the rows removed (in a dry run, that would be removed).
	Deleted uint64
	// Spared explains old rows kept on purpose (runs still referenced).
	Spared string
	Err    error
}

// idChunk bounds the run ids of one statement: ClickHouse 18.16 refuses
// queries over 256 KiB (max_query_size), and a replicated mutation's text
// is kept in ZooKeeper.
const idChunk = 500

func (r *Retention) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC().Truncate(time.Second)
	}
	return time.Now().UTC().Truncate(time.Second)
}

func (r *Retention) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

// Run applies the policy once: quarantine first (so that its rows no longer
// hold old runs), then the run log, then the audit log. A table's failure
// does not stop the others; the returned error joins them.
func (r *Retention) Run(ctx context.Context) (*RetentionReport, error) {
	now := r.now()
	rep := &RetentionReport{At: now, DryRun: r.DryRun}
	steps := []struct {
		table string
		keep  Age
		apply func(ctx context.Context, cutoff time.Time, tr *TableRetention) error
	}{
		{"quarantine", r.Policy.Quarantine, r.quarantine},
		{"etl_runs", r.Policy.RunLog, r.runLog},
		{"admin_audit", r.Policy.AdminAudit, r.audit},
	}
	var errs []error
	for _, s := range steps {
		tr := TableRetention{Table: s.table, Keep: s.keep}
		if s.keep == 0 {
			rep.Tables = append(rep.Tables, tr)
			continue
		}
		tr.Cutoff = now.Add(-time.Duration(s.keep))
		if err := s.apply(ctx, tr.Cutoff, &tr); err != nil {
			tr.Err = err
			errs = append(errs, fmt.Errorf("%s: %w", s.table, err))
		}
		rep.Tables = append(rep.Tables, tr)
		r.record(ctx, now, &tr)
	}
	return rep, errors.Join(errs...)
}

// quarantine deletes the rejected rows of runs that started before the
// cutoff. A row's quarantined_at is its run's start; the runs that started
// after the cutoff are excluded by id as well, so a row of a young run is
// never deleted whatever its timestamp says.
func (r *Retention) quarantine(ctx context.Context, cutoff time.Time, tr *TableRetention) error {
	old, err := r.strings(ctx, "SELECT DISTINCT run_id FROM quarantine WHERE quarantined_at < {corte:DateTime}", warehouse.P("corte", cutoff))
	if err != nil {
		return err
	}
	young, err := r.set(ctx, "SELECT DISTINCT run_id FROM etl_runs WHERE started_at >= {corte:DateTime}", warehouse.P("corte", cutoff))
	if err != nil {
		return err
	}
	ids, spared := withoutKept(old, young)
	if spared > 0 {
		tr.Spared = fmt.Sprintf("%d ejecuciones recientes con filas fechadas antes del corte", spared)
	}
	return r.deleteByIDs(ctx, tr, "quarantine", "quarantined_at < {corte:DateTime} AND run_id IN {ids:In(String)}", cutoff, ids)
}

// runLog deletes the log rows of runs that finished before the cutoff,
// except runs that rows of any table still name (liquidations, payments,
// GEL measurements, watermarks, quarantine...: the published datasets read
// only rows of committed runs, so deleting such a run would unpublish its
// rows) and each job's last committed run (serve loads at start the jobs
// that never committed).
func (r *Retention) runLog(ctx context.Context, cutoff time.Time, tr *TableRetention) error {
	old, err := r.strings(ctx, "SELECT run_id FROM etl_runs GROUP BY run_id HAVING max(finished_at) < {corte:DateTime} ORDER BY run_id", warehouse.P("corte", cutoff))
	if err != nil || len(old) == 0 {
		return err
	}
	keep, err := r.set(ctx, "SELECT argMax(run_id, finished_at) FROM etl_runs WHERE status = 'committed' GROUP BY job")
	if err != nil {
		return err
	}
	tables, err := r.strings(ctx, "SELECT DISTINCT `table` FROM system.columns WHERE database = {db:String} AND name = 'run_id' AND table != 'etl_runs'",
		warehouse.P("db", r.Eng.Database()))
	if err != nil {
		return err
	}
	schema, err := warehouse.Schema()
	if err != nil {
		return err
	}
	inSchema := map[string]bool{}
	for _, s := range schema {
		inSchema[s.Name] = true
	}
	sort.Strings(tables)
	for _, t := range tables {
		if !inSchema[t] { // the _local shards of a cluster are read through their Distributed table
			continue
		}
		used, err := r.set(ctx, "SELECT DISTINCT run_id FROM "+t)
		if err != nil {
			return err
		}
		for id := range used {
			keep[id] = true
		}
	}
	ids, spared := withoutKept(old, keep)
	if spared > 0 {
		tr.Spared = fmt.Sprintf("%d ejecuciones antiguas se conservan: sus filas siguen cargadas o son la última confirmada de su trabajo", spared)
	}
	return r.deleteByIDs(ctx, tr, "etl_runs", "finished_at < {corte:DateTime} AND run_id IN {ids:In(String)}", cutoff, ids)
}

// withoutKept splits run ids into those to delete and the number kept.
func withoutKept(old []string, keep map[string]bool) (ids []string, kept int) {
	for _, id := range old {
		if keep[id] {
			kept++
			continue
		}
		ids = append(ids, id)
	}
	return ids, kept
}

// audit deletes audit rows older than the cutoff.
func (r *Retention) audit(ctx context.Context, cutoff time.Time, tr *TableRetention) error {
	n, err := r.deleteWhere(ctx, "admin_audit", "at < {corte:DateTime}", warehouse.P("corte", cutoff))
	tr.Deleted += n
	return err
}

func (r *Retention) deleteByIDs(ctx context.Context, tr *TableRetention, table, cond string, cutoff time.Time, ids []string) error {
	for len(ids) > 0 {
		chunk := ids[:min(idChunk, len(ids))]
		ids = ids[len(chunk):]
		n, err := r.deleteWhere(ctx, table, cond, warehouse.P("corte", cutoff), warehouse.P("ids", chunk))
		tr.Deleted += n
		if err != nil {
			return err
		}
	}
	return nil
}

// deleteWhere counts the rows cond selects, deletes them with a mutation
// and waits until none is left. It returns the rows deleted.
func (r *Retention) deleteWhere(ctx context.Context, table, cond string, params ...warehouse.Param) (uint64, error) {
	// Rows are counted as readers see them (FINAL where the table merges
	// versions of a row): a run's "running" and "committed" rows are one
	// run. The wait below counts physical rows: every version must go.
	count := "SELECT count() FROM " + table + " WHERE " + cond
	logical := count
	if merges(table) {
		logical = "SELECT count() FROM " + table + " FINAL WHERE " + cond
	}
	n, err := r.count(ctx, logical, params...)
	if err != nil || r.DryRun {
		return n, err
	}
	if physical, err := r.count(ctx, count, params...); err != nil || physical == 0 {
		return n, err
	}
	target := fmt.Sprintf("`%s`.`%s`", r.Eng.Database(), table)
	if r.Cluster != "" {
		target = fmt.Sprintf("`%s`.`%s_local` ON CLUSTER `%s`", r.Eng.Database(), table, r.Cluster)
	}
	if err := r.Eng.Exec(ctx, "ALTER TABLE "+target+" DELETE WHERE "+cond, params...); err != nil {
		return 0, err
	}
	timeout := r.Policy.MutationTimeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	deadline := time.Now().Add(timeout)
	wait := 50 * time.Millisecond
	for {
		left, err := r.count(ctx, count, params...)
		if err != nil {
			return 0, err
		}
		if left == 0 {
			return n, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("el borrado de %s sigue en curso tras %s (%d filas pendientes); ClickHouse lo terminará en segundo plano", table, timeout, left)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// record writes the pass over one table in the admin audit log (and the
// process log): the deletion of public-interest records is itself an
// action to account for.
func (r *Retention) record(ctx context.Context, now time.Time, tr *TableRetention) {
	verb := "borradas"
	if r.DryRun {
		verb = "se borrarían"
	}
	detail := fmt.Sprintf("%s %s filas anteriores al %s (se conservan %s)", verb, formato.Number(int64(tr.Deleted)), tr.Cutoff.Format("2006-01-02 15:04:05"), tr.Keep.Spanish())
	if tr.Spared != "" {
		detail += "; " + tr.Spared
	}
	status := 200
	if tr.Err != nil {
		status = 500
		detail += "; error: " + tr.Err.Error()
	}
	log := r.log().With("tabla", tr.Table, "filas", tr.Deleted, "corte", tr.Cutoff, "prueba", r.DryRun)
	if tr.Err != nil {
		log.Error("retención: falló", "error", tr.Err)
	} else {
		log.Info("retención aplicada", "detalle", detail)
	}
	if r.DryRun {
		return
	}
	actor := r.Actor
	if actor == "" {
		actor = "observatorio"
	}
	if err := r.Eng.Insert(context.WithoutCancel(ctx), "admin_audit", []string{"at", "action", "target", "status", "client", "detail"},
		[][]any{{now, "retention", tr.Table, status, actor, detail}}); err != nil {
		r.log().Error("retención: no se pudo registrar en la auditoría", "error", err)
	}
}

// merges reports whether the schema table merges row versions.
func merges(table string) bool {
	schema, _ := warehouse.Schema()
	for _, s := range schema {
		if s.Name == table {
			return s.Merges
		}
	}
	return false
}

func (r *Retention) count(ctx context.Context, sql string, params ...warehouse.Param) (uint64, error) {
	res, err := r.Eng.Query(ctx, sql, params...)
	if err != nil {
		return 0, err
	}
	return res.Rows[0][0].(uint64), nil
}

func (r *Retention) strings(ctx context.Context, sql string, params ...warehouse.Param) ([]string, error) {
	res, err := r.Eng.Query(ctx, sql, params...)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(res.Rows))
	for i, row := range res.Rows {
		out[i] = row[0].(string)
	}
	return out, nil
}

func (r *Retention) set(ctx context.Context, sql string, params ...warehouse.Param) (map[string]bool, error) {
	list, err := r.strings(ctx, sql, params...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(list))
	for _, s := range list {
		out[s] = true
	}
	return out, nil
}
