package datasets

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/observatorio-civico/observatorio/analytics"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// PublishOptions tune a publication. The zero value publishes every
// dataset as of now with the default thresholds.
type PublishOptions struct {
	// Cutoff: ETL runs committed up to this instant are published (zero:
	// now). Every dataset of one Publish uses the same cut-off.
	Cutoff time.Time
	// K and DominancePct override DefaultK and DominancePct (tests).
	K            int
	DominancePct float64
	// Datasets limits the publication to these ids (empty: all).
	Datasets []string
	// RunID is the ETL run that triggered the publication (for the log).
	RunID string
	// Balances, when set, keeps the liquidations' balances the publication
	// builds for the next reader of the same snapshot (the dashboards'
	// refresh after the same commit), which drops them; nil: the
	// publication drops its own.
	Balances *analytics.SharedBalances
}

// File is one file of a release.
type File struct {
	Name      string `json:"nombre"`
	Format    string `json:"formato"`
	MediaType string `json:"tipo"`
	Bytes     int64  `json:"bytes"`
	SHA256    string `json:"sha256"`
}

// Disclosure is what the disclosure control did to one release, as
// published in its metadata.
type Disclosure struct {
	Level           Level          `json:"nivel"`
	Statement       string         `json:"declaracion"`
	K               int            `json:"k,omitempty"`
	Dominance       string         `json:"dominancia,omitempty"`
	Quasi           []string       `json:"cuasi_identificadores,omitempty"`
	Pseudonymized   []string       `json:"seudonimizadas,omitempty"`
	Cells           int            `json:"celdas,omitempty"`
	CellsSuppressed int            `json:"celdas_suprimidas"`
	ByReason        map[string]int `json:"suprimidas_por_motivo,omitempty"`
	SourceRows      uint64         `json:"filas_fuente,omitempty"`
	RowsSuppressed  uint64         `json:"filas_suprimidas"`
	Generalized     []string       `json:"generalizado,omitempty"`
	Dropped         []string       `json:"no_publicado,omitempty"`
	Note            string         `json:"nota,omitempty"`
}

// Release is one immutable publication of a dataset.
type Release struct {
	Dataset     string
	Number      uint32
	Created     time.Time
	Cutoff      time.Time
	Rows        uint64
	Fingerprint string
	Files       []File
	Disclosure  Disclosure
	Engine      string
}

// File returns the named file of the release.
func (r *Release) File(name string) (File, bool) {
	for _, f := range r.Files {
		if f.Name == name {
			return f, true
		}
	}
	return File{}, false
}

// HasFormat reports whether the release has a file in format.
func (r *Release) HasFormat(format string) bool {
	for _, f := range r.Files {
		if f.Format == format {
			return true
		}
	}
	return false
}

var publishLocks sync.Map // warehouse.Engine -> *sync.Mutex

