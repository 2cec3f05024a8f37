package etl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/liquidation"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// Run statuses in etl_runs.
const (
	StatusRunning   = "running"
	StatusCommitted = "committed"
	StatusFailed    = "failed"
)

// ErrAlreadyRunning is returned when a job is asked to run while a run of
// it is in progress in this process.
var ErrAlreadyRunning = errors.New("el trabajo ya se está ejecutando")

// Runner runs ETL jobs against the warehouse.
//
// Loading is idempotent without transactions: every table that receives
// source rows is a ReplacingMergeTree keyed by the row's business key, so a
// row loaded again (a second run, or a run after a crash at any moment)
// replaces its earlier copy; readers use FINAL, and a committed run
// optimizes the tables it touched so that one physical copy remains.
// On one node a run writes into staging tables that its commit moves into
// the tables (see staging), so that its rows replace no committed copy
// before it commits. Watermarks and the run log advance only when a run
// commits.
type Runner struct {
	Eng    warehouse.Engine
	Pseudo *Pseudonymizer
	Rules  *liquidation.Rules
	Config Config
	// Cluster is the warehouse's cluster name ("" on one node).
	Cluster string
	Log     *slog.Logger
	Metrics *Metrics
	// OnCommit hooks run, in order, after a run commits (dataset
	// releases, dashboard aggregates). A hook's failure does not undo the
	// commit nor stop the next hook: it is logged, counted and returned as
	// a *PostCommitError.
	OnCommit []CommitHook
	// Progress, when set, is told about each batch.
	Progress func(p Progress)
	// IngestOptions are passed to every ingest.Open (tests set an HTTP
	// client or a file system).
	IngestOptions []ingest.Option
	// Now is the clock (tests pin it).
	Now func() time.Time

	mu      sync.Mutex
	running map[string]bool
}

// Progress is the state of a run after a batch.
type Progress struct {
	Job, Source       string
	Read, Loaded      int64
	Quarantined       int64
	Bytes, TotalBytes int64 // TotalBytes is 0 when unknown
}

// SourceReport is what one source contributed to a run.
type SourceReport struct {
	Name        string           `json:"fuente"`
	Table       string           `json:"tabla"`
	Read        int64            `json:"leidas"`
	Loaded      int64            `json:"cargadas"`
	Quarantined int64            `json:"en_cuarentena"`
	Skipped     int64            `json:"omitidas"`
	Unchanged   int64            `json:"sin_cambios"`
	Rejects     map[string]int64 `json:"rechazos_por_codigo,omitempty"`
	Warnings    map[string]int64 `json:"advertencias_por_codigo,omitempty"`
	Verified    map[string]int64 `json:"verificacion,omitempty"`
}

// RunReport is one run of a job.
type RunReport struct {
	RunID    string
	Job      string
	Status   string
	Started  time.Time
	Finished time.Time
	Attempts int
	// Read = Loaded + Quarantined + Skipped (blank lines), per source and
	// in total; Unchanged counts rows of sources that had not changed since
	// the last committed run and were not read again.
	Read, Loaded, Quarantined, Skipped, Unchanged int64
	Sources                                       []SourceReport
	// Tables lists the tables that received rows.
	Tables []string
	Err    error
}

// Summary is the one-line account of a run.
func (r *RunReport) Summary() string {
	s := fmt.Sprintf("%s: %s, leídas %d = cargadas %d + en cuarentena %d + omitidas %d; sin cambios %d (ejecución %s, %s)",
		r.Job, r.Status, r.Read, r.Loaded, r.Quarantined, r.Skipped, r.Unchanged, r.RunID, r.Finished.Sub(r.Started).Round(time.Millisecond))
	if r.Err != nil {
		s += ": " + r.Err.Error()
	}
	return s
}

func (r *Runner) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC().Truncate(time.Second)
	}
	return time.Now().UTC().Truncate(time.Second)
}

// CommitHook is a task that runs after a run commits.
type CommitHook struct {
	// Name says what the task does, in the logs and errors ("publicación
	// de conjuntos de datos").
	Name string
	Run  func(ctx context.Context, rep *RunReport) error
}

