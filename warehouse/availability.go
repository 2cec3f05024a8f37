package warehouse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Unavailable reports whether err says that the warehouse could not answer
// now, as opposed to a mistake in the request: it could not be reached
// (connection refused, lost in the middle of an answer, a timeout), or it
// refused for a passing reason (too busy, out of memory, too many parts).
// The same request may succeed later: readers then serve what they last
// read, writers retry. A caller that gave up (context.Canceled) is not the
// warehouse's fault.
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if unreachable(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, clickhouse.ErrAcquireConnTimeout) {
		return true
	}
	var qe *QueryError
	if errors.As(err, &qe) {
		return passingCode(qe.Message)
	}
	return false
}

// passingCodes are ClickHouse's errors that go away by themselves:
// TIMEOUT_EXCEEDED, TOO_SLOW, TOO_MANY_SIMULTANEOUS_QUERIES,
// NO_FREE_CONNECTION, SOCKET_TIMEOUT, NETWORK_ERROR, MEMORY_LIMIT_EXCEEDED,
// TOO_MANY_PARTS, ALL_CONNECTION_TRIES_FAILED (a shard of a cluster).
var passingCodes = []string{"159", "160", "202", "203", "209", "210", "241", "252", "279"}

func passingCode(msg string) bool {
	for _, c := range passingCodes {
		if strings.Contains(msg, "Code: "+c+".") {
			return true
		}
	}
	return false
}

// unreachable: the warehouse could not be reached or the connection broke
// (what a stopped, killed or partitioned server looks like).
func unreachable(err error) bool {
	var ne net.Error
	return errors.Is(err, ErrUnavailable) || errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// ErrUnavailable is what a watched engine returns, without asking the
// warehouse, while the warehouse is known not to answer (see Watch).
var ErrUnavailable = errors.New("el almacén de datos no responde")

type unavailableError struct {
	since time.Time
	cause error
}

func (e *unavailableError) Error() string {
	return fmt.Sprintf("%v desde hace %v: %v", ErrUnavailable, time.Since(e.since).Round(time.Second), e.cause)
}

func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// DefaultRetryEvery is how often a watched engine asks a warehouse that
// does not answer whether it is back.
const DefaultRetryEvery = time.Second

// Watched is an Engine that keeps track of whether the warehouse answers,
// for the whole process: the pages mark what they serve from memory as
// stale while it does not, and callers are told at once instead of each
// waiting on a dead connection (a circuit breaker).
//
// A call that cannot reach the warehouse makes the engine suspect it and
// ping it; a failed ping (or a failed Ping by anyone, such as /readyz) marks
// it down. While down, every call except Ping fails at once with
// ErrUnavailable, except that at most once per RetryEvery a call pings
// first (in its own time; a look at Down starts a ping in the background)
// to ask whether it is back: recovery needs no timer and no restart, only
// traffic (or a readiness probe). The first call that gets
// an answer marks it up again. Errors of the request itself (a syntax
// error) prove that the warehouse answers.
type Watched struct {
	Engine
	// RetryEvery bounds the pings while the warehouse is down (default
	// DefaultRetryEvery).
	RetryEvery time.Duration

	mu        sync.Mutex
	down      bool
	since     time.Time
	cause     error
	probing   bool
	lastProbe time.Time

	outages, refused atomic.Uint64
	lastOutage       atomic.Int64 // nanoseconds the last outage lasted
}

// Watch wraps e (an engine already watched is returned as it is).
func Watch(e Engine) *Watched {
	if w, ok := e.(*Watched); ok {
		return w
	}
	return &Watched{Engine: e, RetryEvery: DefaultRetryEvery}
}

// Wrapper is an engine layered over another (a gate, a counter); Down
// looks through it for the watched engine underneath.
type Wrapper interface {
	Unwrap() Engine
}

// beneath finds, looking through wrappers (a watched engine, a gate), the
// first engine that is a T: a backend's optional ability (loading Native
// files, streaming inserts).
func beneath[T any](e Engine) (T, bool) {
	for e != nil {
		if x, ok := e.(T); ok {
			return x, true
		}
		w, ok := e.(Wrapper)
		if !ok {
			break
		}
		e = w.Unwrap()
	}
	var zero T
	return zero, false
}

// Down reports whether the warehouse is known not to answer, and since
// when. Engines that are not watched, directly or under wrappers, are
// never down.
func Down(e Engine) (since time.Time, down bool) {
	for e != nil {
		switch x := e.(type) {
		case *Watched:
			return x.Down()
		case Wrapper:
			e = x.Unwrap()
		default:
			return time.Time{}, false
		}
	}
	return time.Time{}, false
}

// Down reports whether the warehouse is known not to answer, and since
// when; asking while it is down may start a ping (at most one per
// RetryEvery), so that a process that only reads its caches notices the
// warehouse's return too.
func (w *Watched) Down() (since time.Time, down bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.down {
		w.maybeProbeLocked()
	}
	return w.since, w.down
}

// Outages is the number of times the warehouse went down; Refused the
// number of calls answered with ErrUnavailable without asking it;
// LastOutage how long the last finished outage lasted.
func (w *Watched) Outages() uint64 { return w.outages.Load() }

// Refused: see Outages.
func (w *Watched) Refused() uint64 { return w.refused.Load() }

// LastOutage: see Outages.
func (w *Watched) LastOutage() time.Duration { return time.Duration(w.lastOutage.Load()) }

// Unwrap is the watched engine.
func (w *Watched) Unwrap() Engine { return w.Engine }

func (w *Watched) retryEvery() time.Duration {
	if w.RetryEvery > 0 {
		return w.RetryEvery
	}
	return DefaultRetryEvery
}

// gate refuses calls while the warehouse is down. When a ping is due,
// the call pings first and goes ahead if the warehouse answers: a call
// that comes long after the warehouse returned, in a process nobody else
// used meanwhile, is not refused.
func (w *Watched) gate() error {
	w.mu.Lock()
	if !w.down {
		w.mu.Unlock()
		return nil
	}
	if w.probing || time.Since(w.lastProbe) < w.retryEvery() {
		err := &unavailableError{since: w.since, cause: w.cause}
		w.mu.Unlock()
		w.refused.Add(1)
		return err
	}
	w.probing, w.lastProbe = true, time.Now()
	w.mu.Unlock()
	w.probe()
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.down {
		return nil
	}
	w.refused.Add(1)
	return &unavailableError{since: w.since, cause: w.cause}
}

func (w *Watched) maybeProbeLocked() {
	if w.probing || time.Since(w.lastProbe) < w.retryEvery() {
		return
	}
	w.probing, w.lastProbe = true, time.Now()
	go w.probe()
}

// probe pings the warehouse: the answer decides whether it is up.
func (w *Watched) probe() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	err := w.Engine.Ping(ctx)
	cancel()
	w.mu.Lock()
	w.probing = false
	w.mu.Unlock()
	w.observePing(err)
}

