package warehouse

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"sync"
	"time"

	"github.com/shopspring/decimal"
)

// A Block is a batch of rows for one table, held column by column in
// ClickHouse's Native encoding as the rows are appended. The ETL's
// transform workers each fill their own blocks, so the encoding runs on
// every core, and a value is written once, straight from its Go type:
// rows of []any cost an allocation per boxed value and a second pass to
// encode them (etl/BENCHMARKS.md). The embedded engine writes the blocks
// to a Native file as they are; the server engine reads the values back
// and sends them through its driver.
//
// Appending checks each value against its column (colType, the checks
// both backends share); the first value that does not fit is kept as the
// block's error, with its row and column, and returned by EndRow.
type Block struct {
	layout *TableColumns
	vals   [][]byte // per column: the values
	nulls  [][]byte // per column: the null map (nullable columns)
	rows   int
	col    int // column of the next value of the row being appended
	err    error
	// rowStart: the length of each column's values and null map when the
	// row being appended started, so that DropRow can take it back.
	rowStart, nullStart []int
}

// ValueError is a value that does not fit its column.
type ValueError struct {
	Table, Column string
	Row           int // 1-based row of the block
	Value         any
	Err           error
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("%s, fila %d, columna %s: %v", e.Table, e.Row, e.Column, e.Err)
}

func (e *ValueError) Unwrap() error { return e.Err }

// TableColumns is a table's columns and their types, looked up once for the
// blocks of a load.
type TableColumns struct {
	Table   string
	Columns []string
	types   []colType
	free    sync.Pool // of *Block, emptied: their buffers are reused
}

// ColumnsOf looks up the types of columns of table.
func ColumnsOf(ctx context.Context, e Engine, table string, columns []string) (*TableColumns, error) {
	types, err := (&typeCache{}).columnTypes(ctx, e, table, columns)
	if err != nil {
		return nil, err
	}
	cols, err := nativeTypes(types)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", table, err)
	}
	return &TableColumns{Table: table, Columns: columns, types: cols}, nil
}

// nativeColumns are the columns with the types the blocks declare.
func (l *TableColumns) nativeColumns() []Column {
	cols := make([]Column, len(l.Columns))
	for j, c := range l.Columns {
		cols[j] = Column{Name: c, Type: l.types[j].blockType()}
	}
	return cols
}

// NewBlock starts an empty block, with room for rows rows of bytesPerRow
// bytes, or with the buffers of a recycled block.
func (l *TableColumns) NewBlock(rows, bytesPerRow int) *Block {
	if b, ok := l.free.Get().(*Block); ok {
		return b
	}
	b := &Block{layout: l, vals: make([][]byte, len(l.types)), nulls: make([][]byte, len(l.types))}
	for j := range l.types {
		c := &l.types[j]
		w := c.width()
		if w == 0 {
			w = bytesPerRow / len(l.types)
		}
		b.vals[j] = make([]byte, 0, rows*w)
		if c.nullable {
			b.nulls[j] = make([]byte, 0, rows)
		}
	}
	return b
}

// Recycle hands blocks back after their insert, so that later blocks
// reuse their buffers instead of growing new ones: a load then allocates
// a few batches' worth of buffers, not one per batch.
func (l *TableColumns) Recycle(blocks []*Block) {
	for _, b := range blocks {
		if b.layout != l {
			continue
		}
		for j := range b.vals {
			b.vals[j] = b.vals[j][:0]
			if b.nulls[j] != nil {
				b.nulls[j] = b.nulls[j][:0]
			}
		}
		b.rows, b.col, b.err = 0, 0, nil
		l.free.Put(b)
	}
}

// Rows is the number of complete rows.
func (b *Block) Rows() int { return b.rows }

// Bytes is the size of the encoded values.
func (b *Block) Bytes() int {
	n := 0
	for j := range b.vals {
		n += len(b.vals[j]) + len(b.nulls[j])
	}
	return n
}

