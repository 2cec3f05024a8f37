package dashboards

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

var recaudoDash = &dashDef{
	ID:    "recaudo",
	Nav:   "Recaudo",
	Title: "Recaudo: lo facturado y lo recaudado",
	Lead:  "Cuánto facturó y cuánto recaudó cada municipio por impuesto predial, industria y comercio (ICA) y ReteICA, mes a mes y año a año.",
	Intro: []string{
		"Lo facturado es la suma de las liquidaciones de cada vigencia (el año gravable). Lo recaudado es la suma de los pagos registrados. La tasa de recaudo divide lo recaudado de una vigencia entre lo facturado de esa misma vigencia.",
		"Elija un municipio, un año y un impuesto: la dirección de la página cambia y puede compartirla.",
	},
	Method: []string{
		"Las liquidaciones y los pagos vienen de las fuentes de cada municipio, cargadas por el ETL del observatorio; solo cuentan las cargas confirmadas. Los montos son pesos corrientes, sin ajustar por inflación.",
		"Recaudo mensual: pagos agrupados por el mes en que se pagaron (de cualquier vigencia). Facturado y recaudado por vigencia: liquidaciones y pagos agrupados por año gravable.",
		"Reserva tributaria (Estatuto Tributario, arts. 583 a 587): ningún monto se publica si detrás hay menos de 5 contribuyentes distintos; esas celdas aparecen como «reservado» y no entran en las sumas.",
	},
	Use: useAll,
	Charts: []*chartDef{
		{ID: "vigencias", Use: useMunicipio | useImpuesto, Build: recaudoVigencias},
		{ID: "mensual", Use: useAll, Build: recaudoMensual},
		{ID: "municipios", Use: useAnio | useImpuesto, Build: recaudoMunicipios},
	},
	Years:   recaudoYears,
	Figures: summaryFigures,
}

func recaudoYears(ctx context.Context, s *Site) ([]int, error) {
	vig, err := s.vigencias(ctx)
	if err != nil {
		return nil, err
	}
	ms, err := s.months(ctx)
	if err != nil {
		return nil, err
	}
	return years(func(add func(int)) {
		for _, c := range vig {
			add(c.Year)
		}
		for _, c := range ms {
			add(c.Month.Year())
		}
	}), nil
}

func recaudoVigencias(ctx context.Context, s *Site, v *view) (*Chart, error) {
	cells, err := s.vigencias(ctx)
	if err != nil {
		return nil, err
	}
	type agg struct {
		billed, coll acc
		liq, pay     uint64
	}
	by := map[int]*agg{}
	withheld := 0
	for _, c := range cells {
		if !v.muni(c.Muni) || !v.tax(c.Tax) {
			continue
		}
		a := by[c.Year]
		if a == nil {
			a = &agg{}
			by[c.Year] = a
		}
		a.billed.add(c.Billed)
		a.coll.add(c.Collected)
		a.liq += c.Liquidations
		a.pay += c.Payments
		if c.Billed == nil {
			withheld++
		}
		if c.Collected == nil {
			withheld++
		}
	}
	yrs := make([]int, 0, len(by))
	for y := range by {
		yrs = append(yrs, y)
	}
	sort.Ints(yrs)
	x := &xyChart{
		ID: "vigencias", Title: "Facturado y recaudado por vigencia" + v.where(),
		Subtitle:  "Pesos corrientes; " + v.scope(),
		Caption:   "Facturado, recaudado y tasa de recaudo por vigencia (" + v.scope() + ")",
		CatHeader: "Vigencia", CatColumn: "vigencia",
		Axes:    []valueAxis{{Name: "Pesos", Format: fmtPesos}, {Name: "Tasa de recaudo", Format: fmtPorcentaje}},
		Context: v.context(),
	}
	billed := serie{Name: "Facturado", Column: "facturado", Format: fmtPesos}
	coll := serie{Name: "Recaudado", Column: "recaudado", Format: fmtPesos}
	rate := serie{Name: "Tasa de recaudo", Column: "tasa_recaudo_pct", Kind: "line", Axis: 1, Format: fmtPorcentaje, Missing: "no calculable", Label: true}
	liq := serie{Name: "Liquidaciones", Column: "liquidaciones", Format: fmtNumero, TableOnly: true}
	pay := serie{Name: "Pagos", Column: "pagos", Format: fmtNumero, TableOnly: true}
	for _, y := range yrs {
		a := by[y]
		x.Cats = append(x.Cats, strconv.Itoa(y))
		billed.Values = append(billed.Values, a.billed.value())
		coll.Values = append(coll.Values, a.coll.value())
		rate.Values = append(rate.Values, pct(a.coll.complete(), a.billed.complete()))
		liq.Values = append(liq.Values, decN(a.liq))
		pay.Values = append(pay.Values, decN(a.pay))
	}
	x.Series = []serie{billed, coll, rate, liq, pay}
	if n := withheldNote(withheld, s.o.K, "vigencia, municipio, impuesto"); n != "" {
		x.Notes = append(x.Notes, n, "La tasa de recaudo no se calcula para una vigencia con celdas reservadas.")
	}
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Barras: lo facturado y lo recaudado de cada vigencia. Línea (eje derecho): la tasa de recaudo, recaudado ÷ facturado × 100. Una tasa baja indica facturas sin pagar; puede pasar de 100 % si se pagan intereses o sanciones."}
	return c, nil
}

