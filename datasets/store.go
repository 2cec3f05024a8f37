package datasets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// Release files live in the warehouse (table dataset_files) in chunks of
// ChunkSize bytes: every node of a deployment serves the same bytes, the
// files are as durable as the data, and a download can resume at any
// offset by reading from the chunk that holds it.
const ChunkSize = 1 << 20

// chunksPerInsert chunks go in one INSERT (fewer, larger parts). Each
// writer holds them, their Native encoding and the engine's copy while the
// insert runs, and a release writes its CSV and Excel CSV at once: 16
// chunks held the `etl run` of 9.9M liquidations at 694 MB while writing
// them, 4 at 607 MB (etl/BENCHMARKS.md, "Session 5").
const chunksPerInsert = 4

var fileColumns = []string{"dataset", "release", "name", "chunk", "data"}

// fileWriter stores one release file, computing its size and SHA-256.
//
// It spools the file to local disk while the statement that produces it
// runs, and stores it in the warehouse only at Close. The embedded engine
// does not wait for a slow reader: it goes on formatting and holds what
// it has written until the reader fetches it. Inserting each piece as it
// came made the reader that slow (inserts and their merges on two cores):
// the 9.9M-row Parquet file piled up about 150 MB in the engine, memory
// no query accounted for (etl/BENCHMARKS.md, "Session 7"). The disk takes
// the stream as fast as it comes, and the inserts run after the
// statement, when its memory is free.
type fileWriter struct {
	ctx     context.Context
	eng     warehouse.Engine
	dataset string
	release uint32
	name    string
	sum     hash.Hash
	size    int64
	cur     []byte
	pending [][]any
	chunk   uint32
	// spool is the local copy (nil: none could be made, and Write stores
	// as it goes). With the local cache, it is the cache's partial file,
	// committed to the cache at Close; otherwise a temporary file that
	// Close removes.
	spool *os.File
	cache *cacheWriter
}

func newFileWriter(ctx context.Context, eng warehouse.Engine, dataset string, release uint32, name string) *fileWriter {
	w := &fileWriter{ctx: ctx, eng: eng, dataset: dataset, release: release, name: name, sum: sha256.New(), cur: make([]byte, 0, ChunkSize)}
	if c, err := newCacheWriter(); err == nil {
		w.cache, w.spool = c, c.f
	} else if f, err := os.CreateTemp("", "observatorio-archivo-*"); err == nil {
		// Unlinked at once: the open file holds its disk until Close, and
		// a process killed mid-release leaves nothing behind.
		os.Remove(f.Name())
		w.spool = f
	}
	return w
}

func (f *fileWriter) Write(p []byte) (int, error) {
	n := len(p)
	f.sum.Write(p)
	f.size += int64(n)
	switch {
	case f.cache != nil:
		_, err := f.cache.Write(p)
		return n, f.spoolError(err)
	case f.spool != nil:
		_, err := f.spool.Write(p)
		return n, f.spoolError(err)
	}
	return n, f.store(p)
}

func (f *fileWriter) spoolError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("no se pudo escribir la copia local de %s (%s): %w", f.name, f.spool.Name(), err)
}

// store cuts p into chunks and inserts them chunksPerInsert at a time.
func (f *fileWriter) store(p []byte) error {
	for len(p) > 0 {
		room := ChunkSize - len(f.cur)
		if room > len(p) {
			room = len(p)
		}
		f.cur = append(f.cur, p[:room]...)
		p = p[room:]
		if len(f.cur) == ChunkSize {
			if err := f.cutChunk(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *fileWriter) cutChunk() error {
	f.pending = append(f.pending, []any{f.dataset, f.release, f.name, f.chunk, string(f.cur)})
	f.chunk++
	f.cur = f.cur[:0]
	if len(f.pending) >= chunksPerInsert {
		return f.insert()
	}
	return nil
}

func (f *fileWriter) insert() error {
	if len(f.pending) == 0 {
		return nil
	}
	err := f.eng.Insert(f.ctx, "dataset_files", fileColumns, f.pending)
	f.pending = f.pending[:0]
	return err
}

// Close stores the file (from the spool, if there is one) and returns its
// description. The spool is gone afterwards, whatever happened: in the
// cache when the file was stored, removed otherwise.
func (f *fileWriter) Close(format string) (File, error) {
	err := f.storeSpool()
	if err == nil && (len(f.cur) > 0 || f.chunk == 0) {
		err = f.cutChunk()
	}
	if err == nil {
		err = f.insert()
	}
	if err != nil {
		f.abort()
		return File{}, err
	}
	sum := hex.EncodeToString(f.sum.Sum(nil))
	if f.cache != nil {
		f.cache.commit(sum, f.size) // best effort: the warehouse has the file
		f.cache, f.spool = nil, nil
	}
	f.abort()
	return File{Name: f.name, Format: format, MediaType: MediaType(format), Bytes: f.size, SHA256: sum}, nil
}

// storeSpool reads the spool back from its start and stores it.
func (f *fileWriter) storeSpool() error {
	if f.spool == nil {
		return nil
	}
	if _, err := f.spool.Seek(0, io.SeekStart); err != nil {
		return f.spoolError(err)
	}
	buf := make([]byte, ChunkSize)
	for {
		n, err := io.ReadFull(f.spool, buf)
		if serr := f.store(buf[:n]); serr != nil {
			return serr
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("no se pudo leer la copia local de %s (%s): %w", f.name, f.spool.Name(), err)
		}
	}
}

// abort drops the local copy of a file that will not be recorded (or that
// Close has already stored).
func (f *fileWriter) abort() {
	switch {
	case f.cache != nil:
		f.cache.abort()
	case f.spool != nil:
		f.spool.Close()
	}
	f.cache, f.spool = nil, nil
}

// FileReader reads a release file from the warehouse. It is an
// io.ReadSeeker (http.ServeContent serves ranges with it) that holds one
// chunk in memory and a warehouse connection only while it fetches a chunk,
// so a slow client never keeps a connection busy.
type FileReader struct {
	ctx     context.Context
	eng     warehouse.Engine
	dataset string
	release uint32
	file    File
	off     int64
	chunk   int64 // index of the chunk in buf, -1 when none
	buf     *bytes.Buffer
	start   int // the chunk's bytes are buf.Bytes()[start:]
}

var chunkBuffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, ChunkSize+64)) }}