// PostCommitError is a task after a commit that failed. The run's rows are
// committed all the same; what failed is what the run should have made of
// them (a release, a dashboard), which the next commit tries again.
type PostCommitError struct {
	Job  string
	Task string
	Err  error
}

func (e *PostCommitError) Error() string {
	return fmt.Sprintf("%s: los datos se confirmaron, pero la tarea posterior %q falló: %v", e.Job, e.Task, e.Err)
}

func (e *PostCommitError) Unwrap() error { return e.Err }

// Run runs a job once and then the OnCommit hooks if it committed. A
// committed run whose hooks failed returns its report and their
// *PostCommitError (joined when several failed).
func (r *Runner) Run(ctx context.Context, name string) (*RunReport, error) {
	rep, err := r.run(ctx, name)
	if err != nil {
		return rep, err
	}
	return rep, r.afterCommit(ctx, rep)
}

// RunJobs runs jobs one after another and then the OnCommit hooks once, for
// the last committed run: publishing datasets after every job of a batch
// would redo the same work. It returns the number of failed jobs, and the
// hooks' *PostCommitError if any failed; it goes on after a failure.
func (r *Runner) RunJobs(ctx context.Context, names []string, each func(*RunReport, error)) (failed int, postCommit error) {
	var last *RunReport
	for _, name := range names {
		rep, err := r.run(ctx, name)
		if err != nil {
			failed++
		} else {
			last = rep
		}
		if each != nil {
			each(rep, err)
		}
	}
	if last != nil {
		postCommit = r.afterCommit(ctx, last)
	}
	return failed, postCommit
}

// Pending lists the jobs that have never committed a run.
func (r *Runner) Pending(ctx context.Context) ([]string, error) {
	res, err := r.Eng.Query(ctx, "SELECT DISTINCT job FROM etl_runs WHERE status = 'committed'")
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, row := range res.Rows {
		done[row[0].(string)] = true
	}
	var out []string
	for _, j := range r.Config.Jobs {
		if !done[j.Name] {
			out = append(out, j.Name)
		}
	}
	return out, nil
}

func (r *Runner) afterCommit(ctx context.Context, rep *RunReport) error {
	var errs []error
	for _, hook := range r.OnCommit {
		// The load's buffers, and a hook's own (a publication's aggregate
		// cells), are garbage once it is done: give them back to the
		// system before the next hook's statements take memory of their
		// own, rather than when the runtime gets to it. A refresh of the
		// dashboards after a publication at 19.8M liquidations stood at
		// 609-615 MB without it (etl/BENCHMARKS.md, "Session 12").
		debug.FreeOSMemory()
		if err := hook.Run(context.WithoutCancel(ctx), rep); err != nil {
			r.log().Error("tarea posterior a la carga fallida", "trabajo", rep.Job, "tarea", hook.Name, "error", err)
			r.Metrics.postCommitFailed(rep.Job, hook.Name)
			errs = append(errs, &PostCommitError{Job: rep.Job, Task: hook.Name, Err: err})
		}
	}
	return errors.Join(errs...)
}

// run runs a job once: one attempt, then retries with exponential backoff
// while the error is transient. Only one run of a job goes at a time.
func (r *Runner) run(ctx context.Context, name string) (*RunReport, error) {
	job, err := r.Config.Job(name)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.running == nil {
		r.running = map[string]bool{}
	}
	if r.running[name] {
		r.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", name, ErrAlreadyRunning)
	}
	r.running[name] = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.running, name)
		r.mu.Unlock()
	}()

	for attempt := 1; ; attempt++ {
		rep, err := r.attempt(ctx, job)
		rep.Attempts = attempt
		r.Metrics.observe(rep)
		if err == nil {
			return rep, nil
		}
		if !Transient(err) || attempt > job.retries() || ctx.Err() != nil {
			return rep, err
		}
		wait := job.backoff() << (attempt - 1)
		wait += time.Duration(rand.Int64N(int64(wait)/2 + 1)) // jitter
		r.log().Warn("ejecución fallida, se reintentará", "trabajo", name, "intento", attempt, "espera", wait, "error", err)
		select {
		case <-ctx.Done():
			return rep, err
		case <-time.After(wait):
		}
	}
}