// next returns the column of the next value, or nil when the row is full
// or the block failed.
func (b *Block) next() *colType {
	if b.err != nil {
		return nil
	}
	if b.col == 0 {
		if b.rowStart == nil {
			b.rowStart, b.nullStart = make([]int, len(b.vals)), make([]int, len(b.vals))
		}
		for j := range b.vals {
			b.rowStart[j], b.nullStart[j] = len(b.vals[j]), len(b.nulls[j])
		}
	}
	if b.col >= len(b.layout.types) {
		b.err = fmt.Errorf("%s, fila %d: más valores que columnas (%d)", b.layout.Table, b.rows+1, len(b.layout.types))
		return nil
	}
	c := &b.layout.types[b.col]
	if c.nullable {
		b.nulls[b.col] = append(b.nulls[b.col], 0)
	}
	return c
}

func (b *Block) fail(v any, err error) {
	if b.err == nil {
		b.err = &ValueError{Table: b.layout.Table, Column: b.layout.Columns[b.col], Row: b.rows + 1, Value: v, Err: err}
	}
}

// DropRow takes back the row being appended (after EndRow failed, for
// example) and clears the block's error: the rows before it stay.
func (b *Block) DropRow() {
	if b.col > 0 || b.err != nil {
		if b.rowStart != nil {
			for j := range b.vals {
				b.vals[j] = b.vals[j][:b.rowStart[j]]
				if b.nulls[j] != nil {
					b.nulls[j] = b.nulls[j][:b.nullStart[j]]
				}
			}
		}
	}
	b.col, b.err = 0, nil
}

// String appends a string value.
func (b *Block) String(s string) { appendText(b, s) }

// StringBytes appends a string value given as bytes (copied).
func (b *Block) StringBytes(s []byte) { appendText(b, s) }

func appendText[T string | []byte](b *Block, s T) {
	c := b.next()
	if c == nil {
		return
	}
	if c.kind != kindString {
		b.value(c, string(s))
		return
	}
	v := binary.AppendUvarint(b.vals[b.col], uint64(len(s)))
	b.vals[b.col] = append(v, s...)
	b.col++
}

// Int appends an integer value.
func (b *Block) Int(i int64) {
	c := b.next()
	if c == nil {
		return
	}
	switch {
	case c.kind == kindInt && (c.bits == 64 || (i >= -1<<(c.bits-1) && i < 1<<(c.bits-1))):
	case c.kind == kindUInt && i >= 0 && (c.bits == 64 || uint64(i)>>c.bits == 0):
	default:
		b.value(c, i)
		return
	}
	b.vals[b.col] = appendUint(b.vals[b.col], uint64(i), c.bits/8)
	b.col++
}

// Decimal appends a decimal value, rounded to the column's scale half away
// from zero.
func (b *Block) Decimal(d decimal.Decimal) {
	c := b.next()
	if c == nil {
		return
	}
	if c.kind != kindDecimal {
		b.value(c, d)
		return
	}
	var buf [16]byte
	if v, ok := c.scaledInt64(d); ok {
		w := buf[:c.width()]
		putUint(w, uint64(v))
		if len(w) == 16 && v < 0 {
			putUint(w[8:], math.MaxUint64)
		}
		b.vals[b.col] = append(b.vals[b.col], w...)
		b.col++
		return
	}
	d, err := c.roundDecimal(d)
	if err != nil {
		b.fail(d, err)
		return
	}
	w := buf[:c.width()]
	putScaled(w, d, c.scale)
	b.vals[b.col] = append(b.vals[b.col], w...)
	b.col++
}

