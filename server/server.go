// Package server is the observatory's HTTP front: routes, middleware and
// thin handlers that call analytics, datasets and dashboards.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
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
}

// Server serves the observatory.
type Server struct {
	eng   warehouse.Engine
	opts  Options
	mux   *gin.Engine
	dash  *dashboards.Site // set by dashboardRoutes
	rules *liquidation.Rules
}

// New builds the server on an open, migrated warehouse.
func New(eng warehouse.Engine, opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	gin.SetMode(gin.ReleaseMode)
	// Every route reads through one watched engine: when the warehouse
	// stops answering, the whole process knows (see availability.go).
	s := &Server{eng: warehouse.Watch(eng), opts: opts, mux: gin.New(), rules: opts.Rules}
	if s.rules == nil {
		s.rules = liquidation.MustEmbeddedRules()
	}
	s.mux.Use(gin.Recovery(), accessLog(), securityHeaders(), s.availabilityMetrics())
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

// ListenAndServe serves until ctx ends, then shuts down gracefully.
func (s *Server) ListenAndServe(ctx context.Context) error {
	srv := &http.Server{
		Addr:              s.opts.Addr,
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		// No WriteTimeout: long downloads keep streaming.
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	slog.Info("observatorio en servicio", "direccion", s.opts.Addr, "motor", s.eng.Kind())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
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
		// No public route takes a body beyond a form; the admin API none.
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
		}
		c.Next()
	}
}

// maxBodyBytes bounds request bodies.
const maxBodyBytes = 1 << 20
