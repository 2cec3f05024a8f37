package ingest

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/gocarina/gocsv"
)

// Option adjusts Open.
type Option func(*options)

type options struct {
	state     State
	client    *http.Client
	fsys      fs.FS
	batch     int
	log       *slog.Logger
	getenv    func(string) string
	fetchHook func(*fetcher)
	gocsv     bool // decode with gocsv instead of the compiled plan (tests compare the two)
}

// WithState passes what the last successful run of this source left
// (ETag / Last-Modified for http, watermark for incremental socrata).
func WithState(s State) Option { return func(o *options) { o.state = s } }

// WithHTTPClient sets the HTTP client (default http.DefaultClient; the
// timeouts of RequestConfig apply on top of it).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithFS reads file sources from fsys (for example reference.Files)
// instead of the operating system's files; paths are then fs.FS paths.
func WithFS(fsys fs.FS) Option { return func(o *options) { o.fsys = fsys } }

// WithBatchSize sets how many rows (records + rejects) Each hands over at
// a time (default 1024).
func WithBatchSize(n int) Option { return func(o *options) { o.batch = n } }

// WithLogger sets the logger for retries and skipped parts (default: none).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithGetenv replaces os.Getenv to read the app token and header secrets.
func WithGetenv(f func(string) string) Option { return func(o *options) { o.getenv = f } }

// Stats counts what a stream read. Read == Records + Rejects + Blank.
type Stats struct {
	Read    int64 // data rows read, blank lines included (headers and skipped preamble lines excluded)
	Records int64
	Rejects int64
	Blank   int64
	Bytes   int64 // bytes read from the source(s)

	RejectsByCode  map[string]int64
	WarningsByCode map[string]int64 // warnings on records and rejects (code_padded, mojibake...)
	Parts          []PartInfo
	// DuplicateCheckLimited: more keys than max_tracked_keys were seen in a
	// file, so later duplicates of untracked keys may have gone unnoticed.
	DuplicateCheckLimited bool
}

// Item is one result of Stream.Next: a record or a reject.
type Item struct {
	Record Record
	Reject *Reject
}

// Stream reads one source. It is not safe for concurrent use.
type Stream struct {
	rt     *compiled
	ctx    context.Context
	src    partSource
	cur    part
	scope  string
	norm   *normalizer
	decode batchDecoder
	gocsv  bool // decode is gocsv's: compact batches first
	batch  int
	header []string
	cells  []string
	rows   [][]string
	orig   []Origin
	active []int      // compact: indexes of the non-empty columns of a batch
	packed []string   // compact: cell storage
	crows  [][]string // compact: rows

	// spare holds the storage of batches their reader gave back
	// (EachBorrowed's release), for the next batches to decode into.
	spareMu sync.Mutex
	spare   []batchStorage

	stats   Stats
	parts   []*PartInfo
	byName  map[string]*PartInfo
	state   State
	seq     int64
	pending []Item
	err     error
	done    bool
	closed  bool
}

// partSource yields the parts of a source in order.
type partSource interface {
	next(ctx context.Context) (part, error) // io.EOF at the end
	state() State
	close() error
}

// Open starts reading a source. For http and socrata sources the first
// request is made here, so an unreachable server, a 403 or an unchanged
// document (ErrUnchanged) are known at once; for files, the first file is
// opened (an empty file or a header without a required column is an
// error). ctx governs the whole stream.
func Open(ctx context.Context, cfg SourceConfig, opts ...Option) (*Stream, error) {
	o := options{batch: 1024, getenv: os.Getenv}
	for _, opt := range opts {
		opt(&o)
	}
	if o.batch <= 0 {
		o.batch = 1024
	}
	rt, err := compileConfig(cfg)
	if err != nil {
		return nil, err
	}
	s := &Stream{rt: rt, ctx: ctx, batch: o.batch, norm: newNormalizer(rt),
		header: rt.schema.Names(), state: o.state, byName: map[string]*PartInfo{}}
	s.decode, s.gocsv = decoderFor(rt.schema.Kind, o.gocsv)
	s.stats.RejectsByCode = map[string]int64{}
	s.stats.WarningsByCode = s.norm.warnings
	nf := len(s.header)
	s.cells = make([]string, nf*o.batch)
	switch cfg.Kind {
	case SourceFile:
		s.src, err = newFileSource(rt, o.fsys)
	case SourceHTTP:
		s.src, err = openHTTPSource(ctx, rt, &o)
	case SourceSocrata:
		s.src, err = newSocrataSource(rt, &o)
	}
	if err != nil {
		return nil, err
	}
	// open the first part now so that file-level errors surface here
	if err := s.advance(); err != nil && !errors.Is(err, io.EOF) {
		_ = s.src.close()
		return nil, err
	}
	return s, nil
}

