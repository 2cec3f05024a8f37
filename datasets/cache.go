package datasets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// The release files' canonical copy is in the warehouse (dataset_files),
// where every node of a deployment finds it. Reading 1 MiB chunks back
// through the engine runs at about the engine's own CSV rate, so each node
// also keeps a local copy of the files it serves, named by their SHA-256
// (content-addressed: a file present under its hash is the right file, and
// two warehouses never mix), which the kernel sends with sendfile at disk
// speed and no copy in the process. Publish writes its files through to the
// cache; a node that did not publish fills it on first use, verifying the
// hash. The cache can be deleted at any time, and it is bounded
// (CacheMaxBytes): after each file it gains, the files used least recently
// are removed until it fits, so that a node publishing for years does not
// fill its disk with releases nobody downloads any more (20 GB had piled
// up on a development machine).

// CacheDir is the folder of the local file cache; empty disables it (files
// are then always read from the warehouse). The default is
// $OBSERVATORIO_DATOS_CACHE ("off" disables it), else observatorio-datos
// under the system's temporary folder.
var CacheDir = defaultCacheDir()

func defaultCacheDir() string {
	switch d := os.Getenv("OBSERVATORIO_DATOS_CACHE"); d {
	case "off":
		return ""
	case "":
	default:
		return d
	}
	return filepath.Join(os.TempDir(), "observatorio-datos")
}

// CacheMaxBytes bounds the local cache's size. The default is
// $OBSERVATORIO_DATOS_CACHE_MB mebibytes, else 4 GiB: room for the latest
// release of every dataset at ten million liquidations (about 1.5 GB for
// the record-level one in its formats). A file evicted is read from the
// warehouse again on its next download.
var CacheMaxBytes = defaultCacheMaxBytes()

func defaultCacheMaxBytes() int64 {
	if mb, err := strconv.ParseInt(os.Getenv("OBSERVATORIO_DATOS_CACHE_MB"), 10, 64); err == nil && mb > 0 {
		return mb << 20
	}
	return 4 << 30
}

// A partial file this old belongs to a process that died while writing it
// (a live writer touches its file with every write).
const staleCachePartial = time.Hour

// A file served from the cache has its modification time moved forward at
// most this often, which makes eviction least-recently-used without a
// write on every download.
const cacheTouchEvery = time.Hour

func cachePath(sum string) string {
	return filepath.Join(CacheDir, sum[:2], sum)
}

var cacheFills sync.Map // sha256 -> *sync.Mutex

// CachedFile returns the release file from the local cache, filling the
// cache from the warehouse first if needed (one fill per file at a time;
// the hash is checked before the file becomes visible). It returns nil,
// nil when the cache is disabled or cannot be written: the caller then
// reads from the warehouse.
func CachedFile(ctx context.Context, eng warehouse.Engine, rel *Release, name string) (*os.File, File, error) {
	f, ok := rel.File(name)
	if !ok {
		return nil, File{}, ErrNoFile
	}
	if CacheDir == "" || len(f.SHA256) != 64 {
		return nil, f, nil
	}
	path := cachePath(f.SHA256)
	if fh, err := openCached(path, f.Bytes); err == nil {
		touchCached(fh)
		return fh, f, nil
	}
	mu, _ := cacheFills.LoadOrStore(f.SHA256, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	if fh, err := openCached(path, f.Bytes); err == nil {
		return fh, f, nil // filled while we waited
	}
	r, err := OpenFile(ctx, eng, rel, name)
	if err != nil {
		return nil, f, err
	}
	defer r.Close()
	w, err := newCacheWriter()
	if err != nil {
		return nil, f, nil // no cache: serve from the warehouse
	}
	if _, err := r.WriteTo(w); err != nil {
		w.abort()
		return nil, f, err
	}
	if err := w.commit(f.SHA256, f.Bytes); err != nil {
		return nil, f, err
	}
	fh, err := openCached(path, f.Bytes)
	return fh, f, err
}

func openCached(path string, size int64) (*os.File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := fh.Stat()
	if err != nil || st.Size() != size {
		fh.Close()
		return nil, fmt.Errorf("copia local incompleta: %s", path)
	}
	return fh, nil
}

// cacheWriter writes a file into the cache under a temporary name and
// renames it to its hash once the hash is checked.
type cacheWriter struct {
	f   *os.File
	sum hashWriter
	n   int64
}

type hashWriter interface {
	io.Writer
	Sum([]byte) []byte
}

func newCacheWriter() (*cacheWriter, error) {
	if CacheDir == "" {
		return nil, os.ErrNotExist
	}
	if err := os.MkdirAll(CacheDir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(CacheDir, ".parcial-*")
	if err != nil {
		return nil, err
	}
	return &cacheWriter{f: f, sum: sha256.New()}, nil
}

func (c *cacheWriter) Write(p []byte) (int, error) {
	c.sum.Write(p)
	c.n += int64(len(p))
	return c.f.Write(p)
}

func (c *cacheWriter) abort() {
	c.f.Close()
	os.Remove(c.f.Name())
}

// commit checks the size and hash and moves the file to its place.
func (c *cacheWriter) commit(sum string, size int64) error {
	if err := c.f.Close(); err != nil {
		os.Remove(c.f.Name())
		return err
	}
	got := hex.EncodeToString(c.sum.Sum(nil))
	if got != sum || c.n != size {
		os.Remove(c.f.Name())
		return fmt.Errorf("el archivo leído del almacén no coincide con su suma SHA-256 (%s, %d bytes; se esperaba %s, %d)", got, c.n, sum, size)
	}
	path := cachePath(sum)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		os.Remove(c.f.Name())
		return err
	}
	if err := os.Rename(c.f.Name(), path); err != nil {
		os.Remove(c.f.Name())
		return err
	}
	trimCache(path)
	return nil
}

// touchCached marks a cached file as used now (for eviction), at most once
// per cacheTouchEvery.
func touchCached(fh *os.File) {
	st, err := fh.Stat()
	if err != nil || time.Since(st.ModTime()) < cacheTouchEvery {
		return
	}
	now := time.Now()
	os.Chtimes(fh.Name(), now, now) // best effort: eviction order only
}

var trimming sync.Mutex

// trimCache removes the partial files of dead writers, then the files used
// least recently until the cache fits in CacheMaxBytes, never the file just
// added (keep). A download already reading an evicted file goes on: the
// open descriptor keeps the data until it is closed.
func trimCache(keep string) {
	trimming.Lock()
	defer trimming.Unlock()
	type entry struct {
		path string
		size int64
		used time.Time
	}
	var files []entry
	var total int64
	filepath.WalkDir(CacheDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".parcial-") {
			if time.Since(info.ModTime()) > staleCachePartial {
				os.Remove(path)
			}
			return nil
		}
		total += info.Size()
		if path != keep {
			files = append(files, entry{path, info.Size(), info.ModTime()})
		}
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].used.Before(files[j].used) })
	for _, f := range files {
		if total <= CacheMaxBytes {
			return
		}
		if os.Remove(f.path) == nil {
			total -= f.size
		}
	}
}