func recaudoMensual(ctx context.Context, s *Site, v *view) (*Chart, error) {
	cells, err := s.months(ctx)
	if err != nil {
		return nil, err
	}
	type key struct {
		m   time.Time
		tax string
	}
	sums := map[key]*acc{}
	monthSet, taxSet := map[time.Time]bool{}, map[string]bool{}
	withheld := 0
	for _, c := range cells {
		if !v.muni(c.Muni) || !v.tax(c.Tax) || !v.year(c.Month.Year()) {
			continue
		}
		k := key{c.Month, c.Tax}
		if sums[k] == nil {
			sums[k] = &acc{}
		}
		sums[k].add(c.Collected)
		if c.Collected == nil {
			withheld++
		}
		monthSet[c.Month], taxSet[c.Tax] = true, true
	}
	months := sortedKeys(monthSet, func(a, b time.Time) bool { return a.Before(b) })
	taxes := orderedTaxes(taxSet)
	x := &xyChart{
		ID: "mensual", Title: "Recaudo mensual por impuesto" + v.where(),
		Subtitle:  "Pagos registrados por mes de pago; " + v.scope(),
		Caption:   "Recaudo por mes de pago e impuesto, en pesos (" + v.scope() + ")",
		CatHeader: "Mes", CatColumn: "mes",
		Axes:    []valueAxis{{Name: "Pesos", Format: fmtPesos}},
		Context: v.context(),
	}
	total := serie{Name: "Total del mes", Column: "recaudo_total", Format: fmtPesos, TableOnly: true}
	series := make([]serie, len(taxes))
	for i, t := range taxes {
		series[i] = serie{Name: TaxName(t), Column: "recaudo_" + t, Stack: "recaudo", Format: fmtPesos, Missing: "reservado"}
	}
	for _, m := range months {
		x.Cats = append(x.Cats, ShortMonth(m))
		x.CatNames = append(x.CatNames, Month(m))
		x.CatRaw = append(x.CatRaw, m.Format("2006-01"))
		var tot acc
		for i, t := range taxes {
			a := sums[key{m, t}]
			if a == nil {
				zero := decimal.Zero
				series[i].Values = append(series[i].Values, &zero)
				continue
			}
			series[i].Values = append(series[i].Values, a.value())
			tot.sum = tot.sum.Add(a.sum)
			tot.any = tot.any || a.any
		}
		total.Values = append(total.Values, tot.value())
	}
	x.Series = append(series, total)
	if n := withheldNote(withheld, s.o.K, "mes, municipio, impuesto"); n != "" {
		x.Notes = append(x.Notes, n)
	}
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Cada barra es un mes; sus tramos son los impuestos. Cuenta el dinero que entró ese mes, sea cual sea la vigencia que se pagó."}
	return c, nil
}

