package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/observatorio-civico/observatorio/dashboards"
	"github.com/observatorio-civico/observatorio/datasets"
)

// dashboardRoutes: the home page, the dashboards' pages, their charts'
// options (JSON) and data (CSV), and the municipality search. Handlers are
// thin: package dashboards builds every response (cached per selection,
// with ETags) and they only write it.
//
//	GET /                                   home (?municipio=&anio=&impuesto=)
//	GET /tableros/{tablero}                 dashboard page (same filters; embed=1, grafico=)
//	GET /tableros/municipios.json?q=        search over DIVIPOLA names
//	GET /graficos/{tablero}/{grafico}.json  chart option for the filters in the query
//	GET /graficos/{tablero}/{grafico}.csv   the data behind the chart
//	GET /graficos/recaudo-mensual.json      the home chart's option
func (s *Server) dashboardRoutes(r gin.IRouter) {
	s.dash = dashboards.NewSite(s.web, dashboards.SiteOptions{
		Demo:           s.opts.Demo,
		Engine:         engineLabel(s.eng),
		K:              datasets.DefaultK,
		Now:            s.opts.Now,
		FrameAncestors: s.opts.EmbedFrameAncestors,
	})
	if reg := s.opts.Metrics; reg != nil {
		cache := s.dash.Cache()
		for _, c := range []prometheus.Collector{
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "observatorio_tableros_cache_aciertos_total", Help: "Respuestas de los tableros servidas desde la caché."},
				func() float64 { h, _ := cache.Stats(); return float64(h) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "observatorio_tableros_cache_fallos_total", Help: "Respuestas de los tableros que hubo que calcular."},
				func() float64 { _, m := cache.Stats(); return float64(m) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "observatorio_tableros_cache_entradas", Help: "Entradas en la caché de los tableros."},
				func() float64 { return float64(cache.Len()) }),
		} {
			if err := reg.Register(c); err != nil {
				var are prometheus.AlreadyRegisteredError
				if !errors.As(err, &are) {
					panic(err)
				}
			}
		}
	}
	r.GET("/", s.home)
	r.GET("/tableros/:tablero", s.dashboard)
	r.GET("/graficos/:tablero", s.homeChart)
	r.GET("/graficos/:tablero/:archivo", s.chartFile)
}

func (s *Server) home(c *gin.Context) {
	s.dash.Home(c.Request.Context(), c.Request.URL.RawQuery).Write(c.Writer, c.Request)
}

func (s *Server) dashboard(c *gin.Context) {
	if c.Param("tablero") == "municipios.json" {
		s.dash.Search(c.Request.Context(), c.Query("q")).Write(c.Writer, c.Request)
		return
	}
	s.dash.Dashboard(c.Request.Context(), c.Param("tablero"), c.Request.URL.RawQuery).Write(c.Writer, c.Request)
}

func (s *Server) homeChart(c *gin.Context) {
	if c.Param("tablero") != "recaudo-mensual.json" {
		c.String(http.StatusNotFound, "No existe ese gráfico.\n")
		return
	}
	s.dash.HomeChartJSON(c.Request.Context()).Write(c.Writer, c.Request)
}

func (s *Server) chartFile(c *gin.Context) {
	file := c.Param("archivo")
	if !strings.HasSuffix(file, ".json") && !strings.HasSuffix(file, ".csv") {
		c.String(http.StatusNotFound, "No existe ese gráfico.\n")
		return
	}
	s.dash.ChartFile(c.Request.Context(), c.Param("tablero"), file, c.Request.URL.RawQuery).Write(c.Writer, c.Request)
}
