package dashboards

import (
	"context"
	"sort"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/datasets"
)

var verificacionDash = &dashDef{
	ID:    "verificacion",
	Nav:   "Verificación",
	Title: "Verificación: ¿las facturas cumplen las reglas?",
	Lead:  "Qué parte de las liquidaciones coincide con lo que dicen la ley y los acuerdos municipales, y dónde están las diferencias.",
	Intro: []string{
		"El observatorio vuelve a calcular cada liquidación publicada con las tarifas, descuentos, intereses y sanciones vigentes (su motor de liquidación cita el artículo de cada regla) y compara el resultado con lo que el municipio facturó.",
		"Coincide: el valor facturado es el que da la norma. Solo redondeo: difiere por el redondeo a miles (Estatuto Tributario, art. 577). Discrepancia: hay una diferencia mayor. No verificable: falta una regla o un dato para recalcularla. Pendiente: aún no se ha recalculado.",
	},
	Method: []string{
		"Cobrado de más: suma de (facturado − calculado) donde lo facturado supera lo calculado. Cobrado de menos: suma de (calculado − facturado) donde es menor. Los porcentajes de cumplimiento se calculan sobre las liquidaciones verificadas (coincide, solo redondeo y discrepancia).",
		"Reserva tributaria: los montos con menos de 5 contribuyentes distintos detrás no se publican; los conteos sí.",
	},
	Use: useAll,
	Charts: []*chartDef{
		{ID: "estado", Use: useMunicipio | useAnio, Build: verificacionEstado},
		{ID: "discrepancias", Use: useAll, Build: verificacionDiscrepancias},
		{ID: "vigencias", Use: useMunicipio | useImpuesto, Build: verificacionVigencias},
	},
	Years: func(ctx context.Context, s *Site) ([]int, error) {
		ver, err := s.verification(ctx)
		if err != nil {
			return nil, err
		}
		return years(func(add func(int)) {
			for _, c := range ver {
				add(c.Year)
			}
		}), nil
	},
	Figures: summaryFigures,
	Extra:   verificacionExtra,
}

// VerificationDataset is the id of the published record-level verification
// dataset the dashboard links to.
const VerificationDataset = "verificacion"

var statuses = []struct{ Code, Name, Column string }{
	{"match", "Coincide con la norma", "coincide"},
	{"rounding", "Difiere solo por redondeo", "solo_redondeo"},
	{"discrepancy", "Discrepancia", "discrepancia"},
	{"unverifiable", "No verificable", "no_verificable"},
	{"pending", "Pendiente de verificar", "pendiente"},
}

func statusIndex(code string) int {
	for i, s := range statuses {
		if s.Code == code {
			return i
		}
	}
	return 3 // anything else the core cannot classify is "unverifiable"
}

func verificacionEstado(ctx context.Context, s *Site, v *view) (*Chart, error) {
	cells, err := s.verification(ctx)
	if err != nil {
		return nil, err
	}
	counts := map[string][]uint64{}
	taxSet := map[string]bool{}
	all := make([]uint64, len(statuses))
	for _, c := range cells {
		if !v.muni(c.Muni) || !v.year(c.Year) {
			continue
		}
		if counts[c.Tax] == nil {
			counts[c.Tax] = make([]uint64, len(statuses))
		}
		i := statusIndex(c.Status)
		counts[c.Tax][i] += c.Liquidations
		all[i] += c.Liquidations
		taxSet[c.Tax] = true
	}
	taxes := orderedTaxes(taxSet)
	scope := "todos los municipios"
	if v.ent != nil {
		scope = v.ent.Display
	}
	if v.f.Anio != 0 {
		scope += ", vigencia " + strconv.Itoa(v.f.Anio)
	}
	x := &xyChart{
		ID: "estado", Title: "Resultado de la verificación por impuesto" + v.where(),
		Subtitle:  "Porcentaje de las liquidaciones; " + scope,
		Caption:   "Liquidaciones por resultado de la verificación e impuesto, en porcentaje y número (" + scope + ")",
		CatHeader: "Impuesto", CatColumn: "impuesto",
		Horizontal: true,
		Axes:       []valueAxis{{Name: "%", Format: fmtPorcentaje, Max: 100}},
		Context:    v.context(),
	}
	rowsOf := [][]uint64{}
	if len(taxes) > 1 {
		x.Cats = append(x.Cats, "Todos los impuestos")
		x.CatRaw = append(x.CatRaw, "todos")
		rowsOf = append(rowsOf, all)
	}
	for _, t := range taxes {
		x.Cats = append(x.Cats, TaxName(t))
		x.CatRaw = append(x.CatRaw, t)
		rowsOf = append(rowsOf, counts[t])
	}
	var shares, nums []serie
	for i, st := range statuses {
		sh := serie{Name: st.Name, Column: st.Column + "_pct", Stack: "estado", Format: fmtPorcentaje}
		n := serie{Name: st.Name + " (número)", Column: st.Column, Format: fmtNumero, TableOnly: true}
		for _, r := range rowsOf {
			var tot uint64
			for _, c := range r {
				tot += c
			}
			sh.Values = append(sh.Values, pct(decN(r[i]), decN(tot)))
			n.Values = append(n.Values, decN(r[i]))
		}
		shares = append(shares, sh)
		nums = append(nums, n)
	}
	x.Series = append(shares, nums...)
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Cada barra suma 100 %: la parte de las liquidaciones de ese impuesto que coincide con la norma, la que difiere solo por redondeo, la que tiene discrepancias y la que no se ha podido verificar."}
	return c, nil
}

