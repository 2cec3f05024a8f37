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
	// cache writes the file through to the local cache (nil: no cache).
	cache *cacheWriter
}

func newFileWriter(ctx context.Context, eng warehouse.Engine, dataset string, release uint32, name string) *fileWriter {
	w := &fileWriter{ctx: ctx, eng: eng, dataset: dataset, release: release, name: name, sum: sha256.New(), cur: make([]byte, 0, ChunkSize)}
	if c, err := newCacheWriter(); err == nil {
		w.cache = c
	}
	return w
}

func (f *fileWriter) Write(p []byte) (int, error) {
	n := len(p)
	f.sum.Write(p)
	f.size += int64(n)
	if f.cache != nil {
		if _, err := f.cache.Write(p); err != nil {
			f.cache.abort()
			f.cache = nil
		}
	}
	for len(p) > 0 {
		room := ChunkSize - len(f.cur)
		if room > len(p) {
			room = len(p)
		}
		f.cur = append(f.cur, p[:room]...)
		p = p[room:]
		if len(f.cur) == ChunkSize {
			if err := f.cutChunk(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
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

// Close stores the last chunk and returns the file's description.
func (f *fileWriter) Close(format string) (File, error) {
	if len(f.cur) > 0 || f.chunk == 0 {
		if err := f.cutChunk(); err != nil {
			return File{}, err
		}
	}
	if err := f.insert(); err != nil {
		if f.cache != nil {
			f.cache.abort()
		}
		return File{}, err
	}
	sum := hex.EncodeToString(f.sum.Sum(nil))
	if f.cache != nil {
		f.cache.commit(sum, f.size) // best effort: the warehouse has the file
	}
	return File{Name: f.name, Format: format, MediaType: MediaType(format), Bytes: f.size, SHA256: sum}, nil
}

// abort drops the local copy of a file that will not be recorded.
func (f *fileWriter) abort() {
	if f.cache != nil {
		f.cache.abort()
		f.cache = nil
	}
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