// Transient reports whether an error may go away by itself (network,
// warehouse unavailable, timeouts), as opposed to a bad source or a bad
// configuration, which a retry would only repeat.
func Transient(err error) bool {
	var se *ingest.SourceError
	var ce *warehouse.ConfigError
	var qe *warehouse.QueryError
	var he *ingest.HTTPError
	var te *ingest.TimeoutError
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &te), errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &he):
		return he.Status == 0 || he.Status == 429 || he.Status >= 500
	case errors.As(err, &se), errors.As(err, &ce), errors.Is(err, ingest.ErrEmptyFile):
		return false
	case errors.As(err, &qe):
		// Syntax and schema errors repeat; memory, timeouts and too many
		// parts pass (the warehouse's own list).
		return warehouse.Unavailable(err)
	}
	return true
}

// watermark is what a committed run leaves for the next run of a source.
type watermark struct {
	State       ingest.State `json:"state"`
	Fingerprint string       `json:"fingerprint,omitempty"` // local files: names, sizes and times
	Rows        int64        `json:"rows"`                  // rows read by the run that left it
}

func (r *Runner) watermarks(ctx context.Context, job string) (map[string]watermark, error) {
	// Only watermarks of committed runs count: commit writes the watermark
	// before the run's committed row, and a crash between the two must not
	// leave a source marked as read whose rows no reader will ever see
	// (readers only take rows of committed runs). Such a source is read
	// again and its rows replace themselves.
	res, err := r.Eng.Query(ctx, `SELECT source, argMax(watermark, updated_at) FROM watermarks
WHERE job = {job:String} AND run_id GLOBAL IN (SELECT run_id FROM etl_runs WHERE job = {job:String} AND status = 'committed')
GROUP BY source`,
		warehouse.P("job", job))
	if err != nil {
		return nil, err
	}
	out := map[string]watermark{}
	for _, row := range res.Rows {
		var w watermark
		if err := json.Unmarshal([]byte(row[1].(string)), &w); err == nil {
			out[row[0].(string)] = w
		}
	}
	return out, nil
}

// fingerprint summarizes the local files of a source (names, sizes,
// modification times), so an unchanged folder is not read again.
func fingerprint(src *ingest.SourceConfig) string {
	if src.Kind != ingest.SourceFile || src.File == nil {
		return ""
	}
	var files []string
	switch {
	case src.File.Dir != "":
		pattern := src.File.Pattern
		if pattern == "" {
			pattern = "*"
		}
		filepath.WalkDir(src.File.Dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && p != src.File.Dir && !src.File.Recursive {
				return filepath.SkipDir
			}
			if ok, _ := filepath.Match(pattern, d.Name()); ok && !d.IsDir() {
				files = append(files, p)
			}
			return nil
		})
	default:
		files, _ = filepath.Glob(src.File.Path)
	}
	if len(files) == 0 {
		return ""
	}
	sort.Strings(files)
	var b strings.Builder
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return ""
		}
		fmt.Fprintf(&b, "%s|%d|%d\n", f, st.Size(), st.ModTime().UnixNano())
	}
	return b.String()
}

func (r *Runner) logRun(ctx context.Context, rep *RunReport) error {
	msg := ""
	if rep.Err != nil {
		msg = rep.Err.Error()
	}
	finished := rep.Finished
	if finished.IsZero() {
		finished = rep.Started
	}
	return r.Eng.Insert(ctx, "etl_runs",
		[]string{"run_id", "job", "started_at", "finished_at", "status", "rows_read", "rows_loaded", "rows_quarantined", "rows_skipped", "rows_unchanged", "error"},
		[][]any{{rep.RunID, rep.Job, rep.Started, finished, rep.Status, rep.Read, rep.Loaded, rep.Quarantined, rep.Skipped, rep.Unchanged, msg}})
}

