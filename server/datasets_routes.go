package server

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/observatorio-civico/observatorio/datasets"
)

func (s *Server) datasetRoutes(r gin.IRouter) {
	r.GET("/datos/:file", s.download)
}

func (s *Server) download(c *gin.Context) {
	file := c.Param("file")
	const ext = ".csv"
	if len(file) <= len(ext) || file[len(file)-len(ext):] != ext {
		c.String(http.StatusNotFound, "Formato no disponible.\n")
		return
	}
	ds, err := datasets.Get(file[:len(file)-len(ext)])
	if err != nil {
		c.String(http.StatusNotFound, "No existe ese conjunto de datos.\n")
		return
	}
	w := &deferredHeaders{c: c, contentType: "text/csv; charset=utf-8", disposition: `attachment; filename="` + file + `"`}
	if err := ds.WriteCSV(c.Request.Context(), s.eng, w, s.opts.Now()); err != nil {
		if !w.started {
			s.fail(c, err)
			return
		}
		// The body has begun: the client sees a truncated file (no
		// Content-Length to satisfy) and the log says why.
		slog.Error("descarga interrumpida", "conjunto", ds.ID, "error", err)
	}
}
