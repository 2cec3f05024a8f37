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
type Cache struct {
	mu      sync.Mutex
	epoch   uint64 // global epoch the entries belong to
	gen     uint64 // local generation, bumped by Invalidate
	entries map[string]any
	order   []string // insertion order, for eviction
	max     int
	calls   map[string]*call

	hits, misses atomic.Uint64
}

type call struct {
	done chan struct{}
	val  any
	err  error
}

// NewCache makes a cache holding at most max entries (the oldest go first).
func NewCache(max int) *Cache {
	if max <= 0 {
		max = 4096
	}
	return &Cache{entries: map[string]any{}, calls: map[string]*call{}, max: max, epoch: epoch.Load()}
}

// Invalidate empties this cache.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	c.resetLocked()
	c.mu.Unlock()
}

func (c *Cache) resetLocked() {
	c.gen++
	c.entries = map[string]any{}
	c.order = nil
	c.calls = map[string]*call{}
}

// Stats returns the number of hits and misses since the cache was made.
func (c *Cache) Stats() (hits, misses uint64) { return c.hits.Load(), c.misses.Load() }

// Len is the number of entries held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Get returns the value for key, computing it with build on a miss. A value
// computed while the cache was invalidated is returned to its callers but
// not kept. Errors are not cached.
func (c *Cache) Get(ctx context.Context, key string, build func(ctx context.Context) (any, error)) (any, error) {
	c.mu.Lock()
	if e := epoch.Load(); e != c.epoch {
		c.epoch = e
		c.resetLocked()
	}
	if v, ok := c.entries[key]; ok {
		c.mu.Unlock()
		c.hits.Add(1)
		return v, nil
	}
	c.misses.Add(1)
	if cl, ok := c.calls[key]; ok {
		c.mu.Unlock()
		select {
		case <-cl.done:
			return cl.val, cl.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	cl := &call{done: make(chan struct{})}
	c.calls[key] = cl
	gen := c.gen
	c.mu.Unlock()

	// The computation outlives a client that goes away: others may be
	// waiting for it, and its result is worth keeping.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	cl.val, cl.err = build(bctx)
	cancel()

	c.mu.Lock()
	if c.calls[key] == cl {
		delete(c.calls, key)
	}
	if cl.err == nil && gen == c.gen && epoch.Load() == c.epoch {
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
		c.entries[key] = cl.val
	}
	c.mu.Unlock()
	close(cl.done)
	return cl.val, cl.err
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
