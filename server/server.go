// Package server is the observatory's HTTP front: routes, middleware and
// thin handlers that call analytics, datasets and dashboards.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/observatorio-civico/observatorio/dashboards"
	"github.com/observatorio-civico/observatorio/liquidation"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// Options configure the server.
type Options struct {
	Addr string
	Demo bool
	// Now is the clock (tests pin it).
	Now func() time.Time
	// Metrics is the registry served at /metrics (nil: an empty one).
	Metrics *prometheus.Registry
	// EmbedFrameAncestors are the sites allowed to show the dashboards in
	// an iframe in embed mode (?embed=1), as CSP frame-ancestors sources
	// ("https://www.example.com"); empty allows any site.
	EmbedFrameAncestors []string
	// Rules are the tax rules behind the calendars (nil: the embedded ones).
	Rules *liquidation.Rules
	// AdminToken is the bearer token of the admin API (empty: the admin
	// API answers 401 to everything). From the environment or a file only.
	AdminToken string
	// Jobs runs ETL jobs for the admin API (nil: no ETL configured).
	Jobs JobRunner
	// TrustedProxies are the reverse proxies (IPs or CIDRs) whose
	// X-Forwarded-For names the client, for the rate limits and the audit
	// log; from any other peer the socket's address is the client.
	TrustedProxies []string
	// RateLimits are the per-client limits (nil: DefaultRateLimits();
	// &RateLimits{} limits nothing).
	RateLimits *RateLimits
	// HeavyQueries caps the public requests' concurrent warehouse queries
	// (nil: DefaultHeavyQueries(); Max ≤ 0: no cap).
	HeavyQueries *HeavyQueries
	// ShutdownGrace is how long requests in flight get to finish once
	// the server is asked to stop (0: DefaultShutdownGrace).
	ShutdownGrace time.Duration
}

// DefaultShutdownGrace lets requests in flight finish for 20 s after
// SIGTERM. With the few seconds the process may then need to cut what is
// left and stop the ETL, it exits within the 30 s that Kubernetes waits by
// default before SIGKILL (docker-compose.yml sets the same). Downloads
// longer than that are cut; release files resume with Range requests.
const DefaultShutdownGrace = 20 * time.Second

// Connection timeouts. There is no WriteTimeout (long downloads keep
// streaming); instead every write must make progress within writeStall.
const (
	readHeaderTimeout = 10 * time.Second  // slow-loris: the headers must arrive in this time
	readTimeout       = 30 * time.Second  // the whole request, body included
	idleTimeout       = 120 * time.Second // keep-alive connections between requests
	writeStall        = time.Minute       // each write of a response (progressWriter)
	// closeDrain is how long, after the grace, the server waits for
	// handlers whose connections it closed to return.
	closeDrain = 2 * time.Second
)

// Server serves the observatory.
type Server struct {
	eng warehouse.Engine
	// web is the warehouse as public requests see it: their queries take
	// turns (gatedEngine). The admin API and the probes use eng.
	web   warehouse.Engine
	opts  Options
	mux   *gin.Engine
	dash  *dashboards.Site // set by dashboardRoutes
	rules *liquidation.Rules

	limits *limiter // nil: no rate limits
	gate   *gate    // nil: no cap on heavy queries
	active atomic.Int64
	// Connection timeouts (tests shorten them).
	readHeaderTimeout, readTimeout, idleTimeout, writeStall time.Duration
}

// New builds the server on an open, migrated warehouse.
func New(eng warehouse.Engine, opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	gin.SetMode(gin.ReleaseMode)
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = DefaultShutdownGrace
	}
	// Every route reads through one watched engine: when the warehouse
	// stops answering, the whole process knows (see availability.go).
	// Public requests go through the gate on top of it (heavy.go).
	watched := warehouse.Watch(eng)
	s := &Server{eng: watched, web: gatedEngine{watched}, opts: opts, mux: gin.New(), rules: opts.Rules,
		readHeaderTimeout: readHeaderTimeout, readTimeout: readTimeout, idleTimeout: idleTimeout, writeStall: writeStall}
	if s.rules == nil {
		s.rules = liquidation.MustEmbeddedRules()
	}
	// gin trusts every peer's X-Forwarded-For unless told otherwise.
	if err := s.mux.SetTrustedProxies(opts.TrustedProxies); err != nil {
		slog.Error("proxies de confianza inválidos; no se confía en ninguno", "error", err)
		s.mux.SetTrustedProxies(nil)
	}
	rl := DefaultRateLimits()
	if opts.RateLimits != nil {
		rl = *opts.RateLimits
	}
	if rl.Pages.Rate > 0 || rl.Data.Rate > 0 || rl.Downloads.Rate > 0 {
		// Real time, not Options.Now: tests pin the business clock.
		s.limits = newLimiter(rl, time.Now, opts.Metrics)
	}
	hq := DefaultHeavyQueries()
	if opts.HeavyQueries != nil {
		hq = *opts.HeavyQueries
	}
	s.gate = newGate(hq, opts.Metrics)
	s.mux.Use(gin.Recovery(), accessLog(), securityHeaders(), s.availabilityMetrics(), s.limitRequests())
	s.routes()
	return s
}