// observe records what a call says about the warehouse.
func (w *Watched) observe(err error) {
	switch {
	case err == nil:
		w.up()
	case unreachable(err):
		// Suspect, not yet down: one broken connection may be just that.
		w.mu.Lock()
		if !w.down && !w.probing {
			w.probing, w.lastProbe = true, time.Now()
			go w.probe()
		}
		w.mu.Unlock()
	default:
		var qe *QueryError
		if errors.As(err, &qe) && !passingCode(qe.Message) {
			w.up() // it answered, with an error about the request
		}
	}
}

func (w *Watched) observePing(err error) {
	if err == nil {
		w.up()
		return
	}
	if !unreachable(err) && !errors.Is(err, context.DeadlineExceeded) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.down {
		w.cause = err
		return
	}
	w.down, w.since, w.cause = true, time.Now(), err
	w.outages.Add(1)
	slog.Error("el almacén de datos no responde: las páginas sirven lo que tienen en memoria, marcado como en caché", "motor", w.Engine.Kind(), "error", err)
}

func (w *Watched) up() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.down {
		return
	}
	d := time.Since(w.since)
	w.down, w.cause = false, nil
	w.lastOutage.Store(int64(d))
	slog.Info("el almacén de datos responde de nuevo", "motor", w.Engine.Kind(), "sin_respuesta", d.Round(time.Millisecond))
}

// Ping always asks the warehouse (it is how recovery is noticed).
func (w *Watched) Ping(ctx context.Context) error {
	err := w.Engine.Ping(ctx)
	if !errors.Is(err, context.Canceled) { // a caller that gave up says nothing
		w.observePing(err)
	}
	return err
}

// Exec implements Engine.
func (w *Watched) Exec(ctx context.Context, sql string, params ...Param) error {
	if err := w.gate(); err != nil {
		return err
	}
	err := w.Engine.Exec(ctx, sql, params...)
	w.observe(err)
	return err
}

// Query implements Engine.
func (w *Watched) Query(ctx context.Context, sql string, params ...Param) (*Result, error) {
	if err := w.gate(); err != nil {
		return nil, err
	}
	res, err := w.Engine.Query(ctx, sql, params...)
	w.observe(err)
	return res, err
}

// Stream implements Engine. A failure to write to out (a download whose
// client went away) says nothing about the warehouse.
func (w *Watched) Stream(ctx context.Context, out io.Writer, format, sql string, params ...Param) error {
	if err := w.gate(); err != nil {
		return err
	}
	rw := &recordingWriter{w: out}
	err := w.Engine.Stream(ctx, rw, format, sql, params...)
	if rw.err == nil {
		w.observe(err)
	}
	return err
}

// Insert implements Engine.
func (w *Watched) Insert(ctx context.Context, table string, columns []string, rows [][]any) error {
	if err := w.gate(); err != nil {
		return err
	}
	err := w.Engine.Insert(ctx, table, columns, rows)
	w.observe(err)
	return err
}

type recordingWriter struct {
	w   io.Writer
	err error
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil {
		r.err = err
	}
	return n, err
}