func verificacionDiscrepancias(ctx context.Context, s *Site, v *view) (*Chart, error) {
	cells, err := s.verification(ctx)
	if err != nil {
		return nil, err
	}
	type key struct{ muni, tax string }
	type agg struct {
		over, under acc
		n, verified uint64
	}
	by := map[key]*agg{}
	withheld := 0
	for _, c := range cells {
		if !v.muni(c.Muni) || !v.tax(c.Tax) || !v.year(c.Year) {
			continue
		}
		k := key{c.Muni, c.Tax}
		a := by[k]
		if a == nil {
			a = &agg{}
			by[k] = a
		}
		switch c.Status {
		case "match", "rounding":
			a.verified += c.Liquidations
		case "discrepancy":
			a.verified += c.Liquidations
			a.n += c.Liquidations
			a.over.add(c.Over)
			a.under.add(c.Under)
			if c.Over == nil {
				withheld++
			}
		}
	}
	type row struct {
		k key
		a *agg
		t decimal.Decimal
	}
	var rs []row
	for k, a := range by {
		if a.n == 0 {
			continue
		}
		rs = append(rs, row{k, a, a.over.sum.Add(a.under.sum)})
	}
	sort.Slice(rs, func(i, j int) bool {
		if !rs[i].t.Equal(rs[j].t) {
			return rs[i].t.GreaterThan(rs[j].t)
		}
		if rs[i].a.n != rs[j].a.n {
			return rs[i].a.n > rs[j].a.n
		}
		return rs[i].k.muni+rs[i].k.tax < rs[j].k.muni+rs[j].k.tax
	})
	const maxRows = 40
	cut := 0
	if len(rs) > maxRows {
		cut, rs = len(rs)-maxRows, rs[:maxRows]
	}
	x := &xyChart{
		ID: "discrepancias", Title: "Discrepancias por municipio e impuesto" + v.where(),
		Subtitle:  "Diferencia entre lo facturado y lo que da la norma, pesos; " + v.scope(),
		Caption:   "Liquidaciones con discrepancias y sus montos por municipio e impuesto (" + v.scope() + ")",
		CatHeader: "Municipio e impuesto", CatColumn: "municipio_impuesto",
		Horizontal: true,
		Axes:       []valueAxis{{Name: "Pesos", Format: fmtPesos}},
		Context:    v.context(),
	}
	over := serie{Name: "Cobrado de más", Column: "cobrado_de_mas", Format: fmtPesos}
	under := serie{Name: "Cobrado de menos", Column: "cobrado_de_menos", Format: fmtPesos}
	n := serie{Name: "Liquidaciones con discrepancia", Column: "discrepancias", Format: fmtNumero, TableOnly: true}
	share := serie{Name: "% de las verificadas", Column: "discrepancias_pct", Format: fmtPorcentaje, TableOnly: true}
	for _, r := range rs {
		x.Cats = append(x.Cats, v.dir.Name(r.k.muni)+" · "+TaxName(r.k.tax))
		x.CatRaw = append(x.CatRaw, r.k.muni+"/"+r.k.tax)
		over.Values = append(over.Values, r.a.over.value())
		under.Values = append(under.Values, r.a.under.value())
		n.Values = append(n.Values, decN(r.a.n))
		share.Values = append(share.Values, pct(decN(r.a.n), decN(r.a.verified)))
	}
	x.Series = []serie{over, under, n, share}
	if len(rs) == 0 {
		x.Empty = "No hay liquidaciones con discrepancias en esta selección (o todavía no se han verificado)."
	}
	if nt := withheldNote(withheld, s.o.K, "vigencia, municipio, impuesto"); nt != "" {
		x.Notes = append(x.Notes, nt)
	}
	if cut > 0 {
		x.Notes = append(x.Notes, "Se muestran las "+strconv.Itoa(maxRows)+" combinaciones con más diferencia; faltan "+Number(int64(cut))+".")
	}
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Para cada municipio e impuesto con discrepancias: cuánto se cobró de más y cuánto de menos frente a lo que da la norma. Ordenado de mayor a menor diferencia."}
	return c, nil
}