// Schema returns the schema of the stream's record kind.
func (s *Stream) Schema() *Schema { return s.rt.schema }

// Config returns the source's configuration.
func (s *Stream) Config() SourceConfig { return s.rt.cfg }

// advance opens the next part.
func (s *Stream) advance() error {
	if s.cur != nil {
		s.finishPart()
	}
	if s.done {
		return io.EOF
	}
	p, err := s.src.next(s.ctx)
	if err != nil {
		if errors.Is(err, io.EOF) {
			s.done = true
		}
		return err
	}
	s.cur = p
	if p.scope() != s.scope {
		s.norm.resetKeys()
		s.scope = p.scope()
	}
	inf := p.info()
	if _, seen := s.byName[inf.Name]; !seen {
		s.byName[inf.Name] = inf
		s.parts = append(s.parts, inf)
		for _, w := range inf.Warnings {
			s.stats.WarningsByCode[w.Code]++
		}
	}
	return nil
}

func (s *Stream) finishPart() {
	s.cur.info()
	_ = s.cur.close()
	s.cur = nil
}

// nextBatch reads up to s.batch rows. It returns the decoded records as
// the kind's slice ([]Liquidation...) and as []Record, and the rejects.
func (s *Stream) nextBatch(ctx context.Context) (typed any, recs []Record, rejs []Reject, err error) {
	if s.closed {
		return nil, nil, nil, errors.New("ingest: stream closed")
	}
	nf := len(s.header)
	if s.err == nil {
		if err := ctx.Err(); err != nil {
			s.err = err
		} else if err := s.ctx.Err(); err != nil {
			s.err = err
		}
	}
	rows, orig := s.rows[:0], s.orig[:0]
	for len(rows)+len(rejs) < s.batch && s.err == nil {
		if s.cur == nil {
			if err := s.advance(); err != nil {
				if !errors.Is(err, io.EOF) {
					s.err = err
				}
				break
			}
		}
		r, err := s.cur.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.err = err
			}
			s.finishPart()
			continue
		}
		inf := s.cur.info()
		s.stats.Read++
		if r.blank {
			s.stats.Blank++
			inf.Blank++
			continue
		}
		inf.Rows++
		s.seq++
		o := Origin{Source: s.rt.cfg.Name, File: inf.Name, Page: r.page, Line: r.line, Index: r.index, Row: s.seq}
		if r.issue != nil {
			rejs = append(rejs, Reject{Origin: o, Issue: *r.issue, Record: s.cur.raw()})
			continue
		}
		out := s.cells[len(rows)*nf : (len(rows)+1)*nf : (len(rows)+1)*nf]
		errs, warns := s.norm.row(r.cells, out, r.pos)
		o.Warnings = warns
		if len(errs) > 0 {
			rj := Reject{Origin: o, Issue: errs[0], Record: s.cur.raw()}
			if len(errs) > 1 {
				rj.Also = errs[1:]
			}
			rejs = append(rejs, rj)
			continue
		}
		rows = append(rows, out)
		orig = append(orig, o)
	}
	s.rows, s.orig = rows, orig
	if len(rows) > 0 {
		var bad []badRow
		header, crow := s.header, rows
		if s.gocsv {
			header, crow = s.compact(rows)
		}
		typed, recs, bad = s.decode(header, crow, orig, s.takeSpare())
		for _, b := range bad {
			field := ""
			if b.col >= 0 && b.col < len(header) {
				field = header[b.col]
			}
			rejs = append(rejs, Reject{Origin: orig[b.row],
				Issue:  issue(field, fieldAt(crow[b.row], b.col), CodeDecode, "no se pudo convertir el valor: %v", b.err),
				Record: strings.Join(crow[b.row], ",")})
		}
	}
	for i := range rejs {
		s.stats.RejectsByCode[rejs[i].Code]++
		if inf := s.byName[rejs[i].File]; inf != nil {
			inf.Rejects++
		}
	}
	s.stats.Records += int64(len(recs))
	s.stats.Rejects += int64(len(rejs))
	if s.norm.keys != nil && s.norm.keys.limited {
		s.stats.DuplicateCheckLimited = true
	}
	if len(recs) == 0 && len(rejs) == 0 {
		if s.err != nil {
			return nil, nil, nil, s.err
		}
		return nil, nil, nil, io.EOF
	}
	return typed, recs, rejs, nil
}