// attempt is one try at a job: read every source, load, and commit.
func (r *Runner) attempt(parent context.Context, job *JobConfig) (rep *RunReport, err error) {
	rep = &RunReport{RunID: NewRunID(), Job: job.Name, Status: StatusRunning, Started: r.now()}
	ctx, cancel := context.WithTimeout(parent, job.timeout())
	defer cancel()
	var stage *staging
	if r.Cluster == "" {
		stage = newStaging(r.Eng, job.Name, rep.RunID)
	}
	defer r.logMemoryWhileLoading(ctx, job.Name)()
	defer func() {
		if err == nil {
			return
		}
		rep.Status, rep.Err, rep.Finished = StatusFailed, err, r.now()
		// The run log must record the failure even when the run's context
		// is gone (timeout, shutdown).
		lctx, lcancel := context.WithTimeout(context.WithoutCancel(parent), 10*time.Second)
		defer lcancel()
		if lerr := r.logRun(lctx, rep); lerr != nil {
			r.log().Error("no se pudo registrar la ejecución fallida", "trabajo", job.Name, "error", lerr)
		}
		if derr := stage.drop(lctx); derr != nil {
			r.log().Error("no se pudieron borrar las tablas de preparación de la ejecución fallida (la próxima ejecución lo intentará)",
				"trabajo", job.Name, "error", derr)
		}
		r.log().Error("ejecución fallida", "trabajo", job.Name, "ejecucion", rep.RunID, "error", err)
	}()
	if err := r.logRun(ctx, rep); err != nil {
		return rep, err
	}
	if err := stage.dropAbandoned(ctx, job.Name, job.timeout(), rep.Started); err != nil {
		return rep, fmt.Errorf("tablas de preparación de ejecuciones anteriores: %w", err)
	}
	marks, err := r.watermarks(ctx, job.Name)
	if err != nil {
		return rep, err
	}
	t := &transformer{pseudo: r.Pseudo, rules: r.Rules, runID: rep.RunID, now: rep.Started}
	newMarks := map[string]watermark{}
	tables := map[string]bool{}
	for i := range job.Sources {
		src := &job.Sources[i]
		sr, mark, err := r.loadSource(ctx, job, src, marks[src.Name], t, stage)
		if err != nil {
			return rep, fmt.Errorf("fuente %s: %w", src.Name, err)
		}
		rep.Sources = append(rep.Sources, *sr)
		rep.Read += sr.Read
		rep.Loaded += sr.Loaded
		rep.Quarantined += sr.Quarantined
		rep.Skipped += sr.Skipped
		rep.Unchanged += sr.Unchanged
		if mark != nil {
			newMarks[src.Name] = *mark
		}
		if sr.Loaded > 0 {
			tables[sr.Table] = true
		}
		if sr.Quarantined > 0 {
			// Quarantined rows go in as the load goes; a run after an
			// interrupted one writes them again, and the commit leaves one
			// copy of each, as for the source's table.
			tables["quarantine"] = true
		}
	}
	for tbl := range tables {
		rep.Tables = append(rep.Tables, tbl)
	}
	sort.Strings(rep.Tables)
	if err := r.commit(ctx, rep, newMarks, stage); err != nil {
		return rep, err
	}
	r.log().Info(rep.Summary())
	return rep, nil
}

// memoryLogEvery is how often a run logs its memory at debug level.
const memoryLogEvery = 10 * time.Second

// logMemoryWhileLoading logs, every memoryLogEvery until stop is called,
// the run's memory as the process and the engine account for it (debug
// level only): scripts/etl-memory.sh's samples of a long load can then be
// told apart into Go, the engine's statements and its background merges.
func (r *Runner) logMemoryWhileLoading(ctx context.Context, job string) (stop func()) {
	log := r.log()
	if !log.Enabled(ctx, slog.LevelDebug) {
		return func() {}
	}
	done := make(chan struct{})
	start := time.Now()
	go func() {
		t := time.NewTicker(memoryLogEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				attrs := append([]any{"trabajo", job, "s", int(time.Since(start).Seconds())}, warehouse.MemoryAccount(ctx, r.Eng)...)
				log.Debug("memoria de la carga", attrs...)
			}
		}
	}()
	return func() { close(done) }
}

