package dashboards

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// Home serves the home page: the selection form, the answer to "how much
// did my municipality collect, how much online, do its bills match the
// rules", the headline counts, the list of dashboards and the monthly
// collections chart.
func (s *Site) Home(ctx context.Context, rawQuery string) *Response {
	return s.answer(ctx, func(ctx context.Context) *Response { return s.home(ctx, rawQuery) })
}

func (s *Site) home(ctx context.Context, rawQuery string) *Response {
	s.checkStamp(ctx)
	dir, err := s.directory(ctx)
	if err != nil {
		return s.pageFailure(err, false)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return s.problemPage(http.StatusBadRequest, "La dirección tiene parámetros mal escritos.", nil, Filters{})
	}
	f, prob := parseFilters(q, dir, "/")
	if prob != nil {
		if prob.Redirect != "" {
			return s.redirect(prob.Redirect)
		}
		return s.problemPage(prob.Status, prob.Message, prob.Candidates, Filters{Anio: f.Anio, Impuesto: f.Impuesto}, "/")
	}
	f.Embed, f.Grafico = false, ""
	if canon := f.values(); canon != rawQuery {
		return s.redirect(f.withQuery("/"))
	}
	s.count("inicio", 1, 0)
	v, err := s.cache.Get(ctx, "p:inicio?"+f.key(), func(ctx context.Context) (any, error) {
		return s.renderHome(ctx, f, dir)
	})
	if err != nil {
		return s.pageFailure(err, false)
	}
	r := s.respond(http.StatusOK, v.(*Body))
	r.Header.Set("Content-Security-Policy", s.CSP(false))
	return r
}

var blurbs = map[string]string{
	"Recaudo":           "Facturado y recaudado por mes y por vigencia; tasa de recaudo.",
	"Canales":           "Pagos y declaraciones en línea frente a los presenciales.",
	"Cartera":           "Lo que se debe, por vigencia y edad de la deuda.",
	"Verificación":      "Qué parte de las facturas cumple las reglas y dónde hay diferencias.",
	"Presupuesto":       "Presupuesto definitivo (FUT) frente a lo recaudado.",
	"Gobierno en Línea": "Avance por fase y entidad frente a los plazos de 2008 a 2012.",
	"El observatorio":   "Datos publicados, visitas, descargas y estado de las cargas.",
}

func (s *Site) renderHome(ctx context.Context, f Filters, dir *Directory) (*Body, error) {
	sum, err := s.summary(ctx, dir)
	if err != nil {
		return nil, err
	}
	chart, err := s.homeChart(ctx)
	if err != nil {
		return nil, err
	}
	v := newView(f, dir)
	p := &HomePage{
		Page: Page{Title: "Recaudo municipal", Description: "Recaudo de impuestos municipales de Colombia, con datos abiertos y verificables.",
			Demo: s.o.Demo, Engine: s.o.Engine, Charts: []*Chart{chart}, Nav: nav("", f)},
		Summary:    *sum,
		K:          s.o.K,
		Dashboards: nav("", f),
		Blurbs:     blurbs,
	}
	yrs, err := recaudoYears(ctx, s)
	if err != nil {
		return nil, err
	}
	p.Form = s.form("/", useMunicipio|useAnio|useImpuesto, v, yrs)
	p.FiguresTitle, p.Figures, err = summaryFigures(ctx, s, v)
	if err != nil {
		return nil, err
	}
	html, err := render(homeTmpl, p)
	if err != nil {
		return nil, err
	}
	return NewBody("text/html; charset=utf-8", html), nil
}

// summary is the home page's headline counts, from the same aggregates as
// the charts (committed data only).
func (s *Site) summary(ctx context.Context, dir *Directory) (*Summary, error) {
	vig, err := s.vigencias(ctx)
	if err != nil {
		return nil, err
	}
	ms, err := s.months(ctx)
	if err != nil {
		return nil, err
	}
	var liq, pay uint64
	withData := map[string]bool{}
	for _, c := range vig {
		liq += c.Liquidations
		withData[c.Muni] = true
	}
	for _, c := range ms {
		pay += c.Payments
		withData[c.Muni] = true
	}
	res, err := s.query(ctx, "dash_ultima_carga")
	if err != nil {
		return nil, err
	}
	last := "todavía no hay cargas"
	if r := newRows(res); len(res.Rows) > 0 && r.u64(0, "cargas") > 0 {
		last = Date(r.time(0, "ultima").In(s.bogota))
	}
	return &Summary{
		Liquidations:           Number(int64(liq)),
		Payments:               Number(int64(pay)),
		Municipalities:         Number(int64(dir.Len())),
		MunicipalitiesWithData: Number(int64(len(withData))),
		LastLoad:               last,
	}, nil
}