// Publish makes a new release of every dataset whose content changed since
// its latest release, as of one cut-off: it builds each dataset from the
// ETL runs committed up to the cut-off, applies the disclosure policy,
// stores the published rows and the release files (CSV, Excel CSV,
// Parquet where the engine writes it, datapackage.json) with their SHA-256,
// and records the release last, which makes it visible. It returns the new
// releases (none when nothing changed) and, joined, the errors of the
// datasets it could not publish. The ETL calls it after each committed
// run; calling it again without new data does nothing.
func Publish(ctx context.Context, eng warehouse.Engine, opts PublishOptions) ([]Release, error) {
	ctx = steadyContext(ctx)
	mu, _ := publishLocks.LoadOrStore(eng, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()

	if err := CheckCatalog(); err != nil {
		return nil, err
	}
	if err := checkTables(ctx, eng); err != nil {
		return nil, err
	}
	cutoff := opts.Cutoff
	if cutoff.IsZero() {
		cutoff = time.Now()
	}
	cutoff = cutoff.UTC().Truncate(time.Second)
	snap := &snapshot{eng: eng, cutoff: cutoff, shared: opts.Balances}
	defer snap.close(ctx)
	r := rules{k: opts.K, dominancePct: opts.DominancePct}
	if r.k <= 0 {
		r.k = DefaultK
	}
	if r.dominancePct <= 0 {
		r.dominancePct = DominancePct
	}
	want := map[string]bool{}
	for _, id := range opts.Datasets {
		if _, err := Get(id); err != nil {
			return nil, err
		}
		want[id] = true
	}
	names, err := entityNames(ctx, eng)
	if err != nil {
		return nil, err
	}
	var out []Release
	var failed []error
	publish := func(d *Dataset, agg *aggResult) {
		if ctx.Err() != nil {
			return
		}
		rel, err := publishOne(ctx, eng, d, snap, r, agg)
		if err != nil {
			failed = append(failed, fmt.Errorf("publicando %s: %w", d.ID, err))
			return
		}
		if rel != nil {
			slog.Info("versión publicada", "conjunto", d.ID, "version", rel.Number, "filas", rel.Rows,
				"celdas_suprimidas", rel.Disclosure.CellsSuppressed, "filas_suprimidas", rel.Disclosure.RowsSuppressed, "ejecucion", opts.RunID)
			out = append(out, *rel)
		}
	}
	// The datasets built by SQL go first, the aggregated ones after their
	// cells are built: those cells stay in the Go heap until the last
	// aggregated release (77 MB at 1.1M liquidations and their payments),
	// and the record-level build, the publication's heaviest statement,
	// then runs without them (etl/BENCHMARKS.md, "Session 12"). Each
	// release is recorded on its own, at the same cut-off, so one that
	// fails does not withhold the others: the error names it, and the
	// next publication tries it again.
	var aggregated []*Dataset
	for i := range Catalog {
		d := &Catalog[i]
		if len(want) > 0 && !want[d.ID] {
			continue
		}
		if _, ok := d.build.(aggBuild); ok {
			aggregated = append(aggregated, d)
			continue
		}
		publish(d, nil)
	}
	if len(aggregated) > 0 {
		aggs, err := buildAggregates(ctx, eng, snap, names, r)
		if err != nil {
			failed = append(failed, fmt.Errorf("agregados de los conjuntos: %w", err))
		} else {
			for _, d := range aggregated {
				publish(d, aggs[d.ID])
			}
		}
	}
	if err := ctx.Err(); err != nil {
		failed = append(failed, err)
	}
	return out, errors.Join(failed...)
}

func publishOne(ctx context.Context, eng warehouse.Engine, d *Dataset, snap *snapshot, r rules, agg *aggResult) (*Release, error) {
	if testHookPublish != nil {
		if err := testHookPublish(d.ID); err != nil {
			return nil, err
		}
	}
	cutoff := snap.cutoff
	prev, err := Latest(ctx, eng, d.ID)
	if err != nil && !errors.Is(err, ErrNoRelease) {
		return nil, err
	}
	disc := Disclosure{Level: d.Policy.Level, Statement: d.Statement(), Generalized: d.Policy.Generalized, Dropped: d.Policy.Dropped}
	for _, c := range d.Columns {
		if c.Role == Identifier {
			disc.Pseudonymized = append(disc.Pseudonymized, c.Name)
		}
	}
	step := newSteps(ctx, eng, d.ID)
	var fingerprint string
	var rows [][]any
	// inner and params: the published rows of a dataset built by SQL,
	// computed once for its fingerprint and its build.
	var inner string
	var params []warehouse.Param
	switch b := d.build.(type) {
	case aggBuild:
		var rep suppressionReport
		rows, rep = agg.publishedRows()
		disc.K, disc.Cells, disc.CellsSuppressed, disc.ByReason = r.k, rep.Cells, rep.Withheld, rep.ByReason
		if d.Policy.Dominance {
			disc.Dominance = fmt.Sprintf("(%d, %g)", DominanceN, r.dominancePct)
		}
		h := sha256.New()
		for _, row := range rows {
			for _, v := range row {
				io.WriteString(h, textOf(v))
				h.Write([]byte{'\t'})
			}
			h.Write([]byte{'\n'})
		}
		fingerprint = fmt.Sprintf("%d:%x", len(rows), h.Sum(nil))
	case recordBuild, sqlBuild:
		var withheld *kClasses
		if rb, ok := b.(recordBuild); ok {
			var err error
			if withheld, err = recordClasses(ctx, eng, d, rb, snap, r); err != nil {
				return nil, err
			}
			step.done("clases")
		}
		var err error
		if inner, params, err = selectSQL(ctx, d, snap, withheld); err != nil {
			return nil, err
		}
		res, err := eng.Query(ctx, "SELECT count() AS n, sum("+huellaExpr(d)+") AS h FROM (\n"+inner+"\n) AS i", params...)
		if err != nil {
			return nil, err
		}
		fingerprint = fmt.Sprintf("%v:%v", res.Rows[0][0], res.Rows[0][1])
		step.done("huella")
		if withheld != nil {
			disc.K, disc.Quasi = r.k, d.QuasiIdentifiers()
			disc.SourceRows = withheld.sourceRows
			disc.RowsSuppressed = disc.SourceRows - res.Rows[0][0].(uint64)
			fingerprint += fmt.Sprintf(":k%d", r.k)
		}
	}
	if prev != nil && prev.Fingerprint == fingerprint {
		return nil, nil // nothing changed
	}
	number, err := nextRelease(ctx, eng, d)
	if err != nil {
		return nil, err
	}
	rel := &Release{Dataset: d.ID, Number: number, Created: time.Now().UTC().Truncate(time.Second), Cutoff: cutoff,
		Fingerprint: fingerprint, Disclosure: disc, Engine: eng.Kind()}
	if rows != nil {
		if err := insertRows(ctx, eng, d, number, rows); err != nil {
			return nil, err
		}
	} else if err := copySorted(ctx, eng, d, number, inner, params); err != nil {
		return nil, err
	}
	step.done("construcción")
	if rb, ok := d.build.(recordBuild); ok {
		if err := checkKAnonymous(ctx, eng, d, rb, number, r.k); err != nil {
			return nil, err
		}
		step.done("k-anonimato")
	}
	cnt, err := eng.Query(ctx, "SELECT count() FROM "+d.Table+" WHERE release = {r:UInt32}", warehouse.P("r", number))
	if err != nil {
		return nil, err
	}
	rel.Rows = cnt.Rows[0][0].(uint64)
	files, note, err := writeFiles(ctx, eng, d, rel, step)
	if err != nil {
		return nil, err
	}
	rel.Files, rel.Disclosure.Note = files, note
	if err := recordRelease(ctx, eng, rel); err != nil {
		return nil, err
	}
	return rel, nil
}

// steps logs, at debug level, how long each step of a publication took
// and the memory of the process's Go heap and of the engine at its end
// (OBSERVATORIO_LOG_LEVEL=debug; scripts/etl-memory.sh splits its memory
// samples at these lines).
type steps struct {
	ctx     context.Context
	eng     warehouse.Engine
	dataset string
	last    time.Time
}

func newSteps(ctx context.Context, eng warehouse.Engine, dataset string) *steps {
	return &steps{ctx: ctx, eng: eng, dataset: dataset, last: time.Now()}
}

func (s *steps) done(name string) {
	now := time.Now()
	if !slog.Default().Enabled(s.ctx, slog.LevelDebug) {
		s.last = now
		return
	}
	attrs := append([]any{"conjunto", s.dataset, "paso", name, "s", now.Sub(s.last).Seconds()}, warehouse.MemoryAccount(s.ctx, s.eng)...)
	slog.Debug("paso de publicación", attrs...)
	s.last = time.Now()
}

// copySorted stores the rows of inner (selectSQL) as release number of d,
// with their hidden columns, numbered (fila) in the order of the dataset's
// key: a release lists its rows in the same order as the one before.
func copySorted(ctx context.Context, eng warehouse.Engine, d *Dataset, number uint32, inner string, params []warehouse.Param) error {
	cols := strings.Join(d.ColumnNames(), ", ")
	return warehouse.CopySorted(ctx, eng, warehouse.SortedCopy{
		Table:        d.Table,
		Columns:      append([]string{"release", "fila", "clave", "huella"}, d.ColumnNames()...),
		Select:       "{release:UInt32}, rowNumberInAllBlocks() + 1, clave, huella, " + cols,
		Key:          d.Key,
		Query:        "SELECT " + cols + ", " + claveExpr(d) + " AS clave, " + huellaExpr(d) + " AS huella FROM (\n" + inner + "\n) AS i",
		Scratch:      fmt.Sprintf("%s_%d", d.Table, number),
		QueryParams:  params,
		SelectParams: []warehouse.Param{warehouse.P("release", number)},
	})
}

// selectSQL is the dataset's published rows as one SELECT (before the
// hidden columns). For a record-level dataset, withheld holds the classes
// of quasi-identifiers that k-anonymity withholds, and their rows are left
// out.
func selectSQL(ctx context.Context, d *Dataset, snap *snapshot, withheld *kClasses) (string, []warehouse.Param, error) {
	var qname string
	switch b := d.build.(type) {
	case sqlBuild:
		qname = b.query
	case recordBuild:
		qname = b.query
	default:
		return "", nil, fmt.Errorf("%s no se construye con SQL", d.ID)
	}
	q, err := analytics.Get(qname)
	if err != nil {
		return "", nil, err
	}
	params, err := snap.params(ctx, q.SQL)
	if err != nil {
		return "", nil, err
	}
	sql := "SELECT " + strings.Join(d.ColumnNames(), ", ") + " FROM (\n" + q.SQL + "\n) AS q"
	if withheld != nil && len(withheld.classes) > 0 {
		qi := d.QuasiIdentifiers()
		tuples := make([]string, len(withheld.classes))
		for i, class := range withheld.classes {
			vals := make([]string, len(qi))
			for j, name := range qi {
				c, _ := d.Column(name)
				p := fmt.Sprintf("retenida_%d_%d", i, j)
				vals[j] = "{" + p + ":" + c.Type + "}"
				params = append(params, warehouse.P(p, class[j]))
			}
			tuples[i] = "(" + strings.Join(vals, ", ") + ")"
		}
		sql += "\nWHERE (" + strings.Join(qi, ", ") + ") NOT IN (" + strings.Join(tuples, ", ") + ")"
	}
	return sql, params, nil
}

// kClasses is what k-anonymity found in a record-level dataset: how many
// rows its query gives, and the combinations of quasi-identifier values
// shared by fewer than k distinct values of the distinct column (the
// taxpayer), whose rows are withheld.
type kClasses struct {
	sourceRows uint64
	classes    [][]any // values in the order of d.QuasiIdentifiers()
}

// recordClasses counts the classes in one pass over the dataset's query.
// The release's other statements then read the query once each, without
// the self-join on the classes they had: every pass reads the fact table
// with FINAL, and a second pass with a GROUP BY cost 1.3 GB at 9.9M rows
// while FINAL still merged the parts of every partition together (before
// the ETL's commit left one part per partition, see
// warehouse.FinalPerPartition).
func recordClasses(ctx context.Context, eng warehouse.Engine, d *Dataset, b recordBuild, snap *snapshot, r rules) (*kClasses, error) {
	q, err := analytics.Get(b.query)
	if err != nil {
		return nil, err
	}
	params, err := snap.params(ctx, q.SQL)
	if err != nil {
		return nil, err
	}
	res, err := eng.Query(ctx, classesSQL(d, b, r.k, "(\n"+q.SQL+"\n) AS q", ""), params...)
	if err != nil {
		return nil, err
	}
	n := len(d.QuasiIdentifiers())
	out := &kClasses{}
	for _, row := range res.Rows {
		out.sourceRows += row[n+1].(uint64)
		if row[n].(uint64) < uint64(r.k) {
			out.classes = append(out.classes, row[:n])
		}
	}
	if testHookClasses != nil {
		testHookClasses(out)
	}
	return out, nil
}

// testHookPublish, when a test sets it, fails the publication of the
// datasets it returns an error for.
var testHookPublish func(dataset string) error

// testHookClasses, when a test sets it, changes the classes counted before
// the release is built (to check that checkKAnonymous catches it).
var testHookClasses func(*kClasses)

// checkKAnonymous counts the classes again in the stored rows of the new
// release, before it is recorded (and so before anyone can see it). The
// classes were counted by a statement of their own, and a class that
// changed between it and the build (rows of a run committed in between,
// or a fault) must not go out with fewer than k taxpayers.
func checkKAnonymous(ctx context.Context, eng warehouse.Engine, d *Dataset, b recordBuild, number uint32, k int) error {
	res, err := eng.Query(ctx, "SELECT count() FROM ("+classesSQL(d, b, k, d.Table+" WHERE release = {r:UInt32}", "clase < "+strconv.Itoa(k))+") AS c",
		warehouse.P("r", number))
	if err != nil {
		return err
	}
	if n := res.Rows[0][0].(uint64); n > 0 {
		return fmt.Errorf("la versión %d de %s tendría %d combinaciones de cuasi-identificadores (%s) con menos de %d contribuyentes distintos; no se publica",
			number, d.ID, n, strings.Join(d.QuasiIdentifiers(), ", "), k)
	}
	return nil
}

// classesSQL counts the rows of from and (up to k + 1) the distinct values
// of b.distinct per combination of quasi-identifiers, keeping the classes
// that satisfy having (all when empty). It never spills: what it holds is
// bounded by the number of classes times k + 1 (40 MB at 9.9M rows), and
// the engine compares its spill limit with the whole statement's memory,
// so over a FINAL read that merges many parts it would write a file after
// every block.
func classesSQL(d *Dataset, b recordBuild, k int, from, having string) string {
	qi := strings.Join(d.QuasiIdentifiers(), ", ")
	sql := "SELECT " + qi + ", uniqUpTo(" + strconv.Itoa(k) + ")(" + b.distinct + ") AS clase, count() AS filas FROM " + from + "\nGROUP BY " + qi
	if having != "" {
		sql += " HAVING " + having
	}
	return sql + "\nSETTINGS max_bytes_before_external_group_by = 0"
}

func claveExpr(d *Dataset) string {
	parts := make([]string, len(d.Key))
	for i, k := range d.Key {
		parts[i] = "toString(" + k + ")"
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "concat(" + strings.Join(parts, ", '|', ") + ")"
}

func huellaExpr(d *Dataset) string {
	parts := make([]string, len(d.Columns))
	for i, c := range d.Columns {
		if nullable(c.Type) {
			parts[i] = "ifNull(toString(" + c.Name + "), '\\\\N')"
		} else {
			parts[i] = "toString(" + c.Name + ")"
		}
	}
	return "cityHash64(concat(" + strings.Join(parts, ", '\\t', ") + "))"
}

// insertRows stores Go-built rows (already in key order) with their hidden
// columns.
func insertRows(ctx context.Context, eng warehouse.Engine, d *Dataset, number uint32, rows [][]any) error {
	cols := append([]string{"release", "fila", "clave", "huella"}, d.ColumnNames()...)
	keyIdx := make([]int, len(d.Key))
	for i, k := range d.Key {
		for j, c := range d.Columns {
			if c.Name == k {
				keyIdx[i] = j
			}
		}
	}
	const batch = 20000
	buf := make([][]any, 0, batch)
	for i, row := range rows {
		keys := make([]string, len(keyIdx))
		for j, k := range keyIdx {
			keys[j] = textOf(row[k])
		}
		h := fnv.New64a()
		for _, v := range row {
			io.WriteString(h, textOf(v))
			h.Write([]byte{'\t'})
		}
		full := make([]any, 0, len(cols))
		full = append(full, number, uint64(i+1), strings.Join(keys, "|"), h.Sum64())
		full = append(full, row...)
		buf = append(buf, full)
		if len(buf) == batch {
			if err := eng.Insert(ctx, d.Table, cols, buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return eng.Insert(ctx, d.Table, cols, buf)
}

// nextRelease is a release number no row or file of the dataset uses yet,
// even from a publication that died half-way.
func nextRelease(ctx context.Context, eng warehouse.Engine, d *Dataset) (uint32, error) {
	q := `SELECT max(m) FROM (
SELECT toUInt32(max(release)) AS m FROM dataset_releases WHERE dataset = {d:String}
UNION ALL SELECT toUInt32(max(release)) AS m FROM dataset_files WHERE dataset = {d:String}
UNION ALL SELECT toUInt32(max(release)) AS m FROM ` + d.Table + `)`
	res, err := eng.Query(ctx, q, warehouse.P("d", d.ID))
	if err != nil {
		return 0, err
	}
	return uint32(res.Rows[0][0].(uint64)) + 1, nil
}

// dataSQL selects a release's published rows in their stable order, with
// optional extra conditions.
func dataSQL(d *Dataset, where string) string {
	q := "SELECT " + strings.Join(d.ColumnNames(), ", ") + " FROM " + d.Table + " WHERE release = {release:UInt32}"
	if where != "" {
		q += " AND " + where
	}
	return q + " ORDER BY fila"
}

// writeFiles writes the release files: CSV and Excel CSV in one pass over
// the release's rows, Parquet from the engine when it can, and
// datapackage.json describing them. The files are spooled to local disk
// while the engine produces them and stored in the warehouse only after
// the last statement: storing them starts merges of dataset_files, which
// would otherwise run alongside the next export (9.9M rows: about 60 MB
// of merges beside the Parquet pass; etl/BENCHMARKS.md, "Session 7").
func writeFiles(ctx context.Context, eng warehouse.Engine, d *Dataset, rel *Release, step *steps) ([]File, string, error) {
	csvF := newFileWriter(ctx, eng, d.ID, rel.Number, FileName(d.ID, FormatCSV))
	xlsF := newFileWriter(ctx, eng, d.ID, rel.Number, FileName(d.ID, FormatExcel))
	writers := []*fileWriter{csvF, xlsF}
	formats := []string{FormatCSV, FormatExcel}
	abort := func() {
		for _, w := range writers {
			w.abort() // no-op once closed
		}
	}
	sink := newTSVSink(d.Columns, newCSVWriter(csvF, false), newCSVWriter(xlsF, true))
	async := newAsyncWriter(sink)
	err := eng.Stream(ctx, async, "TabSeparated", dataSQL(d, ""), warehouse.P("release", rel.Number))
	if werr := async.Wait(); err == nil {
		err = werr
	}
	if err == nil {
		err = sink.Close()
	}
	if err != nil {
		abort()
		return nil, "", err
	}
	step.done("csv")
	note := ""
	if ParquetSupported(ctx, eng) {
		pw := newFileWriter(ctx, eng, d.ID, rel.Number, FileName(d.ID, FormatParquet))
		writers = append(writers, pw)
		formats = append(formats, FormatParquet)
		if err := eng.Stream(ctx, pw, "Parquet", dataSQL(d, ""), warehouse.P("release", rel.Number)); err != nil {
			abort()
			return nil, "", err
		}
		step.done("parquet")
	} else {
		note = ParquetUnavailable
	}
	var files []File
	for i, w := range writers {
		f, err := w.Close(formats[i])
		if err != nil {
			abort()
			return nil, "", err
		}
		files = append(files, f)
	}
	step.done("almacenamiento")
	rel.Files = files
	dp, err := DataPackage(d, rel)
	if err != nil {
		return nil, "", err
	}
	w := newFileWriter(ctx, eng, d.ID, rel.Number, "datapackage.json")
	w.Write(dp)
	f, err := w.Close("datapackage")
	if err != nil {
		return nil, "", err
	}
	f.MediaType = "application/json"
	return append(files, f), note, nil
}

// ParquetUnavailable says why a release has no Parquet file.
const ParquetUnavailable = "Este despliegue usa un servidor ClickHouse que no escribe Parquet (formato disponible desde ClickHouse 19.x; el servidor de Debian es la 18.16): la versión se publica en CSV, CSV para Excel y JSON."

var parquetCache sync.Map // warehouse.Engine -> bool

// ParquetSupported reports whether the engine writes Parquet (current
// ClickHouse and chDB do; ClickHouse 18.16 does not).
func ParquetSupported(ctx context.Context, eng warehouse.Engine) bool {
	if v, ok := parquetCache.Load(eng); ok {
		return v.(bool)
	}
	err := eng.Stream(ctx, io.Discard, "Parquet", "SELECT toUInt8(1) AS x")
	ok := err == nil
	if err != nil && !strings.Contains(err.Error(), "Parquet") {
		return false // another problem: do not remember
	}
	parquetCache.Store(eng, ok)
	return ok
}

var releaseColumns = []string{"dataset", "release", "created_at", "cutoff", "rows", "suppressed_cells", "suppressed_rows", "fingerprint", "files", "disclosure", "engine"}

func recordRelease(ctx context.Context, eng warehouse.Engine, rel *Release) error {
	files, err := json.Marshal(rel.Files)
	if err != nil {
		return err
	}
	disc, err := json.Marshal(rel.Disclosure)
	if err != nil {
		return err
	}
	return eng.Insert(ctx, "dataset_releases", releaseColumns, [][]any{{rel.Dataset, rel.Number, rel.Created, rel.Cutoff, rel.Rows,
		uint64(rel.Disclosure.CellsSuppressed), rel.Disclosure.RowsSuppressed, rel.Fingerprint, string(files), string(disc), rel.Engine}})
}

// ErrNoRelease: the dataset has not been published yet.
var ErrNoRelease = errors.New("el conjunto de datos todavía no tiene versiones publicadas")

// ErrNoSuchRelease: the release number does not exist.
var ErrNoSuchRelease = errors.New("no existe esa versión del conjunto de datos")

const releaseSelect = `SELECT dataset, release, created_at, cutoff, rows, fingerprint, files, disclosure, engine
FROM dataset_releases FINAL WHERE dataset = {d:String}`

// Releases lists a dataset's releases, newest first.
func Releases(ctx context.Context, eng warehouse.Engine, id string) ([]Release, error) {
	res, err := eng.Query(ctx, releaseSelect+" ORDER BY release DESC", warehouse.P("d", id))
	if err != nil {
		return nil, err
	}
	return decodeReleases(res)
}

// Latest is the dataset's latest release.
func Latest(ctx context.Context, eng warehouse.Engine, id string) (*Release, error) {
	res, err := eng.Query(ctx, releaseSelect+" ORDER BY release DESC LIMIT 1", warehouse.P("d", id))
	if err != nil {
		return nil, err
	}
	rels, err := decodeReleases(res)
	if err != nil {
		return nil, err
	}
	if len(rels) == 0 {
		return nil, ErrNoRelease
	}
	return &rels[0], nil
}

// GetRelease is one release by number.
func GetRelease(ctx context.Context, eng warehouse.Engine, id string, number uint32) (*Release, error) {
	res, err := eng.Query(ctx, releaseSelect+" AND release = {r:UInt32}", warehouse.P("d", id), warehouse.P("r", number))
	if err != nil {
		return nil, err
	}
	rels, err := decodeReleases(res)
	if err != nil {
		return nil, err
	}
	if len(rels) == 0 {
		return nil, ErrNoSuchRelease
	}
	return &rels[0], nil
}

// LatestAll returns the latest release of every dataset that has one.
func LatestAll(ctx context.Context, eng warehouse.Engine) (map[string]*Release, error) {
	res, err := eng.Query(ctx, `SELECT dataset, release, created_at, cutoff, rows, fingerprint, files, disclosure, engine
FROM dataset_releases FINAL WHERE (dataset, release) IN (SELECT dataset, max(release) FROM dataset_releases GROUP BY dataset)`)
	if err != nil {
		return nil, err
	}
	rels, err := decodeReleases(res)
	if err != nil {
		return nil, err
	}
	out := map[string]*Release{}
	for i := range rels {
		out[rels[i].Dataset] = &rels[i]
	}
	return out, nil
}

func decodeReleases(res *warehouse.Result) ([]Release, error) {
	out := make([]Release, 0, len(res.Rows))
	for _, row := range res.Rows {
		r := Release{
			Dataset:     row[0].(string),
			Number:      uint32(row[1].(uint64)),
			Created:     row[2].(time.Time),
			Cutoff:      row[3].(time.Time),
			Rows:        row[4].(uint64),
			Fingerprint: row[5].(string),
			Engine:      row[8].(string),
		}
		if err := json.Unmarshal([]byte(row[6].(string)), &r.Files); err != nil {
			return nil, fmt.Errorf("versión %d de %s: archivos: %w", r.Number, r.Dataset, err)
		}
		if err := json.Unmarshal([]byte(row[7].(string)), &r.Disclosure); err != nil {
			return nil, fmt.Errorf("versión %d de %s: divulgación: %w", r.Number, r.Dataset, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func entityNames(ctx context.Context, eng warehouse.Engine) (map[string]string, error) {
	res, err := eng.Query(ctx, "SELECT code, name FROM entities FINAL")
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(res.Rows))
	for _, r := range res.Rows {
		out[r[0].(string)] = r[1].(string)
	}
	return out, nil
}

// CheckCatalog verifies the declarations that the disclosure control relies
// on: every identifier column is pseudonymized, record-level datasets have
// quasi-identifiers and k, aggregates have k, keys exist.
func CheckCatalog() error {
	seen := map[string]bool{}
	for i := range Catalog {
		d := &Catalog[i]
		if seen[d.ID] {
			return fmt.Errorf("catálogo: %s está declarado dos veces", d.ID)
		}
		seen[d.ID] = true
		for _, c := range d.Columns {
			if c.Role == Identifier && !c.Pseudonymized {
				return fmt.Errorf("catálogo: %s.%s es un identificador sin seudonimizar: no se publica", d.ID, c.Name)
			}
			if c.Description == "" {
				return fmt.Errorf("catálogo: %s.%s no tiene descripción", d.ID, c.Name)
			}
		}
		for _, k := range d.Key {
			if _, ok := d.Column(k); !ok {
				return fmt.Errorf("catálogo: la clave %s de %s no es una columna", k, d.ID)
			}
		}
		switch d.Policy.Level {
		case RecordLevel:
			if _, ok := d.build.(recordBuild); !ok || d.Policy.K < 2 || len(d.QuasiIdentifiers()) == 0 {
				return fmt.Errorf("catálogo: %s es registro a registro y necesita k ≥ 2 y cuasi-identificadores", d.ID)
			}
		case Aggregate:
			if _, ok := d.build.(aggBuild); !ok || d.Policy.K < 2 {
				return fmt.Errorf("catálogo: %s es agregado y necesita k ≥ 2", d.ID)
			}
		case Public:
			if _, ok := d.build.(sqlBuild); !ok {
				return fmt.Errorf("catálogo: %s es público y se construye con SQL", d.ID)
			}
			for _, c := range d.Columns {
				if c.Role == Identifier || c.Role == Quasi || c.Role == Measure {
					return fmt.Errorf("catálogo: %s es público pero %s tiene papel %s", d.ID, c.Name, c.Role)
				}
			}
		default:
			return fmt.Errorf("catálogo: %s sin nivel de divulgación", d.ID)
		}
	}
	return nil
}

var tablesChecked sync.Map // warehouse.Engine -> bool

// checkTables verifies that each dataset's table has the declared columns
// and types (after the hidden ones), once per engine.
func checkTables(ctx context.Context, eng warehouse.Engine) error {
	if _, ok := tablesChecked.Load(eng); ok {
		return nil
	}
	res, err := eng.Query(ctx, "SELECT table, name, type FROM system.columns WHERE database = {db:String} AND substring(table, 1, 4) = 'pub_'",
		warehouse.P("db", eng.Database()))
	if err != nil {
		return err
	}
	got := map[string][]string{}
	for _, r := range res.Rows {
		got[r[0].(string)] = append(got[r[0].(string)], r[1].(string)+" "+r[2].(string))
	}
	for i := range Catalog {
		d := &Catalog[i]
		want := []string{"release UInt32", "fila UInt64", "clave String", "huella UInt64"}
		for _, c := range d.Columns {
			want = append(want, c.Name+" "+c.Type)
		}
		if strings.Join(got[d.Table], ", ") != strings.Join(want, ", ") {
			return fmt.Errorf("la tabla %s no coincide con el catálogo:\n  tabla:    %s\n  catálogo: %s", d.Table, strings.Join(got[d.Table], ", "), strings.Join(want, ", "))
		}
	}
	tablesChecked.Store(eng, true)
	return nil
}

// steadyContext gives ctx a deadline (a day away) without adding a
// cancellation of its own. The server backend derives a per-call timeout
// context only when the caller's has no deadline, and cancels it as soon as
// the call returns; after a batch INSERT, clickhouse-go's context watchdog
// can then still see that cancellation and close the TCP connection of a
// connection already back in its pool, and the next statement fails with
// "use of closed network connection" (seen about once in four test runs on
// a loaded machine). With a deadline already there, no per-call context is
// derived and nothing is cancelled behind the driver's back.
func steadyContext(ctx context.Context) context.Context {
	if _, ok := ctx.Deadline(); ok {
		return ctx
	}
	return deadlineOnly{ctx, time.Now().Add(24 * time.Hour)}
}

type deadlineOnly struct {
	context.Context
	d time.Time
}

func (c deadlineOnly) Deadline() (time.Time, bool) { return c.d, true }
