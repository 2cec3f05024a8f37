package stale

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/warehouse"
)

func TestFetchServesTheLastGoodValueOnlyWhenTheWarehouseIsAway(t *testing.T) {
	s := NewStore(8)
	ctx := context.Background()
	ok := func(v string) func(context.Context) (any, error) {
		return func(context.Context) (any, error) { return v, nil }
	}
	fail := func(err error) func(context.Context) (any, error) {
		return func(context.Context) (any, error) { return nil, err }
	}
	away := fmt.Errorf("consulta: %w", warehouse.ErrUnavailable)

	// No good value yet: the error goes through.
	if _, _, _, err := s.Fetch(ctx, "k", fail(away)); !errors.Is(err, warehouse.ErrUnavailable) {
		t.Fatalf("without a good value: %v", err)
	}
	before := time.Now()
	v, at, isStale, err := s.Fetch(ctx, "k", ok("uno"))
	if err != nil || v != "uno" || isStale || at.Before(before) {
		t.Fatalf("fresh: %v %v %v %v", v, at, isStale, err)
	}
	// The warehouse away: the last good value, when it was read, stale.
	v, at2, isStale, err := s.Fetch(ctx, "k", fail(away))
	if err != nil || v != "uno" || !isStale || !at2.Equal(at) {
		t.Fatalf("stale: %v %v %v %v", v, at2, isStale, err)
	}
	// A mistake is not hidden behind an old value.
	if _, _, _, err := s.Fetch(ctx, "k", fail(errors.New("plantilla rota"))); err == nil {
		t.Fatal("a non-availability error served the old value")
	}
	// Back: fresh again, and the new value is the good one.
	if v, _, isStale, _ := s.Fetch(ctx, "k", ok("dos")); v != "dos" || isStale {
		t.Fatalf("after recovery: %v %v", v, isStale)
	}
	if v, _, _, _ := s.Fetch(ctx, "k", fail(away)); v != "dos" {
		t.Fatalf("last good after recovery: %v", v)
	}
	// Bounded: the oldest keys go.
	for i := 0; i < 20; i++ {
		s.Put(fmt.Sprint("x", i), i, time.Now())
	}
	if s.Len() > 8 {
		t.Errorf("%d keys in a store of 8", s.Len())
	}
	if _, ok := s.Get("x19"); !ok {
		t.Error("the newest key was evicted")
	}
}

func TestMarks(t *testing.T) {
	at := time.Date(2026, 11, 21, 20, 5, 0, 0, time.UTC) // 3:05 p. m. in Colombia
	page := []byte("<main>\n" + string(Slot) + "\n<h1>Recaudo</h1></main>")
	marked := string(MarkPage(page, at))
	want := "Datos en caché: el almacén de datos no responde; cifras al 21 de noviembre de 2026, 3:05 p. m. (hora de Colombia)"
	if !strings.Contains(marked, want) || !strings.Contains(marked, `role="status"`) || strings.Contains(marked, string(Slot)) {
		t.Errorf("marked page:\n%s", marked)
	}
	if !strings.Contains(string(page), string(Slot)) {
		t.Error("MarkPage changed its argument")
	}
	h := http.Header{}
	h.Set("ETag", `"abc"`)
	h.Set("Cache-Control", "public, max-age=60")
	MarkHeaders(h, at)
	if h.Get(DataHeader) != Cached || h.Get(DataAtHeader) != "2026-11-21T20:05:00Z" || h.Get("Warning") != `110 - "Response is Stale"` ||
		h.Get("Cache-Control") != "no-store" || h.Get("ETag") != "" {
		t.Errorf("stale headers: %v", h)
	}
	h = http.Header{}
	UnavailableHeaders(h)
	if h.Get("Retry-After") != RetryAfter || h.Get("Cache-Control") != "no-store" || h.Get(DataHeader) != NoWarehouse {
		t.Errorf("503 headers: %v", h)
	}
}