// commit makes the run count: its staged rows moved into the tables, one
// physical copy of each row in the tables it touched, the new watermarks,
// and the run log row saying committed.
func (r *Runner) commit(ctx context.Context, rep *RunReport, marks map[string]watermark, stage *staging) error {
	if err := stage.attach(ctx); err != nil {
		return err
	}
	if r.Cluster == "" {
		for _, tbl := range rep.Tables {
			if err := consolidate(ctx, r.Eng, r.log(), tbl); err != nil {
				return err
			}
		}
	}
	if len(marks) > 0 {
		names := make([]string, 0, len(marks))
		for n := range marks {
			names = append(names, n)
		}
		sort.Strings(names)
		rows := make([][]any, 0, len(marks))
		for _, n := range names {
			b, _ := json.Marshal(marks[n])
			rows = append(rows, []any{rep.Job, n, string(b), rep.RunID, r.now()})
		}
		if err := r.Eng.Insert(ctx, "watermarks", []string{"job", "source", "watermark", "run_id", "updated_at"}, rows); err != nil {
			return err
		}
	}
	rep.Status, rep.Finished = StatusCommitted, r.now()
	if !rep.Finished.After(rep.Started) {
		// The committed row must replace the running one (version column).
		rep.Finished = rep.Started.Add(time.Second)
	}
	return r.logRun(ctx, rep)
}

// consolidate makes each row key of a table have one physical copy. A run
// that only brought new keys (a first load, a new period) leaves nothing to
// merge on a server, and rewriting the whole table with OPTIMIZE ... FINAL
// would cost as much as the load itself and grow with the table; so the
// copies are counted first, and the merge runs only when a row was loaded
// again.
//
// On an engine whose FINAL deduplicates partition by partition (the
// embedded one, see warehouse.FinalPerPartition) the commit also leaves
// each partition in one part and no key in two partitions:
//   - one part: FINAL reads such a partition as it is. Over the 69 parts a
//     first load of 9.9M liquidations leaves, the merge of their streams
//     made every GROUP BY over liquidations FINAL spill a file per block and
//     peak at 2.4 GB; after the merge here the same query holds 0.47 GB.
//     The merge costs a rewrite of the partitions the run wrote to (24 s
//     and 0.29 GB for that first load; an incremental run rewrites the
//     years it touched).
//   - one partition per key: a row whose partitioning column changed at the
//     source (a tax year corrected) lands in another partition, where FINAL
//     per partition would read it next to its old copy; the older copy is
//     deleted (deleteOlderCopies).
//
// OPTIMIZE ... FINAL silently does nothing when the server cannot assign
// the merge at that moment (a background merge holds the parts, as seen on
// ClickHouse 18.16), so the state is checked again and the merge retried a
// few times. If copies remain, readers still see one through FINAL on a
// server; the run commits and says so in the log.
func consolidate(ctx context.Context, eng warehouse.Engine, log *slog.Logger, tbl string) error {
	perPartition := warehouse.FinalPerPartition(eng)
	for attempt := 1; ; attempt++ {
		var split []string
		var err error
		if perPartition {
			split, err = warehouse.SplitPartitions(ctx, eng, tbl)
		}
		if err != nil {
			return fmt.Errorf("consolidando %s: %w", tbl, err)
		}
		// Copies are counted once the partitions are merged: the count
		// reads the table with FINAL, which over many parts costs as much
		// as the merge.
		var extra int64
		if len(split) == 0 {
			if extra, err = extraCopies(ctx, eng, tbl); err != nil {
				return fmt.Errorf("consolidando %s: %w", tbl, err)
			}
			if extra == 0 {
				return nil
			}
		}
		if attempt == 6 {
			log.Warn("quedan copias físicas o particiones en varias partes sin consolidar (las consultas con FINAL ven una sola copia por partición)",
				"tabla", tbl, "copias", extra, "particiones", len(split))
			return nil
		}
		if attempt > 1 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt-1) * 200 * time.Millisecond):
			}
		}
		switch {
		case !perPartition:
			err = eng.Exec(ctx, "OPTIMIZE TABLE "+tbl+" FINAL")
		case len(split) > 0:
			err = warehouse.MergePartitions(ctx, eng, tbl, split)
		default:
			// Every partition is one part, so the copies left are of keys
			// in two partitions.
			err = deleteOlderCopies(ctx, eng, log, tbl, extra)
		}
		if err != nil {
			return fmt.Errorf("consolidando %s: %w", tbl, err)
		}
	}
}

