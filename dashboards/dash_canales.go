package dashboards

import (
	"context"
	"strconv"
	"strings"
	"time"
)

var canalesDash = &dashDef{
	ID:    "canales",
	Nav:   "Canales",
	Title: "Canales: pagos y declaraciones en línea y presenciales",
	Lead:  "Cuántos pagos y declaraciones se hicieron por internet y cuántos en ventanilla o en el banco, trimestre a trimestre.",
	Intro: []string{
		"Un pago es electrónico cuando se hizo por el portal web del municipio, por PSE o con tarjeta de crédito; es presencial cuando se pagó en ventanilla o en un banco con el recibo impreso. Una declaración es en línea cuando el contribuyente la presentó en el portal, sin ir a la alcaldía.",
		"El impuesto predial no se declara: el municipio lo factura. Por eso las declaraciones solo cuentan ICA y ReteICA.",
	},
	Method: []string{
		"Pagos: registros de pago agrupados por el trimestre en que se pagaron, el impuesto y el canal que informa la fuente. Declaraciones: liquidaciones de ICA y ReteICA agrupadas por el trimestre de su fecha de presentación y el canal de radicación.",
		"Los conteos se publican siempre; los montos, solo si detrás hay al menos 5 contribuyentes distintos (reserva tributaria).",
		"Como referencia, el informe de gestión TIC 2020 de Bucaramanga reporta para el tercer trimestre de 2020 6.263 pagos electrónicos (ICA 1.727; predial 2.960; ReteICA 1.576) y 5.638 declaraciones presentadas en línea (ICA 250; ReteICA 5.388). Con los datos de la alcaldía cargados, esas cifras se leen en estas gráficas eligiendo Bucaramanga y 2020.",
	},
	Use: useAll,
	Charts: []*chartDef{
		{ID: "pagos", Use: useAll, Build: canalesPagos},
		{ID: "declaraciones", Use: useAll, Build: canalesDeclaraciones},
		{ID: "medios", Use: useAll, Build: canalesMedios},
	},
	Years:   canalesYears,
	Figures: summaryFigures,
}

// channelGroup classifies a payment channel.
func channelGroup(c string) string {
	switch strings.ToLower(strings.TrimSpace(c)) {
	case "web", "pse", "tarjeta", "electronico", "electrónico", "en_linea", "en línea", "online", "app":
		return "electronico"
	case "banco", "presencial", "ventanilla", "efectivo", "oficina":
		return "presencial"
	}
	return "otro"
}

var channelNames = map[string]string{
	"web": "Portal web", "pse": "PSE", "tarjeta": "Tarjeta de crédito", "banco": "Banco (recibo impreso)", "presencial": "Ventanilla",
}

var channelOrder = []string{"web", "pse", "tarjeta", "banco", "presencial"}

func channelName(c string) string {
	if n, ok := channelNames[c]; ok {
		return n
	}
	return c
}

func canalesYears(ctx context.Context, s *Site) ([]int, error) {
	ch, err := s.channels(ctx)
	if err != nil {
		return nil, err
	}
	fi, err := s.filings(ctx)
	if err != nil {
		return nil, err
	}
	return years(func(add func(int)) {
		for _, c := range ch {
			add(c.Quarter.Year())
		}
		for _, c := range fi {
			add(c.Quarter.Year())
		}
	}), nil
}