// HomeChartJSON serves the home chart's option (/graficos/recaudo-mensual.json).
func (s *Site) HomeChartJSON(ctx context.Context) *Response {
	return s.answer(ctx, s.homeChartJSON)
}

func (s *Site) homeChartJSON(ctx context.Context) *Response {
	s.checkStamp(ctx)
	c, err := s.homeChart(ctx)
	if err != nil {
		return s.failure(err)
	}
	return s.respond(http.StatusOK, c.json)
}

// homeChart is the monthly collections of the municipalities with the most
// collected, one line each, summed over taxes.
func (s *Site) homeChart(ctx context.Context) (*Chart, error) {
	return loaded(ctx, s, "grafico-inicio", func(ctx context.Context) (*Chart, error) {
		cells, err := s.months(ctx)
		if err != nil {
			return nil, err
		}
		dir, err := s.directory(ctx)
		if err != nil {
			return nil, err
		}
		type key struct {
			m    time.Time
			code string
		}
		sums := map[key]*acc{}
		totals := map[string]decimal.Decimal{}
		monthSet := map[time.Time]bool{}
		withheld := 0
		for _, c := range cells {
			k := key{c.Month, c.Muni}
			if sums[k] == nil {
				sums[k] = &acc{}
			}
			sums[k].add(c.Collected)
			if c.Collected != nil {
				totals[c.Muni] = totals[c.Muni].Add(*c.Collected)
			} else {
				withheld++
			}
			monthSet[c.Month] = true
		}
		codes := make([]string, 0, len(totals))
		for c := range totals {
			codes = append(codes, c)
		}
		sort.Slice(codes, func(i, j int) bool {
			if !totals[codes[i]].Equal(totals[codes[j]]) {
				return totals[codes[i]].GreaterThan(totals[codes[j]])
			}
			return codes[i] < codes[j]
		})
		const maxLines = 8
		cut := 0
		if len(codes) > maxLines {
			cut, codes = len(codes)-maxLines, codes[:maxLines]
		}
		sort.Strings(codes)
		months := sortedKeys(monthSet, func(a, b time.Time) bool { return a.Before(b) })
		x := &xyChart{
			ID: "recaudo-mensual", Title: "Recaudo mensual por municipio",
			Subtitle:  "Pesos corrientes, todos los impuestos",
			Caption:   "Recaudo mensual por municipio (pesos corrientes, suma de todos los impuestos)",
			CatHeader: "Mes", CatColumn: "mes",
			Axes: []valueAxis{{Name: "Pesos", Format: fmtPesos}},
		}
		for _, m := range months {
			x.Cats = append(x.Cats, ShortMonth(m))
			x.CatNames = append(x.CatNames, Month(m))
			x.CatRaw = append(x.CatRaw, m.Format("2006-01"))
		}
		for _, code := range codes {
			sv := serie{Name: dir.Name(code) + " (" + code + ")", Column: "recaudo_" + code, Kind: "line", Format: fmtPesos, Missing: "sin dato"}
			for _, m := range months {
				if a := sums[key{m, code}]; a != nil {
					sv.Values = append(sv.Values, a.value())
				} else {
					sv.Values = append(sv.Values, nil)
				}
			}
			x.Series = append(x.Series, sv)
		}
		if n := withheldNote(withheld, s.o.K, "mes, municipio, impuesto"); n != "" {
			x.Notes = append(x.Notes, n)
		}
		if cut > 0 {
			x.Notes = append(x.Notes, "Se muestran los "+Number(maxLines)+" municipios con más recaudo; los demás están en el tablero de recaudo.")
		}
		c, err := x.build()
		if err != nil {
			return nil, err
		}
		c.Subtitle = "Lo que cada municipio recaudó mes a mes, según los pagos registrados."
		c.OptionURL = "/graficos/recaudo-mensual.json"
		c.DataURL = "/datos/recaudo-mensual.csv"
		c.ImageName = "recaudo-mensual.png"
		c.json = NewBody("application/json; charset=utf-8", c.Option)
		return c, nil
	})
}
