// Package stale keeps the observatory's pages up while the warehouse does
// not answer: it keeps the last good value of what the pages read (Store),
// serves it when a read fails because the warehouse is unavailable, and
// says so to the reader (a notice on the page, response headers) and to
// proxies (no-store, so nobody keeps the stale copy). What has no good
// value to fall back on gets a clean 503 with Retry-After, never a 500.
//
// The dashboards, the Gobierno en Línea pages and the open-data area all
// use it, so a stale answer looks and behaves the same everywhere.
package stale

import (
	"bytes"
	"context"
	"errors"
	"html"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/observatorio-civico/observatorio/formato"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// Item is a value and the time it was read from the warehouse.
type Item struct {
	Val any
	At  time.Time
}

// Store keeps the last good value of each key, at most max of them (the
// oldest keys go first). It is safe for concurrent use.
type Store struct {
	mu    sync.Mutex
	items map[string]Item
	order []string
	max   int
}

// NewStore makes a store of at most max keys (default 4096).
func NewStore(max int) *Store {
	if max <= 0 {
		max = 4096
	}
	return &Store{items: map[string]Item{}, max: max}
}

// Put keeps v as key's last good value, read at at.
func (s *Store) Put(key string, v any, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.items[key]; !ok {
		if len(s.order) >= s.max {
			evict := s.order[:len(s.order)/4+1]
			for _, k := range evict {
				delete(s.items, k)
			}
			s.order = append([]string(nil), s.order[len(evict):]...)
		}
		s.order = append(s.order, key)
	}
	s.items[key] = Item{Val: v, At: at}
}

// Get returns key's last good value.
func (s *Store) Get(key string) (Item, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[key]
	return it, ok
}

// Len is the number of keys held.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

// Fetch builds key's value; when that fails because the warehouse is
// unavailable and key has a last good value, it returns that value, the
// time it was read and stale = true instead of the error. A value built
// now is kept as the new last good one.
func (s *Store) Fetch(ctx context.Context, key string, build func(ctx context.Context) (any, error)) (v any, at time.Time, isStale bool, err error) {
	v, err = build(ctx)
	if err == nil {
		at = time.Now()
		s.Put(key, v, at)
		return v, at, false, nil
	}
	if warehouse.Unavailable(err) {
		if it, ok := s.Get(key); ok {
			logFallback(key, err)
			return it.Val, it.At, true, nil
		}
	}
	return nil, time.Time{}, false, err
}

// logFallback says why a stale value was served, unless the warehouse is
// known to be down (the watched engine said so once, not per request):
// a stale answer while the warehouse is up means it is overloaded.
func logFallback(key string, err error) {
	if errors.Is(err, warehouse.ErrUnavailable) {
		return
	}
	slog.Warn("se sirve la última copia buena: el almacén no respondió a tiempo", "clave", key, "error", err)
}

// LogFallback is logFallback for the callers that keep their own last
// good values (the dashboards' cache).
func LogFallback(key string, err error) { logFallback(key, err) }

// Slot marks, in a page template, where the stale notice goes: every page
// layout puts it at the top of its main content. It is an HTML comment, so
// a fresh page shows nothing.
const Slot template.HTML = "<!--aviso-datos-en-cache-->"

// Notice is the sentence that tells the reader the figures come from
// memory, and of when.
func Notice(at time.Time) string {
	return "Datos en caché: el almacén de datos no responde; cifras al " + formato.DateTime(at) +
		" (hora de Colombia). Vuelva a cargar la página en unos minutos para ver las cifras al día."
}

// MarkPage returns a copy of page with the notice in its Slot (page is not
// changed; it may be shared by other responses).
func MarkPage(page []byte, at time.Time) []byte {
	notice := `<p class="aviso aviso-cache" role="status">` + html.EscapeString(Notice(at)) + `</p>`
	return bytes.Replace(page, []byte(Slot), []byte(notice), 1)
}

// Header names and values of a stale response.
const (
	// DataHeader says where the data of a response come from:
	// "en-cache" when the warehouse did not answer.
	DataHeader = "X-Observatorio-Datos"
	// DataAtHeader is the time (RFC 3339, UTC) the figures were read.
	DataAtHeader = "X-Observatorio-Datos-Al"
	// Cached is DataHeader's value on stale responses.
	Cached = "en-cache"
	// NoWarehouse is DataHeader's value on a 503 for want of the
	// warehouse.
	NoWarehouse = "sin-almacen"
	// Warning is RFC 7234's stale warning (obsolete in RFC 9111, but what
	// caches and tools still show).
	Warning = `110 - "Response is Stale"`
)

// MarkHeaders marks a response as stale: it says so, says when its figures
// were read, and forbids any cache to keep it (the warehouse may be back
// in a second) or to revalidate it by a validator of the fresh response.
func MarkHeaders(h http.Header, at time.Time) {
	h.Set(DataHeader, Cached)
	h.Set(DataAtHeader, at.UTC().Format(time.RFC3339))
	h.Set("Warning", Warning)
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	h.Del("Last-Modified")
}

// RetryAfter is the Retry-After of a 503 for want of the warehouse, in
// seconds.
const RetryAfter = "30"

// UnavailableMessage is the body of a 503 for want of the warehouse.
const UnavailableMessage = "El almacén de datos del observatorio no responde en este momento y no hay una copia reciente de esta respuesta. Intente de nuevo en unos minutos."

// UnavailableHeaders are the headers of a 503 for want of the warehouse.
func UnavailableHeaders(h http.Header) {
	h.Set("Retry-After", RetryAfter)
	h.Set("Cache-Control", "no-store")
	h.Set(DataHeader, NoWarehouse)
}
