//go:build cgo

// Package chdb is the observatory's own binding over the C API of chDB
// (libchdb.so, ClickHouse as a shared library). The library is loaded at run
// time with dlopen so that `go build ./...` works on machines that do not
// have it, and so that a missing library is a clear error instead of a
// loader failure before main runs.
//
// Only the handful of functions of chdb.h that the observatory needs are
// declared here: connect, query (whole and streamed), result accessors,
// cancel, close, and the signal-handler switch.
package chdb

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <signal.h>
#include <string.h>
#include <stdlib.h>
#include <stdint.h>
#include <stddef.h>

// Opaque handles, laid out as in chdb.h (chDB 26.x).
typedef struct chdb_result_ { void * internal_data; } chdb_result;
typedef struct chdb_connection_ { void * internal_data; } * chdb_connection;

typedef chdb_connection * (*fn_connect)(int, char **);
typedef void (*fn_close_conn)(chdb_connection *);
typedef chdb_result * (*fn_query_n)(chdb_connection, const char *, size_t, const char *, size_t);
typedef chdb_result * (*fn_stream_fetch)(chdb_connection, chdb_result *);
typedef void (*fn_stream_cancel)(chdb_connection, chdb_result *);
typedef void (*fn_destroy)(chdb_result *);
typedef char * (*fn_buffer)(chdb_result *);
typedef size_t (*fn_length)(chdb_result *);
typedef uint64_t (*fn_u64)(chdb_result *);
typedef double (*fn_elapsed)(chdb_result *);
typedef const char * (*fn_error)(chdb_result *);
typedef void (*fn_set_signals)(int);

static void * lib;
static fn_connect p_connect;
static fn_close_conn p_close_conn;
static fn_query_n p_query_n;
static fn_query_n p_stream_query_n;
static fn_stream_fetch p_stream_fetch;
static fn_stream_cancel p_stream_cancel;
static fn_destroy p_destroy;
static fn_buffer p_buffer;
static fn_length p_length;
static fn_u64 p_rows_read;
static fn_u64 p_bytes_read;
static fn_u64 p_rows_written;
static fn_elapsed p_elapsed;
static fn_error p_error;
static fn_set_signals p_set_signals;

// Signal dispositions as Go's runtime set them, taken before the library is
// loaded. Loading chDB and booting its engine reset several of them (SIGSEGV,
// SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS) to SIG_DFL even with its
// handlers switched off, after which a nil dereference in Go kills the
// process instead of panicking. obs_restore_signals puts Go's back, and adds
// SA_ONSTACK to handlers chDB installs for signals Go does not use, because
// Go requires it of every foreign handler (os/signal, "Go programs that use
// cgo").
#define OBS_NSIG 65
static struct sigaction saved_sigs[OBS_NSIG];
static int saved;

static void obs_save_signals(void) {
	for (int s = 1; s < OBS_NSIG; s++) sigaction(s, NULL, &saved_sigs[s]);
	saved = 1;
}

static int obs_restore_signals(void) {
	int fixed = 0;
	if (!saved) return 0;
	for (int s = 1; s < OBS_NSIG; s++) {
		if (s == SIGKILL || s == SIGSTOP) continue;
		struct sigaction now;
		if (sigaction(s, NULL, &now) != 0) continue;
		int go_had = saved_sigs[s].sa_handler != SIG_DFL && saved_sigs[s].sa_handler != SIG_IGN;
		if (go_had) {
			if (now.sa_sigaction != saved_sigs[s].sa_sigaction || now.sa_flags != saved_sigs[s].sa_flags) {
				sigaction(s, &saved_sigs[s], NULL);
				fixed++;
			}
		} else if (now.sa_handler != SIG_DFL && now.sa_handler != SIG_IGN && !(now.sa_flags & SA_ONSTACK)) {
			now.sa_flags |= SA_ONSTACK;
			sigaction(s, &now, NULL);
			fixed++;
		}
	}
	return fixed;
}

// obs_load opens the library and resolves every symbol. It returns NULL on
// success or a message naming what failed.
static const char * obs_load(const char * path) {
	if (lib != NULL) return NULL;
	obs_save_signals();
	void * h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) return dlerror();