// Time appends a date or date-time value (its UTC day or second).
func (b *Block) Time(t time.Time) {
	c := b.next()
	if c == nil {
		return
	}
	if c.kind != kindDate && c.kind != kindDateTime {
		b.value(c, t)
		return
	}
	t = t.UTC()
	if err := c.checkTime(t); err != nil {
		b.fail(t, err)
		return
	}
	var buf [4]byte
	w := buf[:c.width()]
	c.putTime(w, t)
	b.vals[b.col] = append(b.vals[b.col], w...)
	b.col++
}

// Value appends any value the Go types of types.go convert (nil for NULL).
func (b *Block) Value(v any) {
	c := b.next()
	if c == nil {
		return
	}
	switch x := v.(type) {
	case string:
		if c.kind == kindString {
			b.undoNull(c)
			b.String(x)
			return
		}
	case decimal.Decimal:
		if c.kind == kindDecimal {
			b.undoNull(c)
			b.Decimal(x)
			return
		}
	case time.Time:
		if c.kind == kindDate || c.kind == kindDateTime {
			b.undoNull(c)
			b.Time(x)
			return
		}
	}
	b.value(c, v)
}

// undoNull takes back the null-map byte next() appended, before a typed
// appender calls next() again for the same value.
func (b *Block) undoNull(c *colType) {
	if c.nullable {
		b.nulls[b.col] = b.nulls[b.col][:len(b.nulls[b.col])-1]
	}
}

// value appends v through fit, the generic checked conversion.
func (b *Block) value(c *colType, v any) {
	if c.kind == kindOther {
		b.fail(v, errNotNative)
		return
	}
	fv, err := c.fit(v)
	if err != nil {
		b.fail(v, err)
		return
	}
	if fv == nil {
		n := b.nulls[b.col]
		n[len(n)-1] = 1
	}
	if c.kind == kindString {
		s, _ := fv.(string) // "" under a null
		v := binary.AppendUvarint(b.vals[b.col], uint64(len(s)))
		b.vals[b.col] = append(v, s...)
	} else {
		var buf [16]byte
		w := buf[:c.width()]
		if fv != nil {
			c.put(w, fv)
		}
		b.vals[b.col] = append(b.vals[b.col], w...)
	}
	b.col++
}

// Null appends NULL (the column must be nullable).
func (b *Block) Null() { b.Value(nil) }

// EndRow completes a row: every column must have had its value. It
// returns the block's error, if any value did not fit.
func (b *Block) EndRow() error {
	if b.err == nil && b.col != len(b.layout.types) {
		b.err = fmt.Errorf("%s, fila %d: %d valores para %d columnas", b.layout.Table, b.rows+1, b.col, len(b.layout.types))
	}
	if b.err != nil {
		return b.err
	}
	b.rows++
	b.col = 0
	return nil
}

// AppendRow appends a row of values (see Value).
func (b *Block) AppendRow(row []any) error {
	if len(row) != len(b.layout.types) {
		return fmt.Errorf("%s, fila %d: %d valores para %d columnas", b.layout.Table, b.rows+1, len(row), len(b.layout.types))
	}
	for _, v := range row {
		b.Value(v)
	}
	return b.EndRow()
}

func appendUint(dst []byte, u uint64, width int) []byte {
	for i := 0; i < width; i++ {
		dst = append(dst, byte(u>>(8*i)))
	}
	return dst
}

// writeNative writes the block in Native format: the numbers of columns
// and rows, then each column's name, type, null map and values.
func (b *Block) writeNative(w *bufio.Writer) {
	l := b.layout
	writeUvarint(w, uint64(len(l.types)))
	writeUvarint(w, uint64(b.rows))
	for j := range l.types {
		writeString(w, l.Columns[j])
		writeString(w, l.types[j].blockType())
		w.Write(b.nulls[j])
		w.Write(b.vals[j])
	}
}

// blockInserter is an engine that loads blocks as they are encoded.
type blockInserter interface {
	insertBlocks(ctx context.Context, blocks []*Block) error
}

