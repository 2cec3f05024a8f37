package dashboards

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// TestCacheServesLastGoodValuesWhileTheWarehouseIsAway checks the cache's
// side of an outage: a failed computation for want of the warehouse
// returns the last good value (kept across invalidations), the caller's
// tracker learns that it is stale and of when, a value built from stale
// parts never becomes a fresh entry, and while the warehouse is known to
// be down nothing is even tried.
func TestCacheServesLastGoodValuesWhileTheWarehouseIsAway(t *testing.T) {
	c := NewCache(16)
	down := false
	c.SetDown(func() bool { return down })
	away := fmt.Errorf("dash_entidades: %w", warehouse.ErrUnavailable)
	value := func(v string) func(context.Context) (any, error) {
		return func(context.Context) (any, error) { return v, nil }
	}
	failing := func(context.Context) (any, error) { return nil, away }
	get := func(key string, build func(context.Context) (any, error)) (any, time.Time, bool, error) {
		ctx, tr := trackStale(context.Background())
		v, err := c.Get(ctx, key, build)
		at, isStale := tr.result()
		return v, at, isStale, err
	}

	before := time.Now()
	if v, at, isStale, err := get("a", value("A1")); v != "A1" || isStale || err != nil || at.Before(before) {
		t.Fatalf("fresh: %v %v %v %v", v, at, isStale, err)
	}
	readAt := c.entries["a"].at
	c.Invalidate() // a commit was seen; then the warehouse goes away
	v, at, isStale, err := get("a", failing)
	if v != "A1" || !isStale || err != nil || !at.Equal(readAt) {
		t.Fatalf("stale: %v %v %v %v", v, at, isStale, err)
	}
	// A page built over a stale part is stale, and not kept as fresh.
	page := func(ctx context.Context) (any, error) {
		a, err := c.Get(ctx, "a", failing)
		if err != nil {
			return nil, err
		}
		return "página(" + a.(string) + ")", nil
	}
	if v, at, isStale, err := get("p", page); v != "página(A1)" || !isStale || err != nil || !at.Equal(readAt) {
		t.Fatalf("page over a stale part: %v %v %v %v", v, at, isStale, err)
	}
	if _, ok := c.entries["p"]; ok {
		t.Fatal("a page built from stale data became a fresh entry")
	}
	// Nothing good to fall back on: the error.
	if _, _, _, err := get("nunca", failing); !errors.Is(err, warehouse.ErrUnavailable) {
		t.Fatalf("without a last good value: %v", err)
	}
	// Known down: the last good value at once, without computing.
	down = true
	if v, _, isStale, err := get("p", func(context.Context) (any, error) { t.Fatal("computed while down"); return nil, nil }); v != "página(A1)" || !isStale || err != nil {
		t.Fatalf("while down: %v %v %v", v, isStale, err)
	}
	if c.Stale() == 0 {
		t.Error("stale values not counted")
	}
	// Back: fresh values, fresh page.
	down = false
	fresh := func(ctx context.Context) (any, error) {
		a, err := c.Get(ctx, "a", value("A2"))
		if err != nil {
			return nil, err
		}
		return "página(" + a.(string) + ")", nil
	}
	if v, _, isStale, err := get("p", fresh); v != "página(A2)" || isStale || err != nil {
		t.Fatalf("after recovery: %v %v %v", v, isStale, err)
	}
	// A confirmation that nothing changed moves the entries' time forward.
	confirmed := time.Now().Add(time.Minute)
	c.Confirm(confirmed)
	if _, at, _, _ := get("p", fresh); !at.Equal(confirmed) {
		t.Errorf("hit after Confirm: at %v, want %v", at, confirmed)
	}
}