#define SYM(var, type, name) var = (type) dlsym(h, name); if (var == NULL) { return "missing symbol " name; }
	SYM(p_connect, fn_connect, "chdb_connect")
	SYM(p_close_conn, fn_close_conn, "chdb_close_conn")
	SYM(p_query_n, fn_query_n, "chdb_query_n")
	SYM(p_stream_query_n, fn_query_n, "chdb_stream_query_n")
	SYM(p_stream_fetch, fn_stream_fetch, "chdb_stream_fetch_result")
	SYM(p_stream_cancel, fn_stream_cancel, "chdb_stream_cancel_query")
	SYM(p_destroy, fn_destroy, "chdb_destroy_query_result")
	SYM(p_buffer, fn_buffer, "chdb_result_buffer")
	SYM(p_length, fn_length, "chdb_result_length")
	SYM(p_rows_read, fn_u64, "chdb_result_rows_read")
	SYM(p_bytes_read, fn_u64, "chdb_result_bytes_read")
	SYM(p_rows_written, fn_u64, "chdb_result_rows_written")
	SYM(p_elapsed, fn_elapsed, "chdb_result_elapsed")
	SYM(p_error, fn_error, "chdb_result_error")
	SYM(p_set_signals, fn_set_signals, "chdb_set_signal_handlers_enabled")
#undef SYM
	// chDB installs process-wide handlers for SIGSEGV, SIGINT and others by
	// default. Go's runtime owns those signals (preemption, panics on nil
	// dereference, graceful shutdown), so they are switched off before the
	// first connection boots the engine.
	p_set_signals(0);
	obs_restore_signals();
	lib = h;
	return NULL;
}

static chdb_connection * obs_connect(int argc, char ** argv) {
	chdb_connection * c = p_connect(argc, argv);
	obs_restore_signals();
	return c;
}
static void obs_close(chdb_connection * c) { p_close_conn(c); }
static chdb_result * obs_query(chdb_connection c, const char * q, size_t ql, const char * f, size_t fl) { return p_query_n(c, q, ql, f, fl); }
static chdb_result * obs_stream(chdb_connection c, const char * q, size_t ql, const char * f, size_t fl) { return p_stream_query_n(c, q, ql, f, fl); }
static chdb_result * obs_fetch(chdb_connection c, chdb_result * r) { return p_stream_fetch(c, r); }
static void obs_cancel(chdb_connection c, chdb_result * r) { p_stream_cancel(c, r); }
static void obs_destroy(chdb_result * r) { p_destroy(r); }
static char * obs_buffer(chdb_result * r) { return p_buffer(r); }
static size_t obs_length(chdb_result * r) { return p_length(r); }
static uint64_t obs_rows_read(chdb_result * r) { return p_rows_read(r); }
static uint64_t obs_bytes_read(chdb_result * r) { return p_bytes_read(r); }
static uint64_t obs_rows_written(chdb_result * r) { return p_rows_written(r); }
static double obs_elapsed(chdb_result * r) { return p_elapsed(r); }
static const char * obs_error(chdb_result * r) { return p_error(r); }
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

var (
	loadMu   sync.Mutex
	loadedAt string
)

