package dashboards

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/observatorio-civico/observatorio/stale"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// SiteOptions configure the dashboards.
type SiteOptions struct {
	// Demo marks the pages as showing synthetic data.
	Demo bool
	// Engine is the warehouse's name shown in the footer.
	Engine string
	// K is the minimum number of distinct taxpayers behind a published
	// amount (at most 100: the queries count with uniqUpTo(100)).
	K int
	// Now is the clock (tests pin it).
	Now func() time.Time
	// FrameAncestors are the origins allowed to show pages in an iframe in
	// embed mode (?embed=1), as CSP frame-ancestors sources, e.g.
	// "https://www.eltiempo.com". Empty allows any site.
	FrameAncestors []string
	// StampEvery is how often the site looks at etl_runs for commits made
	// by other processes (default 15 s; negative: never).
	StampEvery time.Duration
	// StatsEvery is how often view and download counters are written to
	// the warehouse (default 1 min).
	StatsEvery time.Duration
	// CacheEntries bounds the cache (default 4096 entries).
	CacheEntries int
	// Live makes every chart query the fact tables directly instead of the
	// precomputed aggregates (tests of the live queries; small warehouses).
	Live bool
	// RefreshEvery is the least time between two background refreshes of
	// the aggregates started by this site (default 1 min; negative: never,
	// the ETL refreshes them).
	RefreshEvery time.Duration
	// RefreshGrace is how long the site waits, after it sees a commit that
	// the aggregates do not include, before refreshing them itself: the
	// ETL's commit hook normally does it first (default 5 min).
	RefreshGrace time.Duration
}

// Site serves the dashboards: pages, chart options, chart data, search.
// Its methods return Responses that handlers write as they are.
type Site struct {
	eng    warehouse.Engine
	o      SiteOptions
	cache  *Cache
	bogota *time.Location

	stampMu      sync.Mutex
	stamp        string
	stampChecked time.Time
	stampBusy    bool

	stats stats
	refr  refresher
}

// NewSite makes the dashboards over an open, migrated warehouse.
func NewSite(eng warehouse.Engine, o SiteOptions) *Site {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.K <= 0 {
		o.K = 5
	}
	if o.K > 100 {
		o.K = 100
	}
	if o.StampEvery == 0 {
		o.StampEvery = 15 * time.Second
	}
	if o.RefreshEvery == 0 {
		o.RefreshEvery = time.Minute
	}
	if o.RefreshGrace == 0 {
		o.RefreshGrace = 5 * time.Minute
	}
	if o.StatsEvery == 0 {
		o.StatsEvery = time.Minute
	}
	if o.Engine == "" {
		o.Engine = eng.Kind()
	}
	s := &Site{eng: eng, o: o, cache: NewCache(o.CacheEntries), bogota: bogota}
	s.cache.SetDown(func() bool { _, down := warehouse.Down(eng); return down })
	s.stats.pending = map[statKey]*statCount{}
	return s
}

// Cache is the site's cache (tests and the ETL may invalidate it).
func (s *Site) Cache() *Cache { return s.cache }

// Invalidate empties the site's cache.
func (s *Site) Invalidate() { s.cache.Invalidate() }

