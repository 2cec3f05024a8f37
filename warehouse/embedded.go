package warehouse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/observatorio-civico/observatorio/warehouse/chdb"
)

// ChDBVersion is the chDB release the project pins (npm package
// @chdb/lib-linux-x64-gnu); `make deps` installs it under .deps/chdb/.
const ChDBVersion = "26.5.3"

// LibraryHelp tells the operator how to get libchdb.so.
const LibraryHelp = "ejecute `make deps` (descarga @chdb/lib-linux-x64-gnu@" + ChDBVersion +
	" del registro npm a .deps/chdb/) o indique la ruta con OBSERVATORIO_CHDB_LIB=/ruta/libchdb.so"

// FindLibrary returns the first libchdb.so found: the configured path, then
// .deps/chdb/ under the working directory and next to the executable, then
// the system library folders.
func FindLibrary(configured string) (string, error) {
	if configured != "" {
		if _, err := os.Stat(configured); err != nil {
			return "", &ConfigError{fmt.Sprintf("no se encontró libchdb.so en %s: %s", configured, LibraryHelp)}
		}
		return configured, nil
	}
	var candidates []string
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			candidates = append(candidates, filepath.Join(d, ".deps", "chdb", "libchdb.so"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		d := filepath.Dir(exe)
		candidates = append(candidates,
			filepath.Join(d, ".deps", "chdb", "libchdb.so"),
			filepath.Join(d, "..", ".deps", "chdb", "libchdb.so"),
			filepath.Join(d, "..", "lib", "libchdb.so"))
	}
	candidates = append(candidates, "/usr/local/lib/libchdb.so", "/usr/lib/libchdb.so")
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", &ConfigError{"no se encontró libchdb.so (el motor embebido): " + LibraryHelp}
}

// checkWritable makes sure dir exists and can be written.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &ConfigError{fmt.Sprintf("el directorio de datos %s no se puede crear: %v", dir, err)}
	}
	f, err := os.CreateTemp(dir, ".escritura-*")
	if err != nil {
		return &ConfigError{fmt.Sprintf("el directorio de datos %s no se puede escribir: %v", dir, err)}
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// embedded is the chDB backend: a pool of connections to one data
// directory. chDB runs one statement at a time per connection, so the pool
// is what lets pages, downloads and the ETL work at once.
type embedded struct {
	db    string
	args  []string
	pool  chan *chdb.Conn
	slots chan struct{} // one token per connection that may still be opened
	types typeCache
	// mu orders Close against release: a connection handed back after
	// Close is closed, not pooled, and closed says that the engine is.
	mu     sync.Mutex
	closed chan struct{}
	// spool holds the pipes of inserts in flight (see openStream);
	// what a crash leaves there is removed when the engine opens.
	spool string
	// spillSettings bound the memory of each statement (QueryMemoryMB).
	spillSettings []string
	// queryMemory is QueryMemoryMB in bytes.
	queryMemory int64
}

func openEmbedded(ctx context.Context, cfg Config) (Engine, error) {
	dir := cfg.Embedded.Path
	if dir == "" {
		return nil, &ConfigError{"falta warehouse.embedded.path (directorio de datos del motor embebido)"}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, &ConfigError{err.Error()}
	}
	if err := checkWritable(dir); err != nil {
		return nil, err
	}
	lib, err := FindLibrary(cfg.Embedded.Library)
	if err != nil {
		return nil, err
	}
	if err := checkAllocatorConf(os.Getenv(jemallocConfEnv)); err != nil && !chdb.Loaded() {
		return nil, err
	}
	dirtyMS, muzzyMS, poolArgs := allocatorSettings(cfg.Embedded)
	loaded := allocatorConf(dirtyMS, muzzyMS)
	err = chdb.Load(lib)
	loaded()
	if err != nil {
		return nil, &ConfigError{err.Error() + "; " + LibraryHelp}
	}
	n := cfg.Connections()
	spool := filepath.Join(dir, "observatorio_spool")
	os.RemoveAll(spool)
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return nil, &ConfigError{fmt.Sprintf("no se pudo crear %s: %v", spool, err)}
	}
	mb := int64(cfg.Embedded.QueryMemoryMB)
	if mb <= 0 {
		mb = defaultQueryMemoryMB
	}
	limit := strconv.FormatInt(mb<<20, 10)
	e := &embedded{
		spillSettings: []string{
			// Sorts and GROUP BYs past the limit continue on disk.
			"SET max_bytes_before_external_sort = " + limit,
			"SET max_bytes_before_external_group_by = " + limit,
			// The library's ratios of the memory available (0.5 by
			// default) take precedence over the byte limits, and in a
			// process without a memory limit a sort then never spilled: a
			// release of 9.9M rows sorted 3 GB in memory. With 0 only the
			// byte limits above decide.
			"SET max_bytes_ratio_before_external_sort = 0",
			"SET max_bytes_ratio_before_external_group_by = 0",
			// A sort that spilled merges its files holding one block of
			// each in memory; blocks of 8,192 rows instead of 65,409 took
			// that merge for the 9.9M-row release from 1.7 GB to 0.7 GB.
			"SET max_block_size = 8192",
			// INSERT ... SELECT gathers up to a million rows (256 MB) into
			// each part it writes.
			"SET min_insert_block_size_bytes = " + limit,
			// Past max_bytes_in_join a join fails ("Limit for JOIN
			// exceeded"): 'auto', meant to switch from a hash join to a
			// merge join there, never switches on chDB 26.5 (ANY LEFT, ALL
			// LEFT and INNER joins tried). The joins that go past it do not
			// hold with the other algorithms either: at 19.8M liquidations
			// and their payments, 'grace_hash' held the process at 555-857
			// MB for minutes and 'partial_merge' at up to 800 MB, with a
			// jump to 1.99 GB (etl/BENCHMARKS.md, "Sessions 11 and 12").
			// So the statements keep their right sides small instead: the
			// liquidations' balances are built slice by slice
			// (analytics.Balances).
			"SET join_algorithm = 'auto'",
			"SET max_bytes_in_join = " + limit,
			// Parquet exports buffer a row group in memory (512 MB by
			// default).
			"SET output_format_parquet_row_group_size_bytes = " + limit,
			// Parallel encoding hands each row group to a pool of threads
			// and reads on: when the encoders fall behind, another row
			// group waits in memory the engine does not track. An export
			// of 9.9M rows then jumped by 80–130 MB in some runs (not in
			// others); encoded in the reading thread it did not, and was
			// no slower on 2 cores (etl/BENCHMARKS.md, "Session 9").
			"SET output_format_parquet_parallel_encoding = 0",
			// Reads in table order (a release's files and pages, ORDER BY
			// fila) otherwise buffer blocks of every part ahead of the
			// merge: 55 MB more for the export of 1.1M rows, and no faster.
			"SET read_in_order_use_buffering = 0",
			// FINAL deduplicates each partition on its own, and reads a
			// partition of one part without merging: at 9.9M rows an
			// aggregate over liquidations FINAL then holds 0.47 GB
			// instead of 1.6 GB (2.7 GB with the parts of a load not
			// merged), because the merge of every part's stream no longer
			// counts against the GROUP BY's spill limit. Exact because the
			// ETL's commit keeps each key in one partition and each
			// partition in one part (see FinalPerPartition).
			"SET do_not_merge_across_partitions_select_final = 1",
		},
		spool:       spool,
		queryMemory: mb << 20,
		db:          cfg.Database,
		args:        append([]string{"--path=" + dir, mergeConcurrency}, poolArgs...),
		pool:        make(chan *chdb.Conn, n),
		closed:      make(chan struct{}),
		slots:       make(chan struct{}, n),
	}
	for i := 0; i < n; i++ {
		e.slots <- struct{}{}
	}
	// The first connection boots the engine on the data directory and
	// creates the observatory's database; the rest open on demand. It takes
	// a slot like the others: the pool holds at most n connections, and an
	// n+1-th would block its release forever.
	<-e.slots
	c, err := e.connect(true)
	if err != nil {
		return nil, err
	}
	e.release(c)
	return e, nil
}