// extraCopies counts the rows of tbl beyond one per key, across partitions.
func extraCopies(ctx context.Context, eng warehouse.Engine, tbl string) (int64, error) {
	res, err := eng.Query(ctx, "SELECT (SELECT count() FROM "+tbl+") - (SELECT count() FROM "+tbl+" FINAL"+warehouse.AcrossPartitions(eng)+")")
	if err != nil {
		return 0, err
	}
	switch n := res.Rows[0][0].(type) {
	case int64:
		return n, nil
	case uint64:
		return int64(n), nil
	}
	return 0, fmt.Errorf("cuenta de copias de %s: %T", tbl, res.Rows[0][0])
}

var versionColumn = regexp.MustCompile(`ReplacingMergeTree\((\w+)\)`)

// deleteOlderCopies deletes, for each key of tbl with copies in more than
// one partition (copies of them), every copy but the one FINAL keeps: the
// highest version, then the later run (every table the ETL loads has a
// run_id). It reads the key and the version column from the table's
// definition, and groups every key of the table: a cost paid only when a
// run moved rows between partitions.
func deleteOlderCopies(ctx context.Context, eng warehouse.Engine, log *slog.Logger, tbl string, copies int64) error {
	res, err := eng.Query(ctx, "SELECT sorting_key, engine_full FROM system.tables WHERE database = {db:String} AND name = {t:String}",
		warehouse.P("db", eng.Database()), warehouse.P("t", tbl))
	if err != nil {
		return err
	}
	if len(res.Rows) != 1 {
		return fmt.Errorf("no se encontró la definición de %s", tbl)
	}
	key, _ := res.Rows[0][0].(string)
	engine, _ := res.Rows[0][1].(string)
	m := versionColumn.FindStringSubmatch(engine)
	if key == "" || m == nil {
		return fmt.Errorf("%s no es un ReplacingMergeTree con columna de versión: %s", tbl, engine)
	}
	log.Info("filas que cambiaron de partición: se borran sus copias anteriores", "tabla", tbl, "copias", copies)
	// Versions are seconds: two runs within one second tie, and FINAL then
	// keeps the copy inserted last, which is the later run's, whose id
	// sorts after (NewRunID starts with the time).
	return eng.Exec(ctx, fmt.Sprintf(`ALTER TABLE %[1]s DELETE WHERE (%[2]s, %[3]s, run_id) IN (
		SELECT %[2]s, tupleElement(c, 1), tupleElement(c, 2) FROM (
			SELECT %[2]s, arrayJoin(arrayPopBack(arraySort(groupArray((%[3]s, run_id))))) AS c
			FROM %[1]s GROUP BY %[2]s HAVING uniqExact(_partition_id) > 1))
		SETTINGS mutations_sync = 2`, tbl, key, m[1]))
}

