package dashboards

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

var presupuestoDash = &dashDef{
	ID:    "presupuesto",
	Nav:   "Presupuesto",
	Title: "Presupuesto: lo presupuestado frente a lo recaudado",
	Lead:  "Cuánto esperaba recaudar cada municipio según su presupuesto definitivo (FUT) y cuánto recaudó.",
	Intro: []string{
		"Cada año los municipios reportan al Formulario Único Territorial (FUT, hoy CUIPO) su presupuesto definitivo de ingresos por rubro. Este tablero compara los rubros del impuesto predial unificado y del impuesto de industria y comercio con los pagos que el observatorio registra en el mismo año.",
	},
	Method: []string{
		"Presupuesto: presupuesto definitivo de los rubros «Impuesto predial unificado» e «Impuesto de industria y comercio» del FUT, en pesos corrientes. Recaudo: pagos registrados en el año calendario. ReteICA se cuenta con el ICA, porque el presupuesto lo incluye en ese rubro.",
		"La ejecución es recaudo ÷ presupuesto × 100. Si el observatorio no tiene todos los pagos del municipio, la ejecución sale baja: compárela con la cobertura de los datos en el tablero de recaudo.",
		"Los presupuestos son información pública; los recaudos siguen la reserva tributaria (montos con menos de 5 contribuyentes no se publican).",
	},
	Use: useAll,
	Charts: []*chartDef{
		{ID: "anual", Use: useMunicipio | useImpuesto, Build: presupuestoAnual},
		{ID: "municipios", Use: useAnio | useImpuesto, Build: presupuestoMunicipios},
	},
	Years: func(ctx context.Context, s *Site) ([]int, error) {
		b, err := s.budget(ctx)
		if err != nil {
			return nil, err
		}
		return years(func(add func(int)) {
			for _, c := range b {
				add(c.Year)
			}
		}), nil
	},
}

// rubroTax maps a FUT revenue line to the tax it budgets ("" for lines
// the observatory does not collect). Names come with accents, without them
// or with mojibake, so the match is on normalized words.
func rubroTax(rubro string) string {
	n := normalize(rubro)
	switch {
	case strings.Contains(n, "predial"):
		return "predial"
	case strings.Contains(n, "industria y comercio") && !strings.Contains(n, "avisos"):
		return "ica"
	}
	return ""
}

// budgetTax maps a payment's tax to the budget line that covers it.
func budgetTax(tax string) string {
	if tax == "reteica" {
		return "ica"
	}
	return tax
}

type budgetYear struct {
	budget    *decimal.Decimal
	collected acc
}

// budgetVsCollected joins the budget lines and the month cells per entity
// and year for the selection's tax.
func budgetVsCollected(ctx context.Context, s *Site, tax string) (map[string]map[int]*budgetYear, map[string]string, error) {
	bl, err := s.budget(ctx)
	if err != nil {
		return nil, nil, err
	}
	ms, err := s.months(ctx)
	if err != nil {
		return nil, nil, err
	}
	want := func(t string) bool { return tax == "" || budgetTax(t) == budgetTax(tax) }
	out := map[string]map[int]*budgetYear{}
	names := map[string]string{}
	get := func(e string, y int) *budgetYear {
		if out[e] == nil {
			out[e] = map[int]*budgetYear{}
		}
		if out[e][y] == nil {
			out[e][y] = &budgetYear{}
		}
		return out[e][y]
	}
	for _, b := range bl {
		t := rubroTax(b.Rubro)
		if t == "" || !want(t) {
			continue
		}
		by := get(b.Entity, b.Year)
		sum := b.Budget
		if by.budget != nil {
			sum = sum.Add(*by.budget)
		}
		by.budget = &sum
		names[b.Entity] = b.EntityName
	}
	for _, c := range ms {
		if !want(c.Tax) {
			continue
		}
		if yrs := out[c.Muni]; yrs != nil {
			if by := yrs[c.Month.Year()]; by != nil {
				by.collected.add(c.Collected)
			}
		}
	}
	return out, names, nil
}

func taxScope(v *view) string {
	switch v.f.Impuesto {
	case "":
		return "predial e ICA (con ReteICA)"
	case "predial":
		return "predial"
	}
	return "ICA (con ReteICA)"
}

