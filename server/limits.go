package server

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// RateLimit is one class's token bucket: Rate requests per second on
// average, up to Burst at once. A Rate of 0 leaves the class unlimited.
type RateLimit struct {
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
}

// RateLimits are the per-client limits, by class of route. A client is an
// address (IPv4, or an IPv6 /64: one host usually holds a whole /64), as
// the socket says or, behind a trusted proxy (Options.TrustedProxies), as
// X-Forwarded-For says.
//
// Static assets, /healthz, /readyz and /metrics are never limited: assets
// are embedded in the binary and served from memory with long cache
// headers (a page that was allowed must be able to load them), and probes
// and the metrics scraper must keep seeing the truth during a spike, or a
// spike turns into failed health checks and restarts.
type RateLimits struct {
	// Pages: HTML pages (dashboards, catalog, Gobierno en Línea,
	// calendars) and anything unknown (404s).
	Pages RateLimit `yaml:"pages"`
	// Data: chart data (/graficos), the JSON and CKAN APIs, search,
	// metadata, feeds (.json, .ics, .atom), the admin API.
	Data RateLimit `yaml:"data"`
	// Downloads: dataset files, filtered exports and diffs.
	Downloads RateLimit `yaml:"downloads"`
	// Clients bounds the buckets kept in memory (one per client and
	// class). Idle buckets are dropped once full again; past the bound,
	// arbitrary ones are forgotten (those clients start again with a full
	// bucket).
	Clients int `yaml:"clients"`
}

// DefaultRateLimits are sized for a public site where many readers may
// share one address (mobile carriers' CGNAT, offices, universities): a
// reader opens a page every few seconds and each dashboard view fetches a
// handful of chart data files, so an address sustaining 10 pages and 20
// data requests per second is a crowd of some hundred readers, or one
// program; a program downloading the whole catalog in every format (about
// 40 files) fits the downloads burst. The limits are there to stop one
// client from taking the site for itself; the cap on heavy queries
// (HeavyQueries) is what protects the warehouse from everyone together.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		Pages:     RateLimit{Rate: 10, Burst: 100},
		Data:      RateLimit{Rate: 20, Burst: 200},
		Downloads: RateLimit{Rate: 1, Burst: 30},
		Clients:   100000,
	}
}

// Validate checks the limits and names the first bad key.
func (r RateLimits) Validate() error {
	for _, c := range []struct {
		name string
		l    RateLimit
	}{{"pages", r.Pages}, {"data", r.Data}, {"downloads", r.Downloads}} {
		switch {
		case c.l.Rate < 0 || math.IsNaN(c.l.Rate) || math.IsInf(c.l.Rate, 0):
			return fmt.Errorf("http.rate_limits.%s.rate debe ser un número de solicitudes por segundo ≥ 0 (0: sin límite)", c.name)
		case c.l.Rate > 0 && c.l.Burst < 1:
			return fmt.Errorf("http.rate_limits.%s.burst debe ser al menos 1", c.name)
		}
	}
	if r.Clients < 0 {
		return fmt.Errorf("http.rate_limits.clients no puede ser negativo")
	}
	return nil
}

// class is a class of routes with its own limit.
type class uint8

const (
	classPages class = iota
	classData
	classDownloads
	numClasses
)

var classNames = [numClasses]string{"pages", "data", "downloads"}

func (c class) String() string { return classNames[c] }