// loadSource reads one source and loads its rows and rejects in batches.
func (r *Runner) loadSource(ctx context.Context, job *JobConfig, src *ingest.SourceConfig, prev watermark, t *transformer, stage *staging) (*SourceReport, *watermark, error) {
	table := tableOf[src.Record]
	cols := columnsOf[src.Record]
	sr := &SourceReport{Name: src.Name, Table: table}
	fp := fingerprint(src)
	if fp != "" && fp == prev.Fingerprint {
		sr.Unchanged = prev.Rows
		return sr, nil, nil
	}
	opts := append([]ingest.Option{ingest.WithState(prev.State), ingest.WithLogger(r.log())}, r.IngestOptions...)
	st, err := ingest.Open(ctx, *src, opts...)
	if errors.Is(err, ingest.ErrUnchanged) {
		sr.Unchanged = prev.Rows
		return sr, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	personal := map[string]bool{}
	for _, f := range st.Schema().PersonalFields() {
		personal[f] = true
	}
	batch := r.Config.batchSize()
	target, err := stage.tableFor(ctx, table)
	if err != nil {
		return nil, nil, err
	}
	tc, err := warehouse.ColumnsOf(ctx, r.Eng, target, cols)
	if err != nil {
		return nil, nil, err
	}
	// Three stages overlap: this goroutine decodes the source (one stream,
	// in order); transform workers, one per core, turn records into rows
	// (pseudonyms, the liquidation core's recomputation, the inputs JSON)
	// written straight into blocks of the warehouse's Native encoding,
	// which is independent per row; a collector adds the blocks to a
	// spool (on the embedded engine an insert already running, reading
	// the blocks from a pipe, so each block is recycled at once) and a
	// loader completes each full spool while the next one fills. The
	// channels between them hold a few blocks and at most two spools, so
	// memory stays bounded whatever the file size: the loader's channel
	// holds none, because every open insert holds its rows in the engine
	// until it completes (up to about 70 MB for 50,000 liquidations), and
	// a spool waiting in the channel let a third insert open.
	type load struct {
		spool *warehouse.Spool // rows of the source's table
	}
	type chunk struct {
		recs    []ingest.Record
		rejs    []ingest.Reject
		release func() // gives recs back to the stream once written
	}
	type done struct {
		block    *warehouse.Block
		qrows    [][]any
		verified map[string]int64
		unfit    int64 // records quarantined because a value did not fit its column
		err      error
	}
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	workers := runtime.GOMAXPROCS(0)
	chunks := make(chan chunk, workers)
	results := make(chan done, workers)
	loads := make(chan load)
	loaded := make(chan error, 1)
	go func() {
		var err error
		for l := range loads {
			if err != nil {
				l.spool.Close()
				continue
			}
			if err = l.spool.Insert(lctx); err == nil {
				tc.Recycle(l.spool.Blocks())
			}
			if err != nil {
				stop()
			}
		}
		loaded <- err
	}()
	var wg sync.WaitGroup
	var rowBytes atomic.Int64 // bytes per row of the last block, to size the next
	rowBytes.Store(256)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := t.forWorker()
			for c := range chunks {
				d := done{block: tc.NewBlock(len(c.recs), int(rowBytes.Load())), qrows: make([][]any, 0, len(c.rejs))}
				for _, rec := range c.recs {
					status, err := t.write(d.block, rec)
					var ve *warehouse.ValueError
					if errors.As(err, &ve) {
						// A value the warehouse column cannot hold (an
						// amount past Decimal(18, 2)): the row goes to
						// quarantine, the others go on.
						d.block.DropRow()
						c.rejs = append(c.rejs, unfitReject(rec, ve))
						d.unfit++
						continue
					}
					if err != nil {
						d.err = fmt.Errorf("%s: %w", rec.Provenance().Where(), err)
						break
					}
					if status != "" {
						if d.verified == nil {
							d.verified = map[string]int64{}
						}
						d.verified[status]++
					}
				}
				// The rows are in the block (and an unfit record's
				// reject holds copies): the records can be reused.
				c.release()
				if n := d.block.Rows(); n > 0 {
					rowBytes.Store(int64(d.block.Bytes()/n + 1))
				}
				for i := range c.rejs {
					d.qrows = append(d.qrows, t.quarantine(job.Name, &c.rejs[i], personal))
				}
				select {
				case results <- d:
				case <-lctx.Done():
				}
			}
		}()
	}
	// The collector owns the batches and the counts of rows handed to the
	// loader; they are read after it ends.
	var queued, queuedQ, pending atomic.Int64 // pending: records still in the workers
	verified := map[string]int64{}
	var unfit int64
	collected := make(chan error, 1)
	go func() {
		var spool *warehouse.Spool
		var qrows [][]any
		defer func() {
			if spool != nil {
				spool.Close()
			}
		}()
		send := func(l load) error {
			select {
			case loads <- l:
				return nil
			case <-lctx.Done():
				return lctx.Err() // the loader failed (its error is reported) or the run ended
			}
		}
		// Quarantined rows are inserted here, never while this goroutine
		// holds an open spool: an open spool holds a connection of the
		// engine's pool until the loader inserts it, so with a pool of one
		// connection a second insert from here would wait for itself.
		insertQuarantine := func() error {
			if len(qrows) == 0 {
				return nil
			}
			if err := r.Eng.Insert(lctx, "quarantine", QuarantineColumns, qrows); err != nil {
				return err
			}
			queuedQ.Add(int64(len(qrows)))
			qrows = make([][]any, 0, 64)
			return nil
		}
		flush := func(force bool) error {
			full := force || len(qrows) >= batch
			if spool != nil && (full || spool.Rows() >= batch) {
				n := spool.Rows()
				if err := send(load{spool: spool}); err != nil {
					return err
				}
				spool = nil
				queued.Add(int64(n))
			}
			if spool == nil && full {
				return insertQuarantine()
			}
			return nil
		}
		add := func(b *warehouse.Block) error {
			if spool == nil {
				if err := insertQuarantine(); err != nil {
					return err
				}
				var err error
				if spool, err = warehouse.NewSpool(lctx, r.Eng, tc); err != nil {
					return err
				}
			}
			written, err := spool.Add(b)
			if written {
				tc.Recycle([]*warehouse.Block{b})
			}
			return err
		}
		var err error
		for d := range results {
			if err != nil {
				continue // drain, so the workers end
			}
			if err = d.err; err != nil {
				stop()
				continue
			}
			rows := d.block.Rows()
			if rows > 0 {
				if err = add(d.block); err != nil {
					stop()
					continue
				}
			}
			qrows = append(qrows, d.qrows...)
			for k, v := range d.verified {
				verified[k] += v
			}
			pending.Add(-int64(rows) - d.unfit)
			unfit += d.unfit
			if err = flush(false); err != nil {
				stop()
			}
		}
		if err == nil {
			err = flush(true)
		}
		close(loads)
		collected <- err
	}()
	err = st.EachBorrowed(lctx, func(recs []ingest.Record, rejects []ingest.Reject, release func()) error {
		pending.Add(int64(len(recs)))
		select {
		case chunks <- chunk{recs, rejects, release}:
		case <-lctx.Done():
			return lctx.Err()
		}
		if r.Progress != nil {
			stats := st.Stats()
			r.Progress(Progress{Job: job.Name, Source: src.Name, Read: stats.Read,
				Loaded: stats.Records - pending.Load(), Quarantined: stats.Rejects, Bytes: stats.Bytes})
		}
		return nil
	})
	close(chunks)
	wg.Wait()
	close(results)
	if cerr := <-collected; err == nil || (cerr != nil && !errors.Is(cerr, context.Canceled)) {
		err = cerr // a row that did not fit its column explains the cancelled stream
	}
	if lerr := <-loaded; lerr != nil {
		err = lerr // the loader's error explains a cancelled send
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, nil, err
	}
	sr.Loaded, sr.Quarantined = queued.Load(), queuedQ.Load()
	stats := st.Stats()
	sr.Read, sr.Skipped = stats.Read, stats.Blank
	sr.Rejects, sr.Warnings = stats.RejectsByCode, stats.WarningsByCode
	if unfit > 0 {
		sr.Rejects[ingest.CodeRange] += unfit
	}
	if len(verified) > 0 {
		sr.Verified = verified
	}
	if sr.Read != sr.Loaded+sr.Quarantined+sr.Skipped {
		// The books must balance; a difference is a bug, never data to lose.
		return nil, nil, fmt.Errorf("cuentas descuadradas: leídas %d ≠ cargadas %d + en cuarentena %d + omitidas %d",
			sr.Read, sr.Loaded, sr.Quarantined, sr.Skipped)
	}
	return sr, &watermark{State: st.State(), Fingerprint: fp, Rows: sr.Read}, nil
}