// mergeConcurrency lets the engine hold at most two background merges at a
// time, one per thread of its pool (the library's pool has two threads and
// takes up to twice as many merges, which its threads take turns at). Each
// merge holds its parts' read buffers until it ends, so the merges taken
// but waiting cost memory and no time saved on two cores. A load of a file
// that mixes 15 tax years brings a part to every partition with each
// insert, so its partitions reach a merge together: with the staging
// table's 20-part merges (CreateInsertStage) four merges held 173 MB at
// once and the 9.9M-row load peaked at 603 MB, 564 MB with this (573 MB
// before either; etl/BENCHMARKS.md, "Session 10"; the column-by-column
// merges of CreateInsertStage and the allocator without thread caches,
// allocatorConf, brought it to 472-479 MB in session 11). The setting is
// the process's: it is read when the library starts, by the first engine
// of the process.
const mergeConcurrency = "--background_merges_mutations_concurrency_ratio=1"

func (e *embedded) connect(first bool) (*chdb.Conn, error) {
	c, err := chdb.Connect(e.args...)
	if err != nil {
		return nil, &ConfigError{fmt.Sprintf("no se pudo abrir el almacén embebido (%s): %v", strings.TrimPrefix(e.args[0], "--path="), err)}
	}
	if first {
		if _, _, err := c.Query("CREATE DATABASE IF NOT EXISTS "+quoteIdent(e.db), "TSV"); err != nil {
			c.Close()
			return nil, &ConfigError{fmt.Sprintf("no se pudo crear la base de datos %s: %v", e.db, err)}
		}
	}
	// A chDB connection is a session: USE makes the observatory's database
	// the default for every statement it runs, as the server backend does
	// with its connection's database.
	// Decimals keep their scale in text output (0.00, not 0), as ClickHouse
	// servers before 21.9 always write them, so that exports are the same
	// bytes from both backends.
	for _, s := range append([]string{"USE " + quoteIdent(e.db), "SET output_format_decimal_trailing_zeros = 1"}, e.spillSettings...) {
		if _, _, err := c.Query(s, "TSV"); err != nil {
			c.Close()
			return nil, &ConfigError{fmt.Sprintf("no se pudo preparar la conexión (%s): %v", s, err)}
		}
	}
	return c, nil
}