func verificacionVigencias(ctx context.Context, s *Site, v *view) (*Chart, error) {
	cells, err := s.verification(ctx)
	if err != nil {
		return nil, err
	}
	type agg struct{ ok, disc, pending, other uint64 }
	by := map[int]*agg{}
	for _, c := range cells {
		if !v.muni(c.Muni) || !v.tax(c.Tax) {
			continue
		}
		a := by[c.Year]
		if a == nil {
			a = &agg{}
			by[c.Year] = a
		}
		switch c.Status {
		case "match", "rounding":
			a.ok += c.Liquidations
		case "discrepancy":
			a.disc += c.Liquidations
		case "pending":
			a.pending += c.Liquidations
		default:
			a.other += c.Liquidations
		}
	}
	yrs := make([]int, 0, len(by))
	for y := range by {
		yrs = append(yrs, y)
	}
	sort.Ints(yrs)
	x := &xyChart{
		ID: "vigencias", Title: "Cumplimiento de las reglas por vigencia" + v.where(),
		Subtitle:  "Porcentaje de las liquidaciones verificadas que coinciden con la norma; " + v.scope(),
		Caption:   "Liquidaciones verificadas y porcentaje que cumple las reglas, por vigencia (" + v.scope() + ")",
		CatHeader: "Vigencia", CatColumn: "vigencia",
		Axes:    []valueAxis{{Name: "%", Format: fmtPorcentaje, Max: 100}},
		Context: v.context(),
	}
	rate := serie{Name: "Cumplen las reglas", Column: "cumplen_pct", Kind: "line", Format: fmtPorcentaje, Missing: "sin verificar", Label: true}
	ok := serie{Name: "Coinciden (incluye redondeo)", Column: "coinciden", Format: fmtNumero, TableOnly: true}
	disc := serie{Name: "Con discrepancia", Column: "discrepancias", Format: fmtNumero, TableOnly: true}
	pend := serie{Name: "Sin verificar", Column: "sin_verificar", Format: fmtNumero, TableOnly: true}
	for _, y := range yrs {
		a := by[y]
		x.Cats = append(x.Cats, strconv.Itoa(y))
		rate.Values = append(rate.Values, pct(decN(a.ok), decN(a.ok+a.disc)))
		ok.Values = append(ok.Values, decN(a.ok))
		disc.Values = append(disc.Values, decN(a.disc))
		pend.Values = append(pend.Values, decN(a.pending+a.other))
	}
	x.Series = []serie{rate, ok, disc, pend}
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"La línea muestra, para cada vigencia, qué porcentaje de las liquidaciones verificadas coincide con la norma (o difiere solo por redondeo)."}
	return c, nil
}

func verificacionExtra(ctx context.Context, s *Site, v *view, p *DashboardPage) error {
	sec := Section{ID: "datos-verificacion", Title: "Los datos de la verificación"}
	if ds, err := datasets.Get(VerificationDataset); err == nil {
		sec.Paragraphs = []string{"El resultado de la verificación se publica como conjunto de datos abierto, con el estado y la diferencia de cada celda, para que cualquiera pueda revisarlo."}
		sec.Links = []Link{
			{Text: ds.Title + ": diccionario, licencia y descargas", URL: "/datos/" + ds.ID},
			{Text: "Descargar el conjunto completo (CSV)", URL: "/datos/" + ds.ID + ".csv"},
		}
	} else {
		sec.Paragraphs = []string{"El conjunto de datos de la verificación todavía no está publicado en esta instancia. Mientras tanto, cada gráfico de esta página tiene su enlace «Descargar los datos (CSV)»."}
	}
	p.Sections = append(p.Sections, sec)
	return nil
}
