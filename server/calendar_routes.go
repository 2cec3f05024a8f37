package server

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/observatorio-civico/observatorio/dashboards"
	"github.com/observatorio-civico/observatorio/liquidation"
)

// calendarRoutes publish each municipality's tax calendar, computed from the
// same dated rules the liquidation core uses: a Spanish page for citizens,
// iCalendar for a phone's calendar app (subscribe to the .ics URL), JSON for
// programs.
func (s *Server) calendarRoutes(r gin.IRouter) {
	r.GET("/calendario/:municipio/:archivo", s.calendar)
}

func (s *Server) calendar(c *gin.Context) {
	code := c.Param("municipio")
	yearText, format, _ := strings.Cut(c.Param("archivo"), ".")
	year, err := strconv.Atoi(yearText)
	if len(code) != 5 || strings.Trim(code, "0123456789") != "" || err != nil || year < 2000 || year > 2100 {
		c.String(http.StatusBadRequest, "Use /calendario/{código DIVIPOLA de 5 dígitos}/{año} (página), .ics o .json, por ejemplo /calendario/68001/2026.ics\n")
		return
	}
	events, err := s.rules.Calendar(code, year)
	if err != nil {
		var missing *liquidation.RuleMissingError
		if errors.As(err, &missing) {
			c.String(http.StatusNotFound, "No hay reglas tributarias cargadas para el municipio %s en %d.\n", code, year)
			return
		}
		s.fail(c, err)
		return
	}
	switch format {
	case "":
		for _, m := range s.rules.Municipalities() {
			if m.Code == code {
				page, err := dashboards.RenderCalendar(m, year, events)
				if err != nil {
					s.fail(c, err)
					return
				}
				c.Data(http.StatusOK, "text/html; charset=utf-8", page)
				return
			}
		}
		c.String(http.StatusNotFound, "No hay reglas tributarias cargadas para el municipio %s.\n", code)
	case "json":
		c.JSON(http.StatusOK, gin.H{"municipio": code, "anio": year, "eventos": events})
	case "ics":
		var buf bytes.Buffer
		name := "Calendario tributario " + code + " " + yearText
		for _, m := range s.rules.Municipalities() {
			if m.Code == code {
				name = "Calendario tributario de " + m.Name + " " + yearText
			}
		}
		if err := liquidation.WriteICS(&buf, events, name); err != nil {
			s.fail(c, err)
			return
		}
		c.Header("Content-Disposition", `inline; filename="calendario-`+code+`-`+yearText+`.ics"`)
		c.Data(http.StatusOK, "text/calendar; charset=utf-8", buf.Bytes())
	default:
		c.String(http.StatusNotFound, "Formatos disponibles: .ics y .json\n")
	}
}