// OpenFile opens a file of a release for reading.
func OpenFile(ctx context.Context, eng warehouse.Engine, rel *Release, name string) (*FileReader, error) {
	for _, f := range rel.Files {
		if f.Name == name {
			return &FileReader{ctx: ctx, eng: eng, dataset: rel.Dataset, release: rel.Number, file: f, chunk: -1}, nil
		}
	}
	return nil, ErrNoFile
}

// ErrNoFile: the release has no such file.
var ErrNoFile = errors.New("la versión no tiene ese archivo")

// File describes the file being read.
func (r *FileReader) File() File { return r.file }

// Seek implements io.Seeker.
func (r *FileReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.file.Bytes
	default:
		return 0, errors.New("whence inválido")
	}
	if offset < 0 {
		return 0, errors.New("posición negativa")
	}
	r.off = offset
	return offset, nil
}

// Read implements io.Reader.
func (r *FileReader) Read(p []byte) (int, error) {
	if r.off >= r.file.Bytes {
		return 0, io.EOF
	}
	idx := r.off / ChunkSize
	if idx != r.chunk {
		if err := r.load(idx); err != nil {
			return 0, err
		}
	}
	data := r.buf.Bytes()[r.start:]
	within := r.off - idx*ChunkSize
	if within >= int64(len(data)) {
		return 0, fmt.Errorf("el archivo %s de la versión %d está incompleto en el almacén", r.file.Name, r.release)
	}
	n := copy(p, data[within:])
	r.off += int64(n)
	return n, nil
}

// WriteTo copies the rest of the file to w chunk by chunk (io.Copy uses
// it): no intermediate copies beyond the chunk itself.
func (r *FileReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.off < r.file.Bytes {
		idx := r.off / ChunkSize
		if idx != r.chunk {
			if err := r.load(idx); err != nil {
				return total, err
			}
		}
		data := r.buf.Bytes()[r.start:]
		within := r.off - idx*ChunkSize
		if within >= int64(len(data)) {
			return total, fmt.Errorf("el archivo %s de la versión %d está incompleto en el almacén", r.file.Name, r.release)
		}
		n, err := w.Write(data[within:])
		total += int64(n)
		r.off += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Close returns the chunk buffer to the pool.
func (r *FileReader) Close() error {
	if r.buf != nil {
		r.buf.Reset()
		chunkBuffers.Put(r.buf)
		r.buf = nil
	}
	return nil
}

const chunkSQL = `SELECT data FROM dataset_files
WHERE dataset = {d:String} AND release = {r:UInt32} AND name = {n:String} AND chunk = {c:UInt32}`

// load fetches chunk idx (RowBinary: a varint length, then the bytes).
func (r *FileReader) load(idx int64) error {
	if r.buf == nil {
		r.buf = chunkBuffers.Get().(*bytes.Buffer)
	}
	r.buf.Reset()
	r.chunk = -1
	err := r.eng.Stream(r.ctx, r.buf, "RowBinary", chunkSQL,
		warehouse.P("d", r.dataset), warehouse.P("r", r.release), warehouse.P("n", r.file.Name), warehouse.P("c", uint32(idx)))
	if err != nil {
		return err
	}
	b := r.buf.Bytes()
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) != l {
		return fmt.Errorf("el archivo %s de la versión %d: fragmento %d ausente o dañado en el almacén", r.file.Name, r.release, idx)
	}
	r.start = n
	r.chunk = idx
	return nil
}