// compact drops the columns that are empty in every row of the batch, so
// that gocsv does not visit fields the source does not have.
func (s *Stream) compact(rows [][]string) ([]string, [][]string) {
	nf := len(s.header)
	s.active = s.active[:0]
	for i := 0; i < nf; i++ {
		for _, r := range rows {
			if r[i] != "" {
				s.active = append(s.active, i)
				break
			}
		}
	}
	if len(s.active) == nf {
		return s.header, rows
	}
	header := make([]string, len(s.active))
	for j, i := range s.active {
		header[j] = s.header[i]
	}
	na := len(s.active)
	if cap(s.packed) < na*len(rows) {
		s.packed = make([]string, na*len(rows))
	}
	packed := s.packed[:na*len(rows)]
	out := s.crows[:0]
	for k, r := range rows {
		dst := packed[k*na : (k+1)*na : (k+1)*na]
		for j, i := range s.active {
			dst[j] = r[i]
		}
		out = append(out, dst)
	}
	s.crows = out
	return header, out
}

// batchStorage is the memory of a decoded batch: its typed records (a []T
// of the stream's record struct) and its []Record view of them.
type batchStorage struct {
	typed any
	recs  []Record
}

// maxSpareBatches bounds the batches a stream keeps for reuse: more than a
// reader holds at once (its workers' channel and the batches they are
// writing), few enough to be nothing next to them.
const maxSpareBatches = 16

func (s *Stream) takeSpare() batchStorage {
	s.spareMu.Lock()
	defer s.spareMu.Unlock()
	n := len(s.spare)
	if n == 0 {
		return batchStorage{}
	}
	b := s.spare[n-1]
	s.spare[n-1] = batchStorage{}
	s.spare = s.spare[:n-1]
	return b
}

func (s *Stream) giveSpare(b batchStorage) {
	if b.typed == nil {
		return
	}
	s.spareMu.Lock()
	defer s.spareMu.Unlock()
	if len(s.spare) < maxSpareBatches {
		s.spare = append(s.spare, b)
	}
}