// today is the date in Colombia.
func (s *Site) today() time.Time {
	t := s.o.Now().In(s.bogota)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// checkStamp notices ETL commits made by other processes: the first call
// reads the stamp synchronously (so that nothing is cached against an
// unknown state), later calls refresh it in the background at most every
// StampEvery, and a changed stamp empties the cache.
func (s *Site) checkStamp(ctx context.Context) {
	if s.o.StampEvery < 0 {
		return
	}
	s.stampMu.Lock()
	first := s.stampChecked.IsZero()
	due := time.Since(s.stampChecked) >= s.o.StampEvery
	if s.stampBusy || !due {
		s.stampMu.Unlock()
		return
	}
	s.stampBusy = true
	s.stampMu.Unlock()
	run := func(ctx context.Context) {
		// A change of either the committed runs or the aggregates' version
		// (refreshed by the ETL's hook, maybe in another process, after the
		// commit was already seen) empties the cache.
		etlStamp, agg, err := readState(ctx, s.eng)
		stamp := ""
		if err == nil {
			stamp = etlStamp + "|" + strconv.FormatUint(agg.Version, 10)
		}
		s.stampMu.Lock()
		defer s.stampMu.Unlock()
		s.stampBusy = false
		s.stampChecked = time.Now()
		if err != nil {
			lvl := slog.LevelWarn
			if warehouse.Unavailable(err) {
				lvl = slog.LevelDebug // the watched engine said so once
			}
			slog.Log(ctx, lvl, "tableros: no se pudo leer el sello de cargas", "error", err)
			return
		}
		if stamp != s.stamp {
			if s.stamp != "" || !first {
				slog.Info("tableros: nueva carga confirmada; se vacía la caché", "sello", stamp)
			}
			s.stamp = stamp
			s.cache.Invalidate()
		}
		// Nothing was committed since the cached values were read: they
		// are current as of now (what a stale notice will say).
		s.cache.Confirm(s.stampChecked)
		// What was just read is the aggregates' state for this generation
		// of the cache: no second query for it.
		s.cache.Get(ctx, "d:agregados", func(context.Context) (any, error) { return agg, nil })
		go s.maybeRefresh(etlStamp)
	}
	if first {
		run(ctx)
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		run(ctx)
	}()
}

func (s *Site) observeQuery(name string, d time.Duration, err error) {
	lvl := slog.LevelDebug
	if (err != nil && !errors.Is(err, warehouse.ErrUnavailable)) || d > 2*time.Second {
		lvl = slog.LevelWarn // (a refusal while the warehouse is down was logged once)
	}
	slog.Log(context.Background(), lvl, "tableros: consulta", "consulta", name, "ms", d.Milliseconds(), "error", err)
}

// Response is what a handler sends.
type Response struct {
	Status int
	Body   *Body
	Header http.Header
	// staleAt, when set, marks a response whose data could not be checked
	// against the warehouse: the figures as read at that time.
	staleAt time.Time
	// err is the error behind a failure response.
	err error
}

// Stale reports whether the response serves data the warehouse could not
// confirm, and as of when.
func (r *Response) Stale() (time.Time, bool) { return r.staleAt, !r.staleAt.IsZero() }

// answer runs a handler's work with a staleness tracker and marks its
// response when what it shows did not come fresh from the warehouse: some
// value was stale, or the warehouse is known to be down (the cached values
// are the latest known, but nobody can say they are still current).
func (s *Site) answer(ctx context.Context, fn func(ctx context.Context) *Response) *Response {
	ctx, tr := trackStale(ctx)
	r := fn(ctx)
	if r.Body == nil || r.Status >= 300 || !tr.used() {
		return r
	}
	at, isStale := tr.result()
	if _, down := warehouse.Down(s.eng); !isStale && !down {
		return r
	}
	return markStale(r, at)
}

// markedPages are the stale copies of pages (the notice inserted), by the
// fresh page's ETag and the time in the notice: under load, one copy each.
var markedPages = stale.NewStore(256)

// markStale returns r marked as stale as of at: headers, and the notice on
// HTML pages.
func markStale(r *Response, at time.Time) *Response {
	out := &Response{Status: r.Status, Body: r.Body, Header: r.Header.Clone(), staleAt: at}
	if strings.HasPrefix(r.Body.Type, "text/html") {
		key := r.Body.ETag + "@" + at.UTC().Format(time.RFC3339Nano)
		if it, ok := markedPages.Get(key); ok {
			out.Body = it.Val.(*Body)
		} else {
			out.Body = NewBody(r.Body.Type, stale.MarkPage(r.Body.Data, at))
			markedPages.Put(key, out.Body, at)
		}
	}
	return out
}

func (s *Site) respond(status int, b *Body) *Response {
	return &Response{Status: status, Body: b, Header: http.Header{}}
}

func (s *Site) redirect(to string) *Response {
	r := &Response{Status: http.StatusSeeOther, Header: http.Header{}}
	r.Header.Set("Location", to)
	r.Body = NewBody("text/plain; charset=utf-8", []byte("Vea "+to+"\n"))
	return r
}

func (s *Site) plain(status int, msg string) *Response {
	r := s.respond(status, NewBody("text/plain; charset=utf-8", []byte(msg+"\n")))
	r.Header.Set("Cache-Control", "no-store")
	return r
}

// failure answers an error: 503 with Retry-After when the public share of
// the warehouse is busy, or when the warehouse is
// unavailable (and nothing was cached), 500 otherwise.
func (s *Site) failure(err error) *Response {
	if r := busy(err); r != nil {
		return r
	}
	if warehouse.Unavailable(err) {
		slog.Debug("tableros: sin almacén y sin copia en caché", "error", err)
		r := s.plain(http.StatusServiceUnavailable, stale.UnavailableMessage)
		stale.UnavailableHeaders(r.Header)
		r.err = err
		return r
	}
	slog.Error("tableros: error", "error", err)
	r := s.plain(http.StatusInternalServerError, "Error interno. El equipo del observatorio fue notificado en el registro.")
	r.err = err
	return r
}

// pageFailure is failure as an HTML page for the pages' routes.
func (s *Site) pageFailure(err error, embed bool) *Response {
	if !warehouse.Unavailable(err) {
		return s.failure(err)
	}
	slog.Debug("tableros: sin almacén y sin copia en caché", "error", err)
	r := s.noticePage(http.StatusServiceUnavailable, "Almacén de datos no disponible", "Almacén de datos no disponible", stale.UnavailableMessage, nil, Filters{Embed: embed})
	stale.UnavailableHeaders(r.Header)
	r.err = err
	return r
}

// busy is the answer when the warehouse had no turn for a query of this
// request (the server's cap on concurrent heavy queries): 503 with
// Retry-After, not an internal error. Nil for any other error.
func busy(err error) *Response {
	be, ok := warehouse.AsBusy(err)
	if !ok {
		return nil
	}
	r := &Response{Status: http.StatusServiceUnavailable, Header: http.Header{}, Body: NewBody("text/plain; charset=utf-8", []byte(be.Error()+"\n"))}
	r.Header.Set("Cache-Control", "no-store")
	r.Header.Set("Retry-After", strconv.Itoa(be.Seconds()))
	return r
}

// Write sends the response: conditional requests (If-None-Match) get 304,
// clients that accept gzip get the compressed copy.
func (r *Response) Write(w http.ResponseWriter, req *http.Request) {
	h := w.Header()
	for k, v := range r.Header {
		h[k] = v
	}
	if r.Body == nil {
		w.WriteHeader(r.Status)
		return
	}
	h.Set("Content-Type", r.Body.Type)
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-cache") // revalidate: cheap with the ETag
	}
	h.Set("Vary", "Accept-Encoding")
	if !r.staleAt.IsZero() {
		// No validator: a client's fresh copy must not be confirmed, nor
		// this one kept.
		stale.MarkHeaders(h, r.staleAt)
	} else if r.Status == http.StatusOK && r.Body.ETag != "" {
		h.Set("ETag", r.Body.ETag)
		if etagMatch(req.Header.Get("If-None-Match"), r.Body.ETag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	data := r.Body.Data
	if r.Body.Gzip != nil && acceptsGzip(req) {
		data = r.Body.Gzip
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", fmt.Sprint(len(data)))
	w.WriteHeader(r.Status)
	if req.Method != http.MethodHead {
		w.Write(data)
	}
}

func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, part := range strings.Split(header, ",") {
		p := strings.TrimSpace(part)
		p = strings.TrimPrefix(p, "W/")
		if p == etag || p == "*" {
			return true
		}
	}
	return false
}

func acceptsGzip(req *http.Request) bool {
	for _, part := range strings.Split(req.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// frameAncestors is the CSP source list for embed mode.
func (s *Site) frameAncestors() string {
	if len(s.o.FrameAncestors) == 0 {
		return "*"
	}
	var ok []string
	for _, a := range s.o.FrameAncestors {
		a = strings.TrimSpace(a)
		// Only plain sources: no spaces, quotes or semicolons can slip
		// another directive into the header.
		if a == "" || strings.ContainsAny(a, " ;,\"\r\n") {
			continue
		}
		ok = append(ok, a)
	}
	if len(ok) == 0 {
		return "'self'"
	}
	return "'self' " + strings.Join(ok, " ")
}

// CSP is the Content-Security-Policy of the dashboards' pages; embed mode
// lets the configured sites frame them.
func (s *Site) CSP(embed bool) string {
	fa := "'self'"
	if embed {
		fa = s.frameAncestors()
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors " + fa
}