// Load opens libchdb.so at path. Loading is once per process: a second call
// with the same path is a no-op, with another path an error.
func Load(path string) error {
	loadMu.Lock()
	defer loadMu.Unlock()
	if loadedAt != "" {
		if loadedAt != path {
			return fmt.Errorf("chdb: ya se cargó %s; no se puede cargar además %s", loadedAt, path)
		}
		return nil
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	if msg := C.obs_load(cpath); msg != nil {
		return fmt.Errorf("chdb: no se pudo cargar %s: %s", path, C.GoString(msg))
	}
	loadedAt = path
	return nil
}

// Loaded reports whether a library has been loaded in this process.
func Loaded() bool {
	loadMu.Lock()
	defer loadMu.Unlock()
	return loadedAt != ""
}

// Conn is one chDB connection. A connection runs one statement at a time;
// callers that share one must serialize (the warehouse pool does).
type Conn struct {
	c *C.chdb_connection
}

// Connect opens a connection with command-line style arguments, for example
// "--path=/var/lib/observatorio". The first connection of a process boots the
// engine on that path; all later ones must use the same path.
func Connect(args ...string) (*Conn, error) {
	if !Loaded() {
		return nil, errors.New("chdb: la biblioteca no está cargada")
	}
	argv := make([]*C.char, 0, len(args)+1)
	argv = append(argv, C.CString("observatorio"))
	for _, a := range args {
		argv = append(argv, C.CString(a))
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	// argv is Go memory holding only C pointers, which cgo allows passing.
	c := C.obs_connect(C.int(len(argv)), (**C.char)(unsafe.Pointer(&argv[0])))
	if c == nil {
		return nil, fmt.Errorf("chdb: no se pudo abrir la conexión (%v)", args)
	}
	return &Conn{c: c}, nil
}

// Close closes the connection.
func (c *Conn) Close() {
	if c.c != nil {
		C.obs_close(c.c)
		c.c = nil
	}
}

// Stats are the figures chDB reports for a statement.
type Stats struct {
	RowsRead    uint64
	BytesRead   uint64
	RowsWritten uint64
	ElapsedSecs float64
}

// Error is a statement error, carrying ClickHouse's own message.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }

// Query runs one statement and returns its whole output in the given format.
func (c *Conn) Query(query, format string) ([]byte, Stats, error) {
	r, err := c.run(query, format, false)
	if err != nil {
		return nil, Stats{}, err
	}
	defer C.obs_destroy(r)
	st := stats(r)
	n := C.obs_length(r)
	if n == 0 {
		return nil, st, nil
	}
	return C.GoBytes(unsafe.Pointer(C.obs_buffer(r)), C.int(n)), st, nil
}

func (c *Conn) run(query, format string, stream bool) (*C.chdb_result, error) {
	if c.c == nil {
		return nil, errors.New("chdb: conexión cerrada")
	}
	q := C.CString(query)
	defer C.free(unsafe.Pointer(q))
	f := C.CString(format)
	defer C.free(unsafe.Pointer(f))
	var r *C.chdb_result
	if stream {
		r = C.obs_stream(*c.c, q, C.size_t(len(query)), f, C.size_t(len(format)))
	} else {
		r = C.obs_query(*c.c, q, C.size_t(len(query)), f, C.size_t(len(format)))
	}
	if r == nil {
		return nil, errors.New("chdb: el motor no devolvió resultado")
	}
	if e := C.obs_error(r); e != nil {
		msg := C.GoString(e)
		C.obs_destroy(r)
		return nil, &Error{Message: msg}
	}
	return r, nil
}

func stats(r *C.chdb_result) Stats {
	return Stats{
		RowsRead:    uint64(C.obs_rows_read(r)),
		BytesRead:   uint64(C.obs_bytes_read(r)),
		RowsWritten: uint64(C.obs_rows_written(r)),
		ElapsedSecs: float64(C.obs_elapsed(r)),
	}
}

// Stream is a statement whose output arrives in chunks, so that a result of
// any size is read at constant memory.
type Stream struct {
	conn *Conn
	r    *C.chdb_result
	done bool
}

// StreamQuery starts a streamed statement. The connection runs nothing else
// until the stream is closed.
func (c *Conn) StreamQuery(query, format string) (*Stream, error) {
	r, err := c.run(query, format, true)
	if err != nil {
		return nil, err
	}
	return &Stream{conn: c, r: r}, nil
}

// Next returns the next chunk, or nil at the end. The chunk is copied into
// buf's storage when it fits, to keep allocation flat on long streams.
func (s *Stream) Next(buf []byte) ([]byte, error) {
	if s.done {
		return nil, nil
	}
	chunk := C.obs_fetch(*s.conn.c, s.r)
	if chunk == nil {
		s.done = true
		return nil, errors.New("chdb: el flujo no devolvió resultado")
	}
	defer C.obs_destroy(chunk)
	if e := C.obs_error(chunk); e != nil {
		s.done = true
		msg := C.GoString(e)
		// A statement with an empty result ends its stream when it starts;
		// chDB then answers the first fetch with this message instead of an
		// empty chunk.
		if msg == noActiveStream {
			return nil, nil
		}
		return nil, &Error{Message: msg}
	}
	n := int(C.obs_length(chunk))
	if n == 0 {
		s.done = true
		return nil, nil
	}
	src := unsafe.Slice((*byte)(unsafe.Pointer(C.obs_buffer(chunk))), n)
	return append(buf[:0], src...), nil
}

const noActiveStream = "No active streaming query"

// Close ends the stream, cancelling it in the engine if it has not finished.
func (s *Stream) Close() {
	if s.r == nil {
		return
	}
	if !s.done {
		C.obs_cancel(*s.conn.c, s.r)
	}
	C.obs_destroy(s.r)
	s.r = nil
}