func recaudoMunicipios(ctx context.Context, s *Site, v *view) (*Chart, error) {
	cells, err := s.vigencias(ctx)
	if err != nil {
		return nil, err
	}
	year := v.f.Anio
	if year == 0 {
		for _, c := range cells {
			if v.tax(c.Tax) && c.Year > year && c.Liquidations > 0 {
				year = c.Year
			}
		}
	}
	type agg struct{ billed, coll acc }
	by := map[string]*agg{}
	withheld := 0
	for _, c := range cells {
		if c.Year != year || !v.tax(c.Tax) {
			continue
		}
		a := by[c.Muni]
		if a == nil {
			a = &agg{}
			by[c.Muni] = a
		}
		a.billed.add(c.Billed)
		a.coll.add(c.Collected)
		if c.Billed == nil || c.Collected == nil {
			withheld++
		}
	}
	type row struct {
		code         string
		rate         *decimal.Decimal
		billed, coll *decimal.Decimal
	}
	var rs []row
	for code, a := range by {
		rs = append(rs, row{code, pct(a.coll.complete(), a.billed.complete()), a.billed.value(), a.coll.value()})
	}
	sort.Slice(rs, func(i, j int) bool {
		ri, rj := rs[i].rate, rs[j].rate
		switch {
		case ri == nil && rj == nil:
			return rs[i].code < rs[j].code
		case ri == nil:
			return false
		case rj == nil:
			return true
		case !ri.Equal(*rj):
			return ri.GreaterThan(*rj)
		}
		return rs[i].code < rs[j].code
	})
	const maxRows = 60
	cut := 0
	if len(rs) > maxRows {
		cut = len(rs) - maxRows
		rs = rs[:maxRows]
	}
	scope := "todos los impuestos"
	if v.f.Impuesto != "" {
		scope = TaxName(v.f.Impuesto)
	}
	yearText := strconv.Itoa(year)
	if year == 0 {
		yearText = "sin datos"
	}
	x := &xyChart{
		ID: "municipios", Title: "Tasa de recaudo por municipio, vigencia " + yearText,
		Subtitle:  "Recaudado ÷ facturado × 100; " + scope,
		Caption:   "Tasa de recaudo por municipio, vigencia " + yearText + " (" + scope + "), de mayor a menor",
		CatHeader: "Municipio", CatColumn: "codigo_municipio",
		Horizontal: true,
		Axes:       []valueAxis{{Name: "%", Format: fmtPorcentaje}},
		Context:    append([][2]string{{"vigencia", strconv.Itoa(year)}}, contextTax(v)...),
	}
	rate := serie{Name: "Tasa de recaudo", Column: "tasa_recaudo_pct", Format: fmtPorcentaje, Missing: "no calculable"}
	billed := serie{Name: "Facturado", Column: "facturado", Format: fmtPesos, TableOnly: true}
	coll := serie{Name: "Recaudado", Column: "recaudado", Format: fmtPesos, TableOnly: true}
	for _, r := range rs {
		x.Cats = append(x.Cats, v.dir.Name(r.code))
		x.CatRaw = append(x.CatRaw, r.code)
		rate.Values = append(rate.Values, r.rate)
		billed.Values = append(billed.Values, r.billed)
		coll.Values = append(coll.Values, r.coll)
	}
	x.Series = []serie{rate, billed, coll}
	if n := withheldNote(withheld, s.o.K, "municipio, impuesto"); n != "" {
		x.Notes = append(x.Notes, n)
	}
	if cut > 0 {
		x.Notes = append(x.Notes, "Se muestran los "+strconv.Itoa(maxRows)+" municipios con la tasa más alta; faltan "+Number(int64(cut))+".")
	}
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Compara la tasa de recaudo de los municipios con datos en una misma vigencia (la elegida, o la más reciente). Úsela para ver cómo le va a su municipio frente a los demás."}
	return c, nil
}

func contextTax(v *view) [][2]string {
	if v.f.Impuesto == "" {
		return nil
	}
	return [][2]string{{"impuesto", v.f.Impuesto}}
}