// classify says which limit a request counts against, or that it has
// none. It runs after routing (c.FullPath is the matched route).
func classify(c *gin.Context) (class, bool) {
	switch c.FullPath() {
	case "/static/*archivo", "/healthz", "/readyz", "/metrics":
		return 0, false
	case "/datos/:id":
		if _, format := splitFile(c.Param("id")); format != "" {
			return classDownloads, true
		}
		return classPages, true
	case "/datos/:id/versiones/:version/:file":
		if c.Param("file") == "datapackage.json" {
			return classData, true
		}
		return classDownloads, true
	case "/datos/:id/diferencias":
		return classDownloads, true
	case "/datos/:id/versiones", "/datos/:id/datapackage.json", "/data.json":
		return classData, true
	}
	p := c.Request.URL.Path
	switch {
	case strings.HasPrefix(p, "/api/"), strings.HasPrefix(p, "/graficos/"),
		strings.HasSuffix(p, ".json"), strings.HasSuffix(p, ".ics"), strings.HasSuffix(p, ".atom"):
		return classData, true
	}
	return classPages, true
}

// limiter keeps a token bucket per client and class.
type limiter struct {
	rates [numClasses]RateLimit
	max   int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[bucketKey]bucket
	sweepAt time.Time

	rejected *prometheus.CounterVec
	tracked  prometheus.Gauge
}

type bucketKey struct {
	cls  class
	addr netip.Addr
}

// bucket holds the tokens left at the time of the client's last request.
type bucket struct {
	tokens float64
	last   time.Time
}

// sweepEvery is how often idle buckets are dropped.
const sweepEvery = time.Minute

func newLimiter(r RateLimits, now func() time.Time, reg *prometheus.Registry) *limiter {
	l := &limiter{
		rates:   [numClasses]RateLimit{r.Pages, r.Data, r.Downloads},
		max:     r.Clients,
		now:     now,
		buckets: map[bucketKey]bucket{},
	}
	if l.max <= 0 {
		l.max = DefaultRateLimits().Clients
	}
	l.rejected = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "observatorio_http_limitadas_total",
		Help: "Solicitudes rechazadas con 429 por el límite de solicitudes por cliente, por clase (pages, data, downloads).",
	}, []string{"clase"}))
	l.tracked = register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "observatorio_http_limites_clientes",
		Help: "Cubetas de límite de solicitudes en memoria (una por cliente y clase).",
	}))
	return l
}

// allow takes a token from the client's bucket of the class. When there is
// none it says how long until there is one.
func (l *limiter) allow(cls class, addr netip.Addr) (bool, time.Duration) {
	r := l.rates[cls]
	if r.Rate <= 0 {
		return true, 0
	}
	now := l.now()
	k := bucketKey{cls, addr}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[k]
	if ok {
		b.tokens = min(float64(r.Burst), b.tokens+now.Sub(b.last).Seconds()*r.Rate)
	} else {
		if len(l.buckets) >= l.max || now.After(l.sweepAt) {
			l.sweep(now)
		}
		b.tokens = float64(r.Burst)
	}
	b.last = now
	allowed := b.tokens >= 1
	if allowed {
		b.tokens--
	}
	l.buckets[k] = b
	l.tracked.Set(float64(len(l.buckets)))
	if allowed {
		return true, 0
	}
	l.rejected.WithLabelValues(cls.String()).Inc()
	return false, time.Duration((1 - b.tokens) / r.Rate * float64(time.Second))
}