func presupuestoAnual(ctx context.Context, s *Site, v *view) (*Chart, error) {
	if v.ent == nil {
		return &Chart{ID: "anual", Title: "Presupuesto y recaudo por año", Empty: "Elija un municipio para comparar su presupuesto con su recaudo, año por año."}, nil
	}
	data, _, err := budgetVsCollected(ctx, s, v.f.Impuesto)
	if err != nil {
		return nil, err
	}
	yrsMap := data[v.ent.Code]
	yrs := make([]int, 0, len(yrsMap))
	for y := range yrsMap {
		yrs = append(yrs, y)
	}
	sort.Ints(yrs)
	x := &xyChart{
		ID: "anual", Title: "Presupuesto y recaudo por año" + v.where(),
		Subtitle:  "Pesos corrientes; " + taxScope(v),
		Caption:   "Presupuesto definitivo (FUT), recaudo registrado y ejecución por año en " + v.ent.Display + " (" + taxScope(v) + ")",
		CatHeader: "Año", CatColumn: "anio",
		Axes:    []valueAxis{{Name: "Pesos", Format: fmtPesos}, {Name: "Ejecución", Format: fmtPorcentaje}},
		Context: v.context(),
	}
	bud := serie{Name: "Presupuesto definitivo", Column: "presupuesto_definitivo", Format: fmtPesos, Missing: "sin dato"}
	col := serie{Name: "Recaudado", Column: "recaudado", Format: fmtPesos}
	exe := serie{Name: "Ejecución", Column: "ejecucion_pct", Kind: "line", Axis: 1, Format: fmtPorcentaje, Missing: "no calculable", Label: true}
	withheld := 0
	for _, y := range yrs {
		by := yrsMap[y]
		x.Cats = append(x.Cats, strconv.Itoa(y))
		bud.Values = append(bud.Values, by.budget)
		c := by.collected.value()
		if c == nil && by.collected.withheld == 0 {
			c = decN(0)
		}
		col.Values = append(col.Values, c)
		exe.Values = append(exe.Values, pct(by.collected.complete(), by.budget))
		withheld += by.collected.withheld
	}
	x.Series = []serie{bud, col, exe}
	if len(yrs) == 0 {
		x.Empty = "No hay presupuesto del FUT cargado para " + v.ent.Display + "."
	}
	if n := withheldNote(withheld, s.o.K, "mes, municipio, impuesto"); n != "" {
		x.Notes = append(x.Notes, n)
	}
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Barras: el presupuesto definitivo y lo recaudado en cada año. Línea (eje derecho): la ejecución, recaudo ÷ presupuesto × 100."}
	return c, nil
}

func presupuestoMunicipios(ctx context.Context, s *Site, v *view) (*Chart, error) {
	data, names, err := budgetVsCollected(ctx, s, v.f.Impuesto)
	if err != nil {
		return nil, err
	}
	year := v.f.Anio
	if year == 0 {
		// The latest year with both a budget and collections.
		for _, yrs := range data {
			for y, by := range yrs {
				if by.budget != nil && by.collected.any && y > year {
					year = y
				}
			}
		}
	}
	type row struct {
		code              string
		budget, collected *decimal.Decimal
		rate              *decimal.Decimal
	}
	var rs []row
	for code, yrs := range data {
		by := yrs[year]
		if by == nil || by.budget == nil {
			continue
		}
		rs = append(rs, row{code, by.budget, by.collected.value(), pct(by.collected.complete(), by.budget)})
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
	if len(rs) > maxRows {
		rs = rs[:maxRows]
	}
	yearText := strconv.Itoa(year)
	x := &xyChart{
		ID: "municipios", Title: "Ejecución del presupuesto de ingresos por entidad, " + yearText,
		Subtitle:  "Recaudo registrado ÷ presupuesto definitivo × 100; " + taxScope(v),
		Caption:   "Presupuesto definitivo, recaudo registrado y ejecución por entidad en " + yearText + " (" + taxScope(v) + ")",
		CatHeader: "Entidad", CatColumn: "codigo_entidad",
		Horizontal: true,
		Axes:       []valueAxis{{Name: "%", Format: fmtPorcentaje}},
		Context:    append([][2]string{{"anio", yearText}}, contextTax(v)...),
	}
	exe := serie{Name: "Ejecución", Column: "ejecucion_pct", Format: fmtPorcentaje, Missing: "sin recaudo registrado"}
	bud := serie{Name: "Presupuesto definitivo", Column: "presupuesto_definitivo", Format: fmtPesos, TableOnly: true}
	col := serie{Name: "Recaudado", Column: "recaudado", Format: fmtPesos, TableOnly: true, Missing: "sin dato"}
	for _, r := range rs {
		name := v.dir.Name(r.code)
		if name == r.code && names[r.code] != "" {
			name = PlaceName(names[r.code])
		}
		x.Cats = append(x.Cats, name)
		x.CatRaw = append(x.CatRaw, r.code)
		exe.Values = append(exe.Values, r.rate)
		bud.Values = append(bud.Values, r.budget)
		col.Values = append(col.Values, r.collected)
	}
	x.Series = []serie{exe, bud, col}
	if len(rs) == 0 {
		x.Empty = "No hay presupuestos del FUT cargados para este año."
	}
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Compara, en un mismo año, qué parte de su presupuesto de ingresos por estos impuestos recaudó cada entidad según los pagos que tiene el observatorio. Una entidad sin pagos cargados aparece sin ejecución."}
	return c, nil
}