// EachBorrowed is Each for a reader that is done with each batch's records
// at a known moment: fn borrows them, and calls release (once, from any
// goroutine) when nothing refers to them or to anything they point to any
// longer; the stream then decodes a later batch into the same memory.
// Rejects are not borrowed. Why: a liquidation record is about 520 bytes,
// and the ETL decodes a million of them in a million-row file, which was
// 40 % of the Go side's allocations and of its collector's work.
func (s *Stream) EachBorrowed(ctx context.Context, fn func(records []Record, rejects []Reject, release func()) error) error {
	for {
		typed, recs, rejs, err := s.nextBatch(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		b := batchStorage{typed: typed, recs: recs}
		var once sync.Once
		if err := fn(recs, rejs, func() { once.Do(func() { s.giveSpare(b) }) }); err != nil {
			return err
		}
	}
}

// Each calls fn with each batch of records and rejects, in file order,
// until the source is exhausted (it returns nil), fn returns an error
// (returned as is), ctx is cancelled or reading fails (a *SourceError).
// Records and rejects passed to fn stay valid after fn returns (they are
// never released for reuse).
func (s *Stream) Each(ctx context.Context, fn func(records []Record, rejects []Reject) error) error {
	return s.EachBorrowed(ctx, func(recs []Record, rejs []Reject, _ func()) error { return fn(recs, rejs) })
}

// EachOf is Each with typed records: T must be the stream's record struct
// (ingest.Liquidation for a liquidation source, and so on).
func EachOf[T any](ctx context.Context, s *Stream, fn func(records []T, rejects []Reject) error) error {
	if want := reflect.TypeFor[T](); want != s.rt.schema.goType {
		return fmt.Errorf("ingest: source %q holds %s records (%s), not %s", s.rt.cfg.Name, s.rt.schema.Kind, s.rt.schema.goType, want)
	}
	for {
		typed, _, rejs, err := s.nextBatch(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		recs, _ := typed.([]T)
		if err := fn(recs, rejs); err != nil {
			return err
		}
	}
}

// Next returns the next record or reject in file order, io.EOF at the end,
// or the error that stopped the stream.
func (s *Stream) Next() (Item, error) {
	for len(s.pending) == 0 {
		_, recs, rejs, err := s.nextBatch(s.ctx)
		if err != nil {
			return Item{}, err
		}
		// merge by row number: both lists are in order
		i, j := 0, 0
		for i < len(recs) || j < len(rejs) {
			if j >= len(rejs) || (i < len(recs) && recs[i].Provenance().Row < rejs[j].Row) {
				s.pending = append(s.pending, Item{Record: recs[i]})
				i++
			} else {
				s.pending = append(s.pending, Item{Reject: &rejs[j]})
				j++
			}
		}
	}
	it := s.pending[0]
	s.pending = s.pending[1:]
	return it, nil
}

// Stats returns the counters so far.
func (s *Stream) Stats() Stats {
	st := s.stats
	st.Bytes = 0
	st.Parts = make([]PartInfo, len(s.parts))
	if s.cur != nil {
		s.cur.info()
	}
	for i, p := range s.parts {
		st.Parts[i] = *p
		st.Bytes += p.Bytes
	}
	st.RejectsByCode = copyCounts(s.stats.RejectsByCode)
	st.WarningsByCode = copyCounts(s.stats.WarningsByCode)
	return st
}

func copyCounts(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// State returns what to remember for the next run (validators of an http
// document, the watermark of an incremental Socrata pull). Save it only
// after the stream was read to the end and loaded.
func (s *Stream) State() State { return s.src.state() }

// Close releases the open file or connection.
func (s *Stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.cur != nil {
		s.finishPart()
	}
	return s.src.close()
}

// --- gocsv decoding ------------------------------------------------------

// batchView is a gocsv CSVReader over a header and canonical rows.
type batchView struct {
	header []string
	rows   [][]string
	i      int
}

func (b *batchView) Read() ([]string, error) {
	if b.i == 0 {
		b.i++
		return b.header, nil
	}
	if b.i-1 >= len(b.rows) {
		return nil, io.EOF
	}
	r := b.rows[b.i-1]
	b.i++
	return r, nil
}

func (b *batchView) ReadAll() ([][]string, error) {
	out := make([][]string, 0, len(b.rows)+1-b.i)
	for {
		r, err := b.Read()
		if err != nil {
			return out, nil
		}
		out = append(out, r)
	}
}

type badRow struct {
	row, col int
	err      error
}

// batchDecoder decodes a batch of canonical rows. It may decode into
// reuse's memory (a batch of the same kind whose records are no longer
// used) instead of allocating.
type batchDecoder func(header []string, rows [][]string, origins []Origin, reuse batchStorage) (any, []Record, []badRow)

var (
	decodersOnce sync.Once
	planned      map[Kind]batchDecoder // compiled plans (gocsv where a type has none)
	gocsvOnly    map[Kind]batchDecoder
)

// decoderFor returns the decoder of a record kind, and whether it is gocsv.
func decoderFor(k Kind, useGocsv bool) (batchDecoder, bool) {
	decodersOnce.Do(func() {
		planned, gocsvOnly = map[Kind]batchDecoder{}, map[Kind]batchDecoder{}
		add := func(k Kind, plan func() (batchDecoder, error), g batchDecoder) {
			gocsvOnly[k] = g
			if d, err := plan(); err == nil {
				planned[k] = d
			}
		}
		add(KindLiquidation, planFor[Liquidation](KindLiquidation), decodeKind[Liquidation])
		add(KindPayment, planFor[Payment](KindPayment), decodeKind[Payment])
		add(KindGEL, planFor[GELMeasurement](KindGEL), decodeKind[GELMeasurement])
		add(KindBudgetLine, planFor[BudgetLine](KindBudgetLine), decodeKind[BudgetLine])
		add(KindEntity, planFor[Entity](KindEntity), decodeKind[Entity])
		add(KindGELAction, planFor[GELActionItem](KindGELAction), decodeKind[GELActionItem])
		add(KindGDIndex, planFor[GDIndexScore](KindGDIndex), decodeKind[GDIndexScore])
	})
	if d, ok := planned[k]; ok && !useGocsv {
		return d, false
	}
	return gocsvOnly[k], true
}

func planFor[T any, P interface {
	*T
	Record
}](k Kind) func() (batchDecoder, error) {
	return func() (batchDecoder, error) {
		plan, err := compilePlan(reflect.TypeFor[T](), schemas[k].Names())
		if err != nil {
			return nil, err
		}
		return plannedDecoder[T, P](plan), nil
	}
}

// decodeKind decodes canonical rows into T with gocsv. Rows were
// validated, so gocsv is not expected to fail; if it does on a row, that
// row becomes a reject and decoding goes on with the next one.
func decodeKind[T any, P interface {
	*T
	Record
}](header []string, rows [][]string, origins []Origin, _ batchStorage) (any, []Record, []badRow) {
	out := make([]T, len(rows))
	var bad []badRow
	for start := 0; start < len(rows); {
		view := out[start:]
		err := gocsv.UnmarshalCSV(&batchView{header: header, rows: rows[start:]}, &view)
		if err == nil {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && pe.Line >= 2 && start+pe.Line-2 < len(rows) {
			i := start + pe.Line - 2
			bad = append(bad, badRow{row: i, col: pe.Column - 1, err: pe.Err})
			start = i + 1
			continue
		}
		for i := start; i < len(rows); i++ {
			bad = append(bad, badRow{row: i, col: -1, err: err})
		}
		break
	}
	if len(bad) > 0 {
		skip := map[int]bool{}
		for _, b := range bad {
			skip[b.row] = true
		}
		kept := out[:0]
		var ko []Origin
		for i := range out {
			if !skip[i] {
				kept = append(kept, out[i])
				ko = append(ko, origins[i])
			}
		}
		out, origins = kept, ko
	}
	recs := make([]Record, len(out))
	for i := range out {
		p := P(&out[i])
		*p.Provenance() = origins[i]
		recs[i] = p
	}
	return out, recs, bad
}

// --- files -------------------------------------------------------------

type fileSource struct {
	rt    *compiled
	fsys  fs.FS
	paths []string
	i     int
}

func newFileSource(rt *compiled, fsys fs.FS) (*fileSource, error) {
	fc := rt.cfg.File
	f := &fileSource{rt: rt, fsys: fsys}
	var err error
	switch {
	case fc.Path != "" && strings.ContainsAny(fc.Path, "*?["):
		if fsys != nil {
			f.paths, err = fs.Glob(fsys, fc.Path)
		} else {
			f.paths, err = globOS(fc.Path)
		}
	case fc.Path != "":
		f.paths = []string{fc.Path}
	default:
		f.paths, err = walkDir(fsys, fc.Dir, fc.Pattern, fc.Recursive)
	}
	if err != nil {
		return nil, &SourceError{Source: rt.cfg.Name, File: fc.Path + fc.Dir, Code: CodeNoFiles, Reason: "no se pudo listar los archivos", Err: err}
	}
	if len(f.paths) == 0 {
		return nil, &SourceError{Source: rt.cfg.Name, File: fc.Path + fc.Dir, Code: CodeNoFiles, Reason: "ningún archivo coincide"}
	}
	sort.Strings(f.paths)
	return f, nil
}

func globOS(pattern string) ([]string, error) {
	dir, base := splitPath(pattern)
	if strings.ContainsAny(dir, "*?[") {
		return nil, fmt.Errorf("glob %q: wildcards only in the file name", pattern)
	}
	return walkDir(nil, dir, base, false)
}

func splitPath(p string) (string, string) {
	i := strings.LastIndexAny(p, `/\`)
	if i < 0 {
		return ".", p
	}
	if i == 0 {
		return "/", p[1:]
	}
	return p[:i], p[i+1:]
}

func walkDir(fsys fs.FS, dir, pattern string, recursive bool) ([]string, error) {
	if pattern == "" {
		pattern = "*"
	}
	if _, err := matchName(pattern, "x"); err != nil {
		return nil, err
	}
	var out []string
	root := dir
	var walk func(string) error
	walk = func(d string) error {
		var entries []fs.DirEntry
		var err error
		if fsys != nil {
			entries, err = fs.ReadDir(fsys, d)
		} else {
			entries, err = os.ReadDir(d)
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			p := joinPath(d, e.Name(), fsys != nil)
			if e.IsDir() {
				if recursive {
					if err := walk(p); err != nil {
						return err
					}
				}
				continue
			}
			if ok, _ := matchName(pattern, e.Name()); ok && !strings.HasPrefix(e.Name(), ".") {
				out = append(out, p)
			}
		}
		return nil
	}
	return out, walk(root)
}

func joinPath(dir, name string, slash bool) string {
	if dir == "." && slash {
		return name
	}
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

func matchName(pattern, name string) (bool, error) {
	return path.Match(pattern, name)
}

func (f *fileSource) next(ctx context.Context) (part, error) {
	if f.i >= len(f.paths) {
		return nil, io.EOF
	}
	p := f.paths[f.i]
	f.i++
	var rc io.ReadCloser
	var err error
	if f.fsys != nil {
		rc, err = f.fsys.Open(p)
	} else {
		rc, err = os.Open(p)
	}
	if err != nil {
		return nil, &SourceError{Source: f.rt.cfg.Name, File: p, Code: CodeNoFiles, Reason: "no se pudo abrir el archivo", Err: err}
	}
	return openPart(f.rt, p, rc, formatOf(f.rt.cfg.Format, p, ""))
}

func (f *fileSource) state() State { return State{} }
func (f *fileSource) close() error { return nil }

func formatOf(declared Format, name, contentType string) Format {
	if declared != "" {
		return declared
	}
	n := strings.ToLower(strings.TrimSuffix(strings.ToLower(name), ".gz"))
	if i := strings.IndexAny(n, "?#"); i >= 0 {
		n = n[:i]
	}
	if strings.HasSuffix(n, ".json") || strings.HasSuffix(n, ".ndjson") || strings.HasSuffix(n, ".jsonl") ||
		strings.Contains(contentType, "json") {
		return FormatJSON
	}
	return FormatCSV
}

func openPart(rt *compiled, name string, rc io.ReadCloser, f Format) (part, error) {
	if f == FormatJSON {
		return openJSONPart(rt, name, rc, nil)
	}
	return openCSVPart(rt, name, rc)
}

// --- one HTTP document -----------------------------------------------------

type httpSource struct {
	p    part
	used bool
	st   State
}

func openHTTPSource(ctx context.Context, rt *compiled, o *options) (*httpSource, error) {
	h := rt.cfg.HTTP
	f := newFetcher(o.client, requestSettings(rt.cfg.Request), o.log)
	if o.fetchHook != nil {
		o.fetchHook(f)
	}
	hdr := http.Header{}
	for k, v := range h.Headers {
		hdr.Set(k, v)
	}
	for k, env := range h.HeadersFromEnv {
		if v := o.getenv(env); v != "" {
			hdr.Set(k, v)
		}
	}
	if o.state.ETag != "" {
		hdr.Set("If-None-Match", o.state.ETag)
	}
	if o.state.LastModified != "" {
		hdr.Set("If-Modified-Since", o.state.LastModified)
	}
	res, err := f.get(ctx, h.URL, hdr, false, 0)
	if err != nil {
		return nil, &SourceError{Source: rt.cfg.Name, File: h.URL, Code: CodeHTTP, Reason: "no se pudo descargar el documento", Err: err}
	}
	if res.Status == http.StatusNotModified {
		return nil, ErrUnchanged
	}
	st := State{ETag: res.Header.Get("ETag"), LastModified: res.Header.Get("Last-Modified")}
	if st.ETag != "" && st.ETag == o.state.ETag {
		// the server ignored If-None-Match but the document is the same
		_ = res.Stream.Close()
		return nil, ErrUnchanged
	}
	p, err := openPart(rt, h.URL, res.Stream, formatOf(rt.cfg.Format, h.URL, res.Header.Get("Content-Type")))
	if err != nil {
		return nil, err
	}
	return &httpSource{p: p, st: st}, nil
}

func (h *httpSource) next(ctx context.Context) (part, error) {
	if h.used {
		return nil, io.EOF
	}
	h.used = true
	return h.p, nil
}

func (h *httpSource) state() State { return h.st }

func (h *httpSource) close() error {
	if !h.used {
		return h.p.close()
	}
	return nil
}