// sweep drops the buckets that have filled up again: a full bucket is the
// same as none. If the map is still at its bound (that many clients active
// at once), arbitrary buckets (map order is random) are forgotten down to
// three quarters of it, so that memory stays bounded and the next new
// clients do not sweep again. Called with l.mu held.
func (l *limiter) sweep(now time.Time) {
	l.sweepAt = now.Add(sweepEvery)
	for k, b := range l.buckets {
		r := l.rates[k.cls]
		if r.Rate <= 0 || b.tokens+now.Sub(b.last).Seconds()*r.Rate >= float64(r.Burst) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < l.max {
		return
	}
	forget := len(l.buckets) - l.max*3/4
	slog.Warn("límite de solicitudes: demasiados clientes activos; se olvidan algunos", "clientes", len(l.buckets), "olvidados", forget)
	for k := range l.buckets {
		if forget == 0 {
			break
		}
		delete(l.buckets, k)
		forget--
	}
}

// size is the number of buckets held (tests).
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// clientKey is the address a client is counted by: its IP (c.ClientIP
// honours X-Forwarded-For only from trusted proxies), IPv6 addresses by
// their /64.
func clientKey(c *gin.Context) netip.Addr {
	a, err := netip.ParseAddr(c.ClientIP())
	if err != nil {
		return netip.Addr{} // unparsable: all such clients share one bucket
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return a
}

// maxBodyBytes bounds request bodies: no public route takes a body beyond
// a form; the admin API none.
const maxBodyBytes = 1 << 20

// limitRequests is the middleware of the limits: it bounds request
// bodies, applies the client's rate limit for the route's class, lets the
// request's warehouse queries take turns (heavy-query cap) and keeps each
// write of the response making progress.
func (s *Server) limitRequests() gin.HandlerFunc {
	return func(c *gin.Context) {
		s.active.Add(1)
		defer s.active.Add(-1)
		if c.Request.ContentLength > maxBodyBytes {
			c.Header("Connection", "close")
			c.Header("Cache-Control", "no-store")
			c.String(http.StatusRequestEntityTooLarge, "La solicitud es demasiado grande: el cuerpo admite hasta 1 MiB.\n")
			c.Abort()
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
		}
		cls, limited := classify(c)
		if limited && s.limits != nil {
			if ok, wait := s.limits.allow(cls, clientKey(c)); !ok {
				secs := max(1, int(math.Ceil(wait.Seconds())))
				c.Header("Retry-After", strconv.Itoa(secs))
				c.Header("Cache-Control", "no-store")
				c.String(http.StatusTooManyRequests, "Demasiadas solicitudes desde su dirección. Espere %d %s antes de volver a intentarlo.\n", secs, plural(secs, "segundo", "segundos"))
				c.Abort()
				return
			}
		}
		// Queries of public requests take turns at the warehouse; the
		// admin API's do not (operators must be able to look while the
		// public side is saturated).
		if limited && s.gate != nil && !strings.HasPrefix(c.Request.URL.Path, "/api/admin") {
			c.Request = c.Request.WithContext(withGate(c.Request.Context(), s.gate))
		}
		if s.writeStall > 0 {
			w := &progressWriter{ResponseWriter: c.Writer, rc: http.NewResponseController(c.Writer), stall: s.writeStall}
			c.Writer = w
			c.Next()
			// The last bytes are flushed after the handler returns: give
			// them a full period too.
			w.extend(true)
			return
		}
		c.Next()
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// progressWriter cuts a client that stops reading: each write of the
// response must complete within stall. Long downloads keep streaming as
// long as the client takes the bytes (there is no overall WriteTimeout),
// but a connection, and the warehouse query feeding it, is not held
// forever by a client that reads nothing.
type progressWriter struct {
	gin.ResponseWriter
	rc       *http.ResponseController
	stall    time.Duration
	deadline time.Time
}

// extend pushes the write deadline a full period away, at most once per
// quarter period unless forced (setting it is cheap, but not free).
func (w *progressWriter) extend(force bool) {
	now := time.Now()
	if !force && w.deadline.Sub(now) > w.stall*3/4 {
		return
	}
	w.deadline = now.Add(w.stall)
	_ = w.rc.SetWriteDeadline(w.deadline) // unsupported writers (recorders) have no deadline to keep
}

func (w *progressWriter) Write(p []byte) (int, error) {
	w.extend(false)
	return w.ResponseWriter.Write(p)
}

func (w *progressWriter) WriteString(s string) (int, error) {
	w.extend(false)
	return w.ResponseWriter.WriteString(s)
}

func (w *progressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// register registers c on reg, or returns the collector already registered
// under its name (servers built one after another on one registry share
// their metrics). A nil reg leaves c unregistered.
func register[T prometheus.Collector](reg *prometheus.Registry, c T) T {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
			if existing, ok := are.ExistingCollector.(T); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}
