package dashboards

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/observatorio-civico/observatorio/stale"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// epoch is bumped by Invalidate; every Cache compares it on each lookup, so
// one call from the ETL empties the chart caches of the whole process.
var epoch atomic.Uint64

// Invalidate empties every dashboard cache of the process. The ETL calls it
// after a run commits (rows visible in the warehouse), so the next request
// recomputes the charts from the new data. It is cheap and safe to call
// from any goroutine, as often as needed.
//
// Runs committed by another process (a separate `observatory` ETL run, a
// second server) are noticed too: each Site polls the etl_runs table (see
// SiteOptions.StampEvery) and invalidates itself when a commit appears.
func Invalidate() { epoch.Add(1) }

// Cache keeps computed values (query results, chart options, pages) until
// the data changes. Concurrent misses on one key run the computation once.
//
// It also keeps the last good value of every key across invalidations
// (package stale): when a computation fails because the warehouse does not
// answer, that value is returned instead, and the caller learns through
// its context (trackStale) that what it got is stale and of when. Each
// value carries the time its data were read from the warehouse; a value
// built from stale parts is never kept as fresh.
type Cache struct {
	mu      sync.Mutex
	epoch   uint64 // global epoch the entries belong to
	gen     uint64 // local generation, bumped by Invalidate
	entries map[string]entry
	order   []string // insertion order, for eviction
	max     int
	calls   map[string]*call
	// confirmed is when the current generation's data were last
	// confirmed current (Confirm): nothing committed since.
	confirmed time.Time
	last      *stale.Store
	// down reports whether the warehouse is known not to answer: a miss
	// with a last good value then does not even try (see SetDown).
	down func() bool

	hits, misses, stales atomic.Uint64
}

type entry struct {
	val any
	at  time.Time
}

type call struct {
	done  chan struct{}
	val   any
	err   error
	at    time.Time
	stale bool
}

// NewCache makes a cache holding at most max entries (the oldest go first).
func NewCache(max int) *Cache {
	if max <= 0 {
		max = 4096
	}
	return &Cache{entries: map[string]entry{}, calls: map[string]*call{}, max: max, epoch: epoch.Load(), last: stale.NewStore(max)}
}

// SetDown tells the cache how to know that the warehouse does not answer.
func (c *Cache) SetDown(down func() bool) {
	c.mu.Lock()
	c.down = down
	c.mu.Unlock()
}

// Invalidate empties this cache (the last good values stay, for when the
// warehouse does not answer).
func (c *Cache) Invalidate() {
	c.mu.Lock()
	c.resetLocked()
	c.mu.Unlock()
}

func (c *Cache) resetLocked() {
	c.gen++
	c.entries = map[string]entry{}
	c.order = nil
	c.calls = map[string]*call{}
	c.confirmed = time.Time{}
}

// Confirm records that the data behind the current entries were still
// current at t (nothing was committed since they were read).
func (c *Cache) Confirm(t time.Time) {
	c.mu.Lock()
	if t.After(c.confirmed) {
		c.confirmed = t
	}
	c.mu.Unlock()
}

// Stats returns the number of hits and misses since the cache was made.
func (c *Cache) Stats() (hits, misses uint64) { return c.hits.Load(), c.misses.Load() }

// Stale is the number of stale values returned for want of the warehouse.
func (c *Cache) Stale() uint64 { return c.stales.Load() }