// orderedTaxes puts the known taxes first, in their order, then any other
// code a source brought.
func orderedTaxes(set map[string]bool) []string {
	var out []string
	for _, t := range Taxes {
		if set[t.Code] {
			out = append(out, t.Code)
		}
	}
	var rest []string
	for t := range set {
		if !taxKnown(t) {
			rest = append(rest, t)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// summaryFigures answer the citizen's three questions for the selection:
// how much was collected last year, how much of it online, and whether the
// bills match the rules.
func summaryFigures(ctx context.Context, s *Site, v *view) (string, []Figure, error) {
	months, err := s.months(ctx)
	if err != nil {
		return "", nil, err
	}
	year := v.f.Anio
	if year == 0 {
		for _, c := range months {
			if v.muni(c.Muni) && v.tax(c.Tax) && c.Month.Year() > year {
				year = c.Month.Year()
			}
		}
	}
	who := "todos los municipios con datos"
	if v.ent != nil {
		who = v.ent.Display
	}
	if year == 0 {
		return "En resumen: " + who, []Figure{{Label: "Sin datos", Value: "—", Note: "Todavía no hay pagos cargados para esta selección."}}, nil
	}
	ys := strconv.Itoa(year)
	links := Filters{Municipio: v.f.Municipio, Anio: year, Impuesto: v.f.Impuesto}
	title := "En resumen: " + who + ", " + ys
	if v.f.Anio == 0 {
		title += " (el año más reciente con datos)"
	}
	if v.f.Impuesto != "" {
		title += ", " + TaxName(v.f.Impuesto)
	}
	var figs []Figure

	// 1. Collected in the year.
	var coll acc
	var nPay uint64
	for _, c := range months {
		if v.muni(c.Muni) && v.tax(c.Tax) && c.Month.Year() == year {
			coll.add(c.Collected)
			nPay += c.Payments
		}
	}
	f1 := Figure{Label: "Recaudado en " + ys, Value: "reservado", Link: links.withQuery("/tableros/recaudo"), LinkText: "Ver el recaudo"}
	if val := coll.value(); val != nil {
		f1.Value = Pesos(*val)
	}
	f1.Note = Number(int64(nPay)) + " pagos recibidos entre enero y diciembre de " + ys + ", de todas las vigencias."
	if coll.withheld > 0 {
		f1.Note += " Sin contar " + Number(int64(coll.withheld)) + " " + plural(coll.withheld, "celda reservada", "celdas reservadas") + "."
	}
	figs = append(figs, f1)

	// 2. Online.
	chans, err := s.channels(ctx)
	if err != nil {
		return "", nil, err
	}
	var online, all uint64
	var onlineAmt, allAmt acc
	for _, c := range chans {
		if !v.muni(c.Muni) || !v.tax(c.Tax) || c.Quarter.Year() != year {
			continue
		}
		all += c.Count
		allAmt.add(c.Amount)
		if channelGroup(c.Chn) == "electronico" {
			online += c.Count
			onlineAmt.add(c.Amount)
		}
	}
	f2 := Figure{Label: "Pagos en línea en " + ys, Value: "sin pagos", Link: links.withQuery("/tableros/canales"), LinkText: "Ver los canales"}
	if p := pct(decN(online), decN(all)); p != nil {
		f2.Value = Percent(*p)
		f2.Note = Number(int64(online)) + " de " + Number(int64(all)) + " pagos se hicieron por el portal web, PSE o tarjeta"
		if a, b := onlineAmt.complete(), allAmt.complete(); a != nil && b != nil {
			f2.Note += ", por " + Pesos(*a) + " de " + Pesos(*b)
		}
		f2.Note += "."
	}
	figs = append(figs, f2)

	// 3. Bills that match the rules.
	ver, err := s.verification(ctx)
	if err != nil {
		return "", nil, err
	}
	var ok, disc, pending, other uint64
	for _, c := range ver {
		if !v.muni(c.Muni) || !v.tax(c.Tax) || c.Year != year {
			continue
		}
		switch c.Status {
		case "match", "rounding":
			ok += c.Liquidations
		case "discrepancy":
			disc += c.Liquidations
		case "pending":
			pending += c.Liquidations
		default:
			other += c.Liquidations
		}
	}
	f3 := Figure{Label: "Liquidaciones de la vigencia " + ys + " que cumplen las reglas", Link: links.withQuery("/tableros/verificacion"), LinkText: "Ver la verificación"}
	if p := pct(decN(ok), decN(ok+disc)); p != nil {
		f3.Value = Percent(*p)
		f3.Note = Number(int64(ok)) + " coinciden con lo que dice la norma y " + Number(int64(disc)) + " tienen diferencias, de " + Number(int64(ok+disc)) + " verificadas."
		if pending+other > 0 {
			f3.Note += " " + Number(int64(pending+other)) + " no se han podido verificar todavía."
		}
	} else {
		f3.Value = "sin verificar"
		f3.Note = Number(int64(pending+other)) + " liquidaciones de esta vigencia esperan que el observatorio las recalcule."
	}
	figs = append(figs, f3)

	// 4. Collection rate of the tax year.
	vig, err := s.vigencias(ctx)
	if err != nil {
		return "", nil, err
	}
	var billed, paid acc
	for _, c := range vig {
		if v.muni(c.Muni) && v.tax(c.Tax) && c.Year == year {
			billed.add(c.Billed)
			paid.add(c.Collected)
		}
	}
	f4 := Figure{Label: "Tasa de recaudo de la vigencia " + ys, Value: "no calculable", Link: links.withQuery("/tableros/recaudo"), LinkText: "Ver por vigencia"}
	if p := pct(paid.complete(), billed.complete()); p != nil {
		f4.Value = Percent(*p)
		f4.Note = Pesos(*paid.complete()) + " recaudados de " + Pesos(*billed.complete()) + " facturados para " + ys + "."
	} else if billed.withheld+paid.withheld > 0 {
		f4.Note = "Hay celdas reservadas en esta vigencia."
	}
	figs = append(figs, f4)
	return title, figs, nil
}