// InsertBlocks loads blocks of one layout in one insert. An engine that
// cannot take Native data (the server's driver) gets the rows back as
// values.
func InsertBlocks(ctx context.Context, e Engine, blocks []*Block) error {
	if len(blocks) == 0 {
		return nil
	}
	l := blocks[0].layout
	for _, b := range blocks {
		if b.layout != l {
			return errors.New("InsertBlocks: bloques de tablas distintas")
		}
		if b.err != nil {
			return b.err
		}
		if b.col != 0 {
			return fmt.Errorf("%s, fila %d: fila incompleta", l.Table, b.rows+1)
		}
	}
	switch x := e.(type) {
	case blockInserter:
		return x.insertBlocks(ctx, blocks)
	case *Watched:
		if err := x.gate(); err != nil {
			return err
		}
		err := InsertBlocks(ctx, x.Engine, blocks)
		x.observe(err)
		return err
	}
	var rows [][]any
	for _, b := range blocks {
		r, err := b.values()
		if err != nil {
			return err
		}
		rows = append(rows, r...)
	}
	return e.Insert(ctx, l.Table, l.Columns, rows)
}

// values reads the block's rows back as Go values (the canonical types of
// types.go).
func (b *Block) values() ([][]any, error) {
	l := b.layout
	rows := make([][]any, b.rows)
	cells := make([]any, b.rows*len(l.types))
	for i := range rows {
		rows[i] = cells[i*len(l.types) : (i+1)*len(l.types)]
	}
	for j := range l.types {
		c := &l.types[j]
		v := b.vals[j]
		w := c.width()
		for i := 0; i < b.rows; i++ {
			if c.kind == kindString {
				n, k := binary.Uvarint(v)
				if k <= 0 || uint64(len(v)-k) < n {
					return nil, fmt.Errorf("%s: bloque dañado en la columna %s", l.Table, l.Columns[j])
				}
				rows[i][j] = string(v[k : k+int(n)])
				v = v[k+int(n):]
			} else {
				if len(v) < w {
					return nil, fmt.Errorf("%s: bloque dañado en la columna %s", l.Table, l.Columns[j])
				}
				rows[i][j] = c.read(v[:w])
				v = v[w:]
			}
			if c.nullable && b.nulls[j][i] == 1 {
				rows[i][j] = nil
			}
		}
	}
	return rows, nil
}

// read is put's inverse.
func (c *colType) read(b []byte) any {
	var u uint64 // the low 8 bytes, little-endian
	for i := min(len(b), 8) - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	switch c.kind {
	case kindUInt:
		return u
	case kindInt:
		shift := 64 - 8*len(b)
		return int64(u<<shift) >> shift
	case kindFloat:
		if len(b) == 4 {
			return float64(math.Float32frombits(uint32(u)))
		}
		return math.Float64frombits(u)
	case kindDate:
		return time.Unix(int64(u)*86400, 0).UTC()
	case kindDateTime:
		return time.Unix(int64(u), 0).UTC()
	case kindDecimal:
		if len(b) == 16 {
			return decimal128(b, c.scale)
		}
		shift := 64 - 8*len(b)
		return decimal.New(int64(u<<shift)>>shift, -int32(c.scale))
	}
	return nil
}

// decimal128 reads a little-endian two's complement 128-bit integer as a
// decimal with scale fraction digits.
func decimal128(b []byte, scale int) decimal.Decimal {
	var be [16]byte
	for i := range be {
		be[i] = b[15-i]
	}
	n := new(big.Int).SetBytes(be[:])
	if b[15]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	return decimal.NewFromBigInt(n, -int32(scale))
}