// Handler is the HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// routes registers every route. Each area of the site keeps its handlers in
// its own file: dashboards_routes.go (pages and charts), datasets_routes.go
// (catalog and downloads), gel_routes.go (Gobierno en Línea tracker),
// calendar_routes.go (tax calendars).
func (s *Server) routes() {
	r := s.mux
	s.dashboardRoutes(r)
	s.datasetRoutes(r)
	s.gelRoutes(r)
	s.calendarRoutes(r)
	s.adminRoutes(r)
	r.GET("/static/*archivo", gin.WrapH(dashboards.AssetHandler()))
	r.HEAD("/static/*archivo", gin.WrapH(dashboards.AssetHandler()))
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })
	reg := s.opts.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	r.GET("/readyz", s.ready)
	r.NoRoute(func(c *gin.Context) {
		if s.adminNotFound(c) {
			return
		}
		c.String(http.StatusNotFound, "No encontrado.\n")
	})
}

// ListenAndServe serves on Options.Addr until ctx ends, then shuts down
// gracefully (see Serve).
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// maxHeaderBytes bounds the request line and headers (Go answers 431
// beyond it, plus 4 KiB of slack).
const maxHeaderBytes = 64 << 10

// Serve serves on ln until ctx ends. Then it stops accepting connections,
// closes idle ones, and lets requests in flight (downloads) finish within
// Options.ShutdownGrace; past it, it closes their connections and cancels
// their contexts (so that their warehouse queries stop), waits a moment
// for their handlers to return, and returns. It returns nil after a
// shutdown, or the error that stopped serving.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: s.readHeaderTimeout,
		ReadTimeout:       s.readTimeout,
		IdleTimeout:       s.idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// No WriteTimeout: long downloads keep streaming (progressWriter
		// cuts clients that stop reading).
		BaseContext: func(net.Listener) context.Context { return base },
		ConnState: func(c net.Conn, st http.ConnState) {
			// A response's write deadline must not outlive it.
			if st == http.StateIdle {
				c.SetWriteDeadline(time.Time{})
			}
		},
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	slog.Info("observatorio en servicio", "direccion", ln.Addr().String(), "motor", s.eng.Kind())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	grace := s.opts.ShutdownGrace
	slog.Info("deteniendo el servidor: no se aceptan conexiones nuevas", "en_curso", s.active.Load(), "plazo", grace)
	shutdown, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	slog.Warn("plazo de apagado cumplido: se cierran las conexiones que seguían en curso", "en_curso", s.active.Load(), "plazo", grace)
	srv.Close()
	cancelBase()
	for deadline := time.Now().Add(closeDrain); s.active.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.active.Load(); n > 0 {
		slog.Warn("solicitudes que no terminaron tras cerrar sus conexiones", "en_curso", n)
	}
	return nil
}

func (s *Server) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.eng.Ping(ctx); err != nil {
		c.String(http.StatusServiceUnavailable, "almacén no disponible\n")
		return
	}
	c.String(http.StatusOK, "ok\n")
}

// deferredHeaders sends the success headers with the first byte of the
// body, so that an export failing before it starts still gets an error
// status instead of an empty 200.
type deferredHeaders struct {
	c                        *gin.Context
	contentType, disposition string
	started                  bool
}

func (d *deferredHeaders) Write(p []byte) (int, error) {
	if !d.started {
		d.started = true
		d.c.Header("Content-Type", d.contentType)
		d.c.Header("Content-Disposition", d.disposition)
		d.c.Status(http.StatusOK)
	}
	return d.c.Writer.Write(p)
}

func (s *Server) fail(c *gin.Context, err error) {
	if be, ok := warehouse.AsBusy(err); ok {
		c.Header("Retry-After", strconv.Itoa(be.Seconds()))
		c.Header("Cache-Control", "no-store")
		c.String(http.StatusServiceUnavailable, be.Error()+"\n")
		return
	}
	if s.unavailable(c, err) {
		return
	}
	slog.Error("error al atender", "ruta", c.FullPath(), "error", err)
	c.String(http.StatusInternalServerError, "Error interno. El equipo del observatorio fue notificado en el registro.\n")
}

func engineLabel(e warehouse.Engine) string {
	if e.Kind() == "embedded" {
		return "ClickHouse embebido (chDB)"
	}
	return "servidor ClickHouse"
}

func accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		slog.Debug("http", "metodo", c.Request.Method, "ruta", c.Request.URL.Path, "estado", c.Writer.Status(), "ms", time.Since(start).Milliseconds())
	}
}

// securityHeaders: pages load scripts, styles and data from the observatory
// only; no inline script is ever needed.
func securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		// HSTS only over TLS: directly, or behind a proxy that says so.
		if c.Request.TLS != nil || c.GetHeader("X-Forwarded-Proto") == "https" {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		c.Next()
	}
}
