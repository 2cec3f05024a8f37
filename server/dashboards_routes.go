package server

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/observatorio-civico/observatorio/analytics"
	"github.com/observatorio-civico/observatorio/dashboards"
	"github.com/observatorio-civico/observatorio/datasets"
)

func (s *Server) dashboardRoutes(r gin.IRouter) {
	r.GET("/", s.home)
	r.GET("/graficos/:id", s.chartOption)
}

// monthlyChart builds the home page's chart from the warehouse.
func (s *Server) monthlyChart(ctx context.Context) (*dashboards.Chart, error) {
	ds, err := datasets.Get("recaudo-mensual")
	if err != nil {
		return nil, err
	}
	res, err := analytics.Run(ctx, s.eng, ds.Query, ds.Params(s.opts.Now())...)
	if err != nil {
		return nil, err
	}
	return dashboards.MonthlyCollections(res)
}

func (s *Server) home(c *gin.Context) {
	ctx := c.Request.Context()
	sum, err := analytics.Run(ctx, s.eng, "resumen")
	if err != nil {
		s.fail(c, err)
		return
	}
	chart, err := s.monthlyChart(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	row := sum.Rows[0]
	last := "todavía no hay cargas"
	if t, ok := row[sum.Index("ultima_carga")].(time.Time); ok && t.Year() > 1970 {
		last = dashboards.Date(t)
	}
	page := &dashboards.HomePage{
		Page: dashboards.Page{
			Title:       "Recaudo municipal",
			Description: "Recaudo de impuestos municipales de Colombia, con datos abiertos y verificables.",
			Demo:        s.opts.Demo,
			Engine:      engineLabel(s.eng),
			Charts:      []*dashboards.Chart{chart},
		},
		Summary: dashboards.Summary{
			Liquidations:           dashboards.Number(int64(row[sum.Index("liquidaciones")].(uint64))),
			Payments:               dashboards.Number(int64(row[sum.Index("pagos")].(uint64))),
			Municipalities:         dashboards.Number(int64(row[sum.Index("municipios")].(uint64))),
			MunicipalitiesWithData: dashboards.Number(int64(row[sum.Index("municipios_con_datos")].(uint64))),
			LastLoad:               last,
		},
		K: datasets.DefaultK,
	}
	var buf bytes.Buffer
	if err := dashboards.RenderHome(&buf, page); err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}

func (s *Server) chartOption(c *gin.Context) {
	if c.Param("id") != "recaudo-mensual.json" {
		c.String(http.StatusNotFound, "No existe ese gráfico.\n")
		return
	}
	chart, err := s.monthlyChart(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", chart.Option)
}
