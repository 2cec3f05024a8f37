package server

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/observatorio-civico/observatorio/dashboards"
)

// gelRoutes: the officials' pages of the Gobierno en Línea / Gobierno
// Digital tracker and each entity's Atom feed. Package dashboards builds
// every response from package analytics/gel; the handlers only write them.
//
//	GET /gobierno-en-linea                                    index (?municipio= goes to its page)
//	GET /gobierno-en-linea/entidades/{código}                 entity page (?marco=gel2008|gd2018|igd&fecha=AAAA-MM-DD)
//	GET /gobierno-en-linea/entidades/{código}/novedades.atom  its Atom feed of deadlines passed and targets reached
//	GET /gobierno-en-linea/clasificacion                      ranking (?marco=&fase=&departamento=&fecha=)
//	GET /gobierno-en-linea/marcos                             frameworks, phases, deadlines, legal references
func (s *Server) gelRoutes(r gin.IRouter) {
	g := dashboards.NewGELPages(s.web, dashboards.GELOptions{Demo: s.opts.Demo, Engine: engineLabel(s.eng), Now: s.opts.Now})
	r.GET(dashboards.GELBase, func(c *gin.Context) {
		g.Index(c.Request.Context(), c.Request.URL.RawQuery).Write(c.Writer, c.Request)
	})
	r.GET(dashboards.GELBase+"/clasificacion", func(c *gin.Context) {
		g.Ranking(c.Request.Context(), c.Request.URL.RawQuery).Write(c.Writer, c.Request)
	})
	r.GET(dashboards.GELBase+"/marcos", func(c *gin.Context) {
		g.Frameworks(c.Request.Context()).Write(c.Writer, c.Request)
	})
	r.GET(dashboards.GELBase+"/entidades/:codigo", func(c *gin.Context) {
		g.Entity(c.Request.Context(), c.Param("codigo"), c.Request.URL.RawQuery).Write(c.Writer, c.Request)
	})
	r.GET(dashboards.GELBase+"/entidades/:codigo/novedades.atom", func(c *gin.Context) {
		g.Feed(c.Request.Context(), c.Param("codigo"), siteBase(c)).Write(c.Writer, c.Request)
	})
}

// siteBase is the scheme and host the client used, for absolute links
// (feeds). Behind a proxy, X-Forwarded-Proto says the scheme.
func siteBase(c *gin.Context) string {
	scheme := "http"
	if c.Request.TLS != nil || strings.EqualFold(c.GetHeader("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	host := c.Request.Host
	if host == "" || strings.ContainsAny(host, " /\\\"<>") {
		host = "localhost"
	}
	return scheme + "://" + host
}