func canalesPagos(ctx context.Context, s *Site, v *view) (*Chart, error) {
	cells, err := s.channels(ctx)
	if err != nil {
		return nil, err
	}
	type key struct {
		q          time.Time
		group, tax string
	}
	counts := map[key]uint64{}
	qs, taxSet := map[time.Time]bool{}, map[string]bool{}
	hasOther := false
	for _, c := range cells {
		if !v.muni(c.Muni) || !v.tax(c.Tax) || !v.year(c.Quarter.Year()) {
			continue
		}
		g := channelGroup(c.Chn)
		counts[key{c.Quarter, g, c.Tax}] += c.Count
		qs[c.Quarter], taxSet[c.Tax] = true, true
		hasOther = hasOther || g == "otro"
	}
	quarters := sortedKeys(qs, func(a, b time.Time) bool { return a.Before(b) })
	taxes := orderedTaxes(taxSet)
	x := &xyChart{
		ID: "pagos", Title: "Pagos electrónicos y presenciales por trimestre" + v.where(),
		Subtitle:  "Número de pagos; " + v.scope(),
		Caption:   "Pagos por trimestre y canal: electrónicos (web, PSE, tarjeta) por impuesto, y presenciales (" + v.scope() + ")",
		CatHeader: "Trimestre", CatColumn: "trimestre",
		Axes:    []valueAxis{{Name: "Pagos", Format: fmtNumero}},
		Context: v.context(),
	}
	labels := len(quarters) <= 8 // few bars: the values fit on them
	var series []serie
	for _, t := range taxes {
		series = append(series, serie{Name: "Electrónicos · " + TaxName(t), Column: "electronicos_" + t, Stack: "electronicos", Format: fmtNumero, Label: labels})
	}
	totalE := serie{Name: "Total electrónicos", Column: "electronicos_total", Kind: "line", Format: fmtNumero, Label: true}
	pres := serie{Name: "Presenciales", Column: "presenciales", Stack: "presenciales", Format: fmtNumero, Label: labels}
	other := serie{Name: "Otros canales", Column: "otros_canales", Stack: "presenciales", Format: fmtNumero, Label: labels}
	share := serie{Name: "% electrónicos", Column: "electronicos_pct", Format: fmtPorcentaje, TableOnly: true, Missing: "—"}
	for _, q := range quarters {
		x.Cats = append(x.Cats, ShortQuarter(q))
		x.CatNames = append(x.CatNames, Quarter(q))
		x.CatRaw = append(x.CatRaw, q.Format("2006-01-02"))
		var e, p, o uint64
		for i, t := range taxes {
			n := counts[key{q, "electronico", t}]
			series[i].Values = append(series[i].Values, decN(n))
			e += n
			p += counts[key{q, "presencial", t}]
			o += counts[key{q, "otro", t}]
		}
		totalE.Values = append(totalE.Values, decN(e))
		pres.Values = append(pres.Values, decN(p))
		other.Values = append(other.Values, decN(o))
		share.Values = append(share.Values, pct(decN(e), decN(e+p+o)))
	}
	series = append(series, totalE, pres)
	if hasOther {
		series = append(series, other)
	}
	x.Series = append(series, share)
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Dos columnas por trimestre: a la izquierda los pagos electrónicos, con un tramo por impuesto; a la derecha los presenciales. La línea marca el total de pagos electrónicos; la tabla da además su porcentaje."}
	return c, nil
}

func canalesDeclaraciones(ctx context.Context, s *Site, v *view) (*Chart, error) {
	if v.f.Impuesto == "predial" {
		return &Chart{ID: "declaraciones", Title: "Declaraciones en línea y presenciales por trimestre",
			Empty: "El impuesto predial no se declara: el municipio lo factura. Elija ICA, ReteICA o todos los impuestos para ver las declaraciones."}, nil
	}
	cells, err := s.filings(ctx)
	if err != nil {
		return nil, err
	}
	type key struct {
		q        time.Time
		chn, tax string
	}
	counts := map[key]uint64{}
	qs, taxSet := map[time.Time]bool{}, map[string]bool{}
	for _, c := range cells {
		if c.Tax == "predial" || !v.muni(c.Muni) || !v.tax(c.Tax) || !v.year(c.Quarter.Year()) {
			continue
		}
		chn := "otro"
		switch strings.ToLower(c.Chn) {
		case "web", "en_linea", "en línea", "electronico", "electrónico":
			chn = "web"
		case "presencial", "ventanilla":
			chn = "presencial"
		}
		counts[key{c.Quarter, chn, c.Tax}] += c.Count
		qs[c.Quarter], taxSet[c.Tax] = true, true
	}
	quarters := sortedKeys(qs, func(a, b time.Time) bool { return a.Before(b) })
	taxes := orderedTaxes(taxSet)
	x := &xyChart{
		ID: "declaraciones", Title: "Declaraciones en línea y presenciales por trimestre" + v.where(),
		Subtitle:  "ICA y ReteICA, número de declaraciones; " + v.scope(),
		Caption:   "Declaraciones de ICA y ReteICA por trimestre de presentación y canal (" + v.scope() + ")",
		CatHeader: "Trimestre", CatColumn: "trimestre",
		Axes:    []valueAxis{{Name: "Declaraciones", Format: fmtNumero}},
		Context: v.context(),
	}
	labels := len(quarters) <= 8
	var series []serie
	for _, t := range taxes {
		series = append(series, serie{Name: "En línea · " + TaxName(t), Column: "en_linea_" + t, Stack: "en_linea", Format: fmtNumero, Label: labels})
	}
	totalW := serie{Name: "Total en línea", Column: "en_linea_total", Kind: "line", Format: fmtNumero, Label: true}
	pres := serie{Name: "Presenciales", Column: "presenciales", Stack: "presenciales", Format: fmtNumero, Label: labels}
	other := serie{Name: "Canal no informado", Column: "otro_canal", Stack: "presenciales", Format: fmtNumero, TableOnly: true}
	share := serie{Name: "% en línea", Column: "en_linea_pct", Format: fmtPorcentaje, TableOnly: true, Missing: "—"}
	for _, q := range quarters {
		x.Cats = append(x.Cats, ShortQuarter(q))
		x.CatNames = append(x.CatNames, Quarter(q))
		x.CatRaw = append(x.CatRaw, q.Format("2006-01-02"))
		var w, p, o uint64
		for i, t := range taxes {
			n := counts[key{q, "web", t}]
			series[i].Values = append(series[i].Values, decN(n))
			w += n
			p += counts[key{q, "presencial", t}]
			o += counts[key{q, "otro", t}]
		}
		totalW.Values = append(totalW.Values, decN(w))
		pres.Values = append(pres.Values, decN(p))
		other.Values = append(other.Values, decN(o))
		share.Values = append(share.Values, pct(decN(w), decN(w+p+o)))
	}
	x.Series = append(series, totalW, pres, other, share)
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Dos columnas por trimestre: las declaraciones presentadas en línea, con un tramo por impuesto, y las presentadas en ventanilla. La línea marca el total en línea."}
	return c, nil
}