// errClosed answers a statement on an engine already closed, which would
// otherwise wait for a connection forever.
var errClosed = errors.New("el almacén embebido ya está cerrado")

func (e *embedded) acquire(ctx context.Context) (*chdb.Conn, error) {
	select {
	case <-e.closed:
		return nil, errClosed
	case c := <-e.pool:
		return c, nil
	default:
	}
	select {
	case <-e.closed:
		return nil, errClosed
	case c := <-e.pool:
		return c, nil
	case <-e.slots:
		c, err := e.connect(false)
		if err != nil {
			e.slots <- struct{}{}
			return nil, err
		}
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release hands c back to the pool (which has room for every connection),
// or closes it when the engine was closed while c ran a statement.
func (e *embedded) release(c *chdb.Conn) {
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-e.closed:
		c.Close()
	default:
		e.pool <- c
	}
}

func (e *embedded) Kind() string     { return "embedded" }
func (e *embedded) Database() string { return e.db }

func (e *embedded) Ping(ctx context.Context) error {
	_, err := e.Query(ctx, "SELECT 1")
	return err
}

func (e *embedded) wrap(sql string, err error) error {
	var ce *chdb.Error
	if errors.As(err, &ce) {
		return &QueryError{Engine: "embedded", SQL: sql, Message: ce.Message}
	}
	return err
}

// Exec runs one statement.
func (e *embedded) Exec(ctx context.Context, sql string, params ...Param) error {
	_, err := e.whole(ctx, "TSV", sql, params...)
	return err
}

// Query decodes TabSeparatedWithNamesAndTypes output, which carries the
// column types, into typed values.
func (e *embedded) Query(ctx context.Context, sql string, params ...Param) (*Result, error) {
	out, err := e.whole(ctx, "TabSeparatedWithNamesAndTypes", sql, params...)
	if err != nil {
		return nil, err
	}
	return decodeTSVWithTypes(out)
}

// whole runs one statement and returns its whole output. chDB cannot
// interrupt a plain statement from outside, so a context deadline becomes
// ClickHouse's own max_execution_time for that statement; long reads that
// must stop on cancellation go through Stream.
func (e *embedded) whole(ctx context.Context, format, sql string, params ...Param) ([]byte, error) {
	q, err := Bind(sql, params...)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := e.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer e.release(c)
	restore, err := e.limitTime(ctx, c)
	if err != nil {
		return nil, err
	}
	defer restore()
	out, _, err := c.Query(q, format)
	return out, e.wrap(q, err)
}

// limitTime turns the context's deadline into max_execution_time on the
// connection for the next statement, because chDB cannot interrupt a
// running statement from another thread; restore puts the default back.
func (e *embedded) limitTime(ctx context.Context, c *chdb.Conn) (restore func(), err error) {
	dl, ok := ctx.Deadline()
	if !ok {
		return func() {}, nil
	}
	secs := time.Until(dl).Seconds()
	if secs <= 0 {
		return nil, context.DeadlineExceeded
	}
	if _, _, err := c.Query(fmt.Sprintf("SET max_execution_time = %.3f", secs), "TSV"); err != nil {
		return nil, e.wrap("SET max_execution_time", err)
	}
	return func() { c.Query("SET max_execution_time = 0", "TSV") }, nil
}

// Stream reads the result in chunks; between chunks the context is checked
// and a cancelled query is cancelled in the engine. A deadline also bounds
// the wait for a chunk that takes long to come (see limitTime).
func (e *embedded) Stream(ctx context.Context, w io.Writer, format, sql string, params ...Param) error {
	q, err := Bind(sql, params...)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := e.acquire(ctx)
	if err != nil {
		return err
	}
	restore, err := e.limitTime(ctx, c)
	if err != nil {
		e.release(c)
		return err
	}
	st, err := c.StreamQuery(q, format)
	if err != nil {
		restore()
		e.release(c)
		return e.wrap(q, err)
	}
	var chunk []byte
	wrote := false
	for {
		if err = ctx.Err(); err != nil {
			break
		}
		chunk, err = st.Next(chunk)
		if err != nil {
			err = e.wrap(q, err)
			break
		}
		if chunk == nil {
			break
		}
		wrote = true
		if _, err = w.Write(chunk); err != nil {
			break
		}
	}
	st.Close()
	restore()
	e.release(c)
	if err == nil && !wrote {
		// An empty result ends the stream before any chunk, so a format's
		// header (CSVWithNames, Parquet's schema) would be lost: run it
		// whole instead, which is cheap when there are no rows.
		out, err := e.whole(ctx, format, q)
		if err != nil {
			return err
		}
		_, err = w.Write(out)
		return err
	}
	return err
}

func (e *embedded) Insert(ctx context.Context, table string, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	types, err := e.types.columnTypes(ctx, e, table, columns)
	if err != nil {
		return err
	}
	if err := e.insertNative(ctx, table, columns, types, rows); !errors.Is(err, errNotNative) {
		return err
	}
	cts := make([]colType, len(types))
	for j, t := range types {
		cts[j] = parseColType(t)
	}
	head := insertHead(table, columns) + " FORMAT TabSeparated\n"
	b := make([]byte, 0, len(head)+len(rows)*len(columns)*12)
	b = append(b, head...)
	for i, row := range rows {
		if len(row) != len(columns) {
			return fmt.Errorf("fila %d de %s: %d valores para %d columnas", i+1, table, len(row), len(columns))
		}
		for j, v := range row {
			if j > 0 {
				b = append(b, '\t')
			}
			fv, err := cts[j].fit(v)
			if err == nil {
				b, err = appendTSV(b, fv, types[j])
			}
			if err != nil {
				return fmt.Errorf("fila %d de %s, columna %s: %w", i+1, table, columns[j], err)
			}
		}
		b = append(b, '\n')
	}
	c, err := e.acquire(ctx)
	if err != nil {
		return err
	}
	defer e.release(c)
	_, _, err = c.Query(string(b), "TSV")
	return e.wrap(head, err)
}

// insertNative encodes rows as a Native block (errNotNative when a column
// type has no Native encoding, and the caller sends text) and inserts it.
func (e *embedded) insertNative(ctx context.Context, table string, columns, types []string, rows [][]any) error {
	cols, err := nativeTypes(types)
	if err != nil {
		return err
	}
	l := &TableColumns{Table: table, Columns: columns, types: cols}
	b := l.NewBlock(len(rows), 64*len(columns))
	for _, row := range rows {
		if err := b.AppendRow(row); err != nil {
			return err
		}
	}
	return e.insertBlocks(ctx, []*Block{b})
}

// insertBlocks inserts blocks through a Spool: the engine parses no
// text, and the blocks were encoded by the goroutines that built them.
func (e *embedded) insertBlocks(ctx context.Context, blocks []*Block) error {
	s, err := NewSpool(ctx, e, blocks[0].layout)
	if err != nil {
		return err
	}
	defer s.Close()
	for _, b := range blocks {
		if _, err := s.Add(b); err != nil {
			return err
		}
	}
	return s.Insert(ctx)
}

var streamSeq atomic.Int64

// openStream starts an INSERT that reads Native blocks from a named pipe
// in the spool directory (file() reads a pipe like a file) and returns the
// pipe's write end once the engine has opened it, and the channel the
// insert's result arrives on when the write end is closed.
func (e *embedded) openStream(ctx context.Context, tc *TableColumns) (*os.File, <-chan error, error) {
	path := filepath.Join(e.spool, fmt.Sprintf("%s-%d-%d.fifo", tc.Table, os.Getpid(), streamSeq.Add(1)))
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		return nil, nil, fmt.Errorf("no se pudo crear la tubería de inserción: %w", err)
	}
	// loadNative gives file() the structure, so the engine does not read
	// the pipe to infer it (what it read would be lost to the insert). It
	// takes a connection from the pool and holds it until the write end
	// is closed.
	done := make(chan error, 1)
	go func() { done <- e.loadNative(ctx, tc.Table, tc.nativeColumns(), path, "", nil) }()
	// Opening the write end fails with ENXIO until the engine has opened
	// the read end; an insert that fails before that ends the wait.
	for wait := 50 * time.Microsecond; ; wait = min(2*wait, 20*time.Millisecond) {
		f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			os.Remove(path) // both ends are open: the name is not needed
			setPipeSize(f, 1<<20)
			return f, done, nil
		}
		if !errors.Is(err, syscall.ENXIO) {
			os.Remove(path)
			return nil, nil, fmt.Errorf("no se pudo abrir la tubería de inserción: %w", err)
		}
		select {
		case ierr := <-done:
			os.Remove(path)
			if ierr == nil {
				ierr = errors.New("la inserción terminó sin leer la tubería")
			}
			return nil, nil, ierr
		case <-time.After(wait):
		}
	}
}

