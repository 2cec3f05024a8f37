package server

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/observatorio-civico/observatorio/stale"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// When the warehouse does not answer, the server keeps serving what it
// last read (packages stale and dashboards mark it as such), /healthz stays
// 200 (the process is fine), /readyz answers 503 (a load balancer should
// prefer another node), and whatever has no good copy gets a 503 with
// Retry-After instead of a 500. Recovery needs nothing: the watched engine
// notices the warehouse's return and the next requests read it again.

// unavailable answers err with a 503 when it means that the warehouse did
// not answer, and reports whether it did.
func (s *Server) unavailable(c *gin.Context, err error) bool {
	if !warehouse.Unavailable(err) {
		return false
	}
	slog.Debug("sin almacén y sin copia en caché", "ruta", c.FullPath(), "error", err)
	stale.UnavailableHeaders(c.Writer.Header())
	c.String(http.StatusServiceUnavailable, stale.UnavailableMessage+"\n")
	return true
}

// availabilityMetrics counts the responses served stale and the 503s for
// want of the warehouse, and exports whether the warehouse answers.
func (s *Server) availabilityMetrics() gin.HandlerFunc {
	w := s.eng.(*warehouse.Watched)
	var staleServed, refused prometheus.Counter = prometheus.NewCounter(prometheus.CounterOpts{Name: "observatorio_respuestas_en_cache_total",
		Help: "Respuestas servidas desde la memoria, marcadas como en caché, porque el almacén de datos no respondía."}),
		prometheus.NewCounter(prometheus.CounterOpts{Name: "observatorio_respuestas_sin_almacen_total",
			Help: "Respuestas 503 porque el almacén de datos no respondía y no había copia en caché."})
	if reg := s.opts.Metrics; reg != nil {
		staleServed = register(reg, staleServed)
		refused = register(reg, refused)
		register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "observatorio_almacen_disponible", Help: "1 si el almacén de datos responde, 0 si no."},
			func() float64 {
				if _, down := w.Down(); down {
					return 0
				}
				return 1
			}))
		register(reg, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "observatorio_almacen_caidas_total", Help: "Veces que el almacén de datos dejó de responder."},
			func() float64 { return float64(w.Outages()) }))
	}
	return func(c *gin.Context) {
		c.Next()
		switch c.Writer.Header().Get(stale.DataHeader) {
		case stale.Cached:
			staleServed.Inc()
		case stale.NoWarehouse:
			refused.Inc()
		}
	}
}