// Len is the number of entries held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Get returns the value for key, computing it with build on a miss. A value
// computed while the cache was invalidated is returned to its callers but
// not kept. Errors are not cached; when an error says that the warehouse is
// unavailable and key has a last good value, that value is returned
// instead, and noted as stale in ctx's tracker.
func (c *Cache) Get(ctx context.Context, key string, build func(ctx context.Context) (any, error)) (any, error) {
	c.mu.Lock()
	if e := epoch.Load(); e != c.epoch {
		c.epoch = e
		c.resetLocked()
	}
	if e, ok := c.entries[key]; ok {
		at := e.at
		if c.confirmed.After(at) {
			at = c.confirmed
		}
		c.mu.Unlock()
		c.hits.Add(1)
		noteStale(ctx, at, false)
		return e.val, nil
	}
	c.misses.Add(1)
	if cl, ok := c.calls[key]; ok {
		c.mu.Unlock()
		select {
		case <-cl.done:
			if cl.err == nil {
				noteStale(ctx, cl.at, cl.stale)
			}
			return cl.val, cl.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// While the warehouse is known to be down, a key with a last good
	// value gets it at once: no computation that can only fail.
	if c.down != nil && c.down() {
		if it, ok := c.last.Get(key); ok {
			c.mu.Unlock()
			c.stales.Add(1)
			noteStale(ctx, it.At, true)
			return it.Val, nil
		}
	}
	cl := &call{done: make(chan struct{})}
	c.calls[key] = cl
	gen := c.gen
	c.mu.Unlock()

	// The computation outlives a client that goes away: others may be
	// waiting for it, and its result is worth keeping.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	bctx, tr := trackStale(bctx)
	cl.val, cl.err = build(bctx)
	cancel()
	cl.at, cl.stale = tr.result()
	if cl.err != nil && warehouse.Unavailable(cl.err) {
		if it, ok := c.last.Get(key); ok {
			stale.LogFallback(key, cl.err)
			cl.val, cl.err, cl.at, cl.stale = it.Val, nil, it.At, true
			c.stales.Add(1)
		}
	}

	c.mu.Lock()
	if c.calls[key] == cl {
		delete(c.calls, key)
	}
	switch {
	case cl.err != nil:
	case cl.stale:
		// Built from stale parts (or stale itself): never a fresh entry,
		// but the best there is while the warehouse is away.
		if _, ok := c.last.Get(key); !ok {
			c.last.Put(key, cl.val, cl.at)
		}
	default:
		c.last.Put(key, cl.val, cl.at)
		if gen == c.gen && epoch.Load() == c.epoch {
			if _, ok := c.entries[key]; !ok {
				if len(c.order) >= c.max {
					evict := c.order[:len(c.order)/4+1]
					for _, k := range evict {
						delete(c.entries, k)
					}
					c.order = append([]string(nil), c.order[len(evict):]...)
				}
				c.order = append(c.order, key)
			}
			c.entries[key] = entry{val: cl.val, at: cl.at}
		}
	}
	c.mu.Unlock()
	close(cl.done)
	if cl.err == nil {
		noteStale(ctx, cl.at, cl.stale)
	}
	return cl.val, cl.err
}

// staleTracker collects, for one computation, the time of the oldest data
// it used and whether any of it was stale.
type staleTracker struct {
	mu     sync.Mutex
	oldest time.Time
	stale  bool
}

type trackerKey struct{}

// trackStale returns a context whose cache lookups report to a new tracker.
func trackStale(ctx context.Context) (context.Context, *staleTracker) {
	t := &staleTracker{}
	return context.WithValue(ctx, trackerKey{}, t), t
}

// noteStale tells ctx's tracker (if any) that a value read at at was used.
func noteStale(ctx context.Context, at time.Time, isStale bool) {
	t, _ := ctx.Value(trackerKey{}).(*staleTracker)
	if t == nil {
		return
	}
	t.mu.Lock()
	if t.oldest.IsZero() || at.Before(t.oldest) {
		t.oldest = at
	}
	t.stale = t.stale || isStale
	t.mu.Unlock()
}

// used reports whether the computation used any cached value.
func (t *staleTracker) used() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.oldest.IsZero()
}

// result is the time of the data the computation used (now when it used
// no cached value: it read the warehouse itself) and whether any was stale.
func (t *staleTracker) result() (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.oldest.IsZero() {
		return time.Now(), t.stale
	}
	return t.oldest, t.stale
}

// Body is an HTTP response body ready to send: its bytes, a gzip copy when
// that saves space, and a strong ETag.
type Body struct {
	Type string
	Data []byte
	Gzip []byte // nil when not worth it
	ETag string
}

// NewBody computes the ETag and the gzip copy of data.
func NewBody(contentType string, data []byte) *Body {
	sum := sha256.Sum256(data)
	b := &Body{Type: contentType, Data: data, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	if len(data) > 1024 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(data)
		zw.Close()
		if buf.Len() < len(data)*9/10 {
			b.Gzip = buf.Bytes()
		}
	}
	return b
}