// setPipeSize enlarges a pipe's buffer (F_SETPIPE_SZ), so that the writer
// and the engine switch less often; the default 64 KiB stays if refused.
func setPipeSize(f *os.File, n int) {
	const fSetPipeSz = 1031
	if sc, err := f.SyscallConn(); err == nil {
		sc.Control(func(fd uintptr) {
			syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSz, uintptr(n))
		})
	}
}

// Close closes the idle pooled connections, and each busy one when its
// statement ends (release); statements after it fail with errClosed. It is
// called at shutdown, after the HTTP server and the jobs have stopped using
// the engine.
func (e *embedded) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-e.closed:
		return nil
	default:
	}
	close(e.closed)
	for {
		select {
		case c := <-e.pool:
			c.Close()
		default:
			return nil
		}
	}
}

// insertHead is the INSERT statement head both backends use: always with an
// explicit column list (ClickHouse 18.16 needs it for batch inserts).
func insertHead(table string, columns []string) string {
	quoted := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = quoteIdent(c)
	}
	return "INSERT INTO " + quoteIdent(table) + " (" + strings.Join(quoted, ", ") + ")"
}

// decodeTSVWithTypes parses TabSeparatedWithNamesAndTypes output.
func decodeTSVWithTypes(b []byte) (*Result, error) {
	res := &Result{}
	if len(b) == 0 {
		return res, nil
	}
	lines := bytes.Split(bytes.TrimSuffix(b, []byte{'\n'}), []byte{'\n'})
	if len(lines) < 2 {
		return nil, fmt.Errorf("respuesta sin cabecera de tipos: %q", b)
	}
	names := strings.Split(string(lines[0]), "\t")
	types := strings.Split(string(lines[1]), "\t")
	if len(names) != len(types) {
		return nil, errors.New("cabecera de tipos inconsistente")
	}
	res.Columns = make([]Column, len(names))
	for i := range names {
		res.Columns[i] = Column{Name: unescapeTSV(names[i]), Type: types[i]}
	}
	res.Rows = make([][]any, 0, len(lines)-2)
	for n, line := range lines[2:] {
		fields := strings.Split(string(line), "\t")
		if len(fields) != len(names) {
			return nil, fmt.Errorf("fila %d: %d campos para %d columnas", n+1, len(fields), len(names))
		}
		row := make([]any, len(fields))
		for i, f := range fields {
			t, _ := baseType(types[i])
			if f != `\N` && !strings.HasPrefix(t, "Array(") {
				f = unescapeTSV(f)
			}
			v, err := parseText(f, types[i])
			if err != nil {
				return nil, fmt.Errorf("fila %d, columna %s (%s): %w", n+1, names[i], types[i], err)
			}
			row[i] = v
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// typeCache remembers the column types of tables for inserts.
type typeCache struct {
	mu sync.Mutex
	m  map[string]map[string]string
}

func (tc *typeCache) columnTypes(ctx context.Context, e Engine, table string, columns []string) ([]string, error) {
	tc.mu.Lock()
	cols, ok := tc.m[table]
	tc.mu.Unlock()
	if !ok {
		res, err := e.Query(ctx, "SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String}",
			P("db", e.Database()), P("t", table))
		if err != nil {
			return nil, err
		}
		if len(res.Rows) == 0 {
			return nil, fmt.Errorf("la tabla %s no existe", table)
		}
		cols = make(map[string]string, len(res.Rows))
		for _, r := range res.Rows {
			cols[r[0].(string)] = r[1].(string)
		}
		tc.mu.Lock()
		if tc.m == nil {
			tc.m = map[string]map[string]string{}
		}
		tc.m[table] = cols
		tc.mu.Unlock()
	}
	out := make([]string, len(columns))
	for i, c := range columns {
		t, ok := cols[c]
		if !ok {
			return nil, fmt.Errorf("la tabla %s no tiene la columna %s", table, c)
		}
		out[i] = t
	}
	return out, nil
}

// forget drops cached column types (after migrations change a table).
func (tc *typeCache) forget() {
	tc.mu.Lock()
	tc.m = nil
	tc.mu.Unlock()
}