func canalesMedios(ctx context.Context, s *Site, v *view) (*Chart, error) {
	cells, err := s.channels(ctx)
	if err != nil {
		return nil, err
	}
	type key struct {
		y   int
		chn string
	}
	sums := map[key]*acc{}
	counts := map[key]uint64{}
	ys, chs := map[int]bool{}, map[string]bool{}
	withheld := 0
	for _, c := range cells {
		if !v.muni(c.Muni) || !v.tax(c.Tax) || !v.year(c.Quarter.Year()) {
			continue
		}
		k := key{c.Quarter.Year(), c.Chn}
		if sums[k] == nil {
			sums[k] = &acc{}
		}
		sums[k].add(c.Amount)
		counts[k] += c.Count
		if c.Amount == nil {
			withheld++
		}
		ys[k.y], chs[c.Chn] = true, true
	}
	yrs := sortedKeys(ys, func(a, b int) bool { return a < b })
	var chans []string
	for _, c := range channelOrder {
		if chs[c] {
			chans = append(chans, c)
			delete(chs, c)
		}
	}
	rest := sortedKeys(chs, func(a, b string) bool { return a < b })
	chans = append(chans, rest...)
	x := &xyChart{
		ID: "medios", Title: "Valor pagado por medio de pago y año" + v.where(),
		Subtitle:  "Pesos corrientes; " + v.scope(),
		Caption:   "Valor pagado por año de pago y medio de pago, en pesos (" + v.scope() + ")",
		CatHeader: "Año", CatColumn: "anio",
		Axes:    []valueAxis{{Name: "Pesos", Format: fmtPesos}},
		Context: v.context(),
	}
	var countSeries []serie
	for _, ch := range chans {
		sv := serie{Name: channelName(ch), Column: "valor_" + columnName(ch), Stack: "valor", Format: fmtPesos}
		nv := serie{Name: "Pagos por " + channelName(ch), Column: "pagos_" + columnName(ch), Format: fmtNumero, TableOnly: true}
		for _, y := range yrs {
			k := key{y, ch}
			if a := sums[k]; a != nil {
				sv.Values = append(sv.Values, a.value())
			} else {
				sv.Values = append(sv.Values, decN(0))
			}
			nv.Values = append(nv.Values, decN(counts[k]))
		}
		x.Series = append(x.Series, sv)
		countSeries = append(countSeries, nv)
	}
	x.Series = append(x.Series, countSeries...)
	for _, y := range yrs {
		x.Cats = append(x.Cats, strconv.Itoa(y))
	}
	if n := withheldNote(withheld, s.o.K, "trimestre, municipio, impuesto, medio de pago"); n != "" {
		x.Notes = append(x.Notes, n)
	}
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Cada barra es un año; sus tramos son los medios de pago. Web, PSE y tarjeta son electrónicos; banco y ventanilla, presenciales."}
	return c, nil
}

// columnName makes a CSV-safe column suffix from a source's value.
func columnName(s string) string {
	s = normalize(s)
	s = strings.ReplaceAll(s, " ", "_")
	if s == "" {
		return "sin_nombre"
	}
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}