// A Spool is one insert of blocks of a table. On the embedded engine the
// insert starts with the spool and reads the blocks from a pipe as they
// are added (the engine's file() over a FIFO in its spool directory):
// nothing waits in memory or on disk, so an insert of any size holds a
// pipe's worth of rows, and fewer, larger inserts leave fewer parts for
// the engine to merge (etl/BENCHMARKS.md). Writing the blocks to a file
// first cost the kernel about 1.2 µs a liquidation row in page-cache
// writes. Other engines keep the blocks until Insert.
type Spool struct {
	eng    Engine
	tc     *TableColumns
	stream *os.File // the pipe's write end (embedded)
	w      *bufio.Writer
	done   <-chan error // the engine's insert, reading the pipe
	blocks []*Block     // engines without a pipe
	rows   int
	err    error // the first write that failed
}

// streamer is an engine that inserts Native blocks read from a pipe.
type streamer interface {
	openStream(ctx context.Context, tc *TableColumns) (w *os.File, done <-chan error, err error)
}

// NewSpool starts an insert of blocks of tc.
func NewSpool(ctx context.Context, e Engine, tc *TableColumns) (*Spool, error) {
	s := &Spool{eng: e, tc: tc}
	if st, ok := beneath[streamer](e); ok {
		if w, watched := e.(*Watched); watched {
			if err := w.gate(); err != nil {
				return nil, err
			}
		}
		f, done, err := st.openStream(ctx, tc)
		if err != nil {
			return nil, err
		}
		s.stream, s.done, s.w = f, done, bufio.NewWriterSize(f, 1<<20)
	}
	return s, nil
}

// Add appends a complete block. It reports whether the block may be
// recycled now (its rows went to the engine).
func (s *Spool) Add(b *Block) (sent bool, err error) {
	if b.layout != s.tc {
		return false, errors.New("Spool.Add: bloque de otra tabla")
	}
	if b.err != nil {
		return false, b.err
	}
	if b.col != 0 {
		return false, fmt.Errorf("%s, fila %d: fila incompleta", s.tc.Table, b.rows+1)
	}
	if s.err != nil {
		return false, s.err
	}
	s.rows += b.rows
	if s.w == nil {
		s.blocks = append(s.blocks, b)
		return false, nil
	}
	b.writeNative(s.w)
	if _, err := s.w.Write(nil); err != nil { // bufio's first write error
		// A broken pipe means the engine's insert ended: its error
		// says why.
		s.stream.Close()
		s.stream = nil
		if ierr := <-s.done; ierr != nil {
			err = ierr
		}
		s.err = err
		return true, err
	}
	return true, nil
}

// Rows is the number of rows added.
func (s *Spool) Rows() int { return s.rows }

// Blocks are the blocks kept for an engine without a pipe (to recycle
// after Insert).
func (s *Spool) Blocks() []*Block { return s.blocks }

// Insert completes the insert of what was added.
func (s *Spool) Insert(ctx context.Context) error {
	if s.err != nil {
		return s.err
	}
	if s.stream == nil {
		if s.rows == 0 {
			return nil
		}
		return InsertBlocks(ctx, s.eng, s.blocks)
	}
	werr := s.w.Flush()
	cerr := s.stream.Close()
	s.stream = nil
	err := <-s.done // the engine read to the end of the pipe, or failed
	if err == nil && werr != nil {
		err = werr
	}
	if err == nil && cerr != nil {
		err = cerr
	}
	if w, ok := s.eng.(*Watched); ok {
		w.observe(err)
	}
	return err
}

// Close abandons an insert that was not completed: the pipe ends in the
// middle of a block (its header announces rows that never come), which
// the engine refuses, so its insert fails as a whole instead of taking
// the rows sent so far (below a million rows: past that the engine may
// have written a part already, which readers ignore like every row of a
// run that did not commit); Close waits for it to end.
func (s *Spool) Close() {
	if s.stream == nil {
		return
	}
	writeUvarint(s.w, uint64(len(s.tc.types)))
	writeUvarint(s.w, 1_000_000)
	writeString(s.w, s.tc.Columns[0])
	writeString(s.w, s.tc.types[0].blockType())
	s.w.Flush()
	s.stream.Close()
	s.stream = nil
	<-s.done
}
