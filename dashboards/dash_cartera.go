package dashboards

import (
	"context"
	"strconv"
)

var carteraDash = &dashDef{
	ID:    "cartera",
	Nav:   "Cartera",
	Title: "Cartera: lo que se debe y desde cuándo",
	Lead:  "Cuánto dinero facturado y vencido sigue sin pagarse, por vigencia y por la edad de la deuda.",
	Intro: []string{
		"La cartera es lo que los contribuyentes deben al municipio: facturas vencidas que no se han pagado del todo. Entre más vieja la deuda, más difícil cobrarla; a los cinco años la acción de cobro prescribe (Estatuto Tributario, art. 817).",
	},
	Method: []string{
		"Para cada liquidación vencida a la fecha de corte (hoy), el saldo es lo facturado menos lo pagado hasta esa fecha; se suman los saldos positivos por vigencia, impuesto y edad de la mora (días desde el vencimiento).",
		"No incluye intereses de mora ni sanciones, que la fuente no siempre informa: es el capital facturado pendiente.",
		"Reserva tributaria: los saldos con menos de 5 contribuyentes distintos detrás no se publican.",
	},
	Use: useMunicipio | useImpuesto,
	Charts: []*chartDef{
		{ID: "edades", Use: useMunicipio | useImpuesto, Build: carteraEdades},
		{ID: "impuestos", Use: useMunicipio | useImpuesto, Build: carteraImpuestos},
	},
}

var arrearsBands = []struct{ Name, Column string }{
	{"1 a 90 días", "saldo_1_90_dias"},
	{"91 a 180 días", "saldo_91_180_dias"},
	{"181 a 365 días", "saldo_181_365_dias"},
	{"1 a 2 años", "saldo_1_2_anios"},
	{"2 a 5 años", "saldo_2_5_anios"},
	{"más de 5 años (prescrita)", "saldo_mas_5_anios"},
}

func carteraEdades(ctx context.Context, s *Site, v *view) (*Chart, error) {
	cells, corte, err := s.arrears(ctx)
	if err != nil {
		return nil, err
	}
	type key struct{ year, band int }
	sums := map[key]*acc{}
	liq := map[int]uint64{}
	ys := map[int]bool{}
	withheld := 0
	for _, c := range cells {
		if !v.muni(c.Muni) || !v.tax(c.Tax) || c.Band < 1 || c.Band > len(arrearsBands) {
			continue
		}
		k := key{c.Year, c.Band}
		if sums[k] == nil {
			sums[k] = &acc{}
		}
		sums[k].add(c.Balance)
		if c.Balance == nil {
			withheld++
		}
		liq[c.Year] += c.Liquidations
		ys[c.Year] = true
	}
	yrs := sortedKeys(ys, func(a, b int) bool { return a < b })
	x := &xyChart{
		ID: "edades", Title: "Cartera por vigencia y edad de la mora" + v.where(),
		Subtitle:  "Saldo vencido sin pagar al " + Date(corte) + ", pesos; " + v.scope(),
		Caption:   "Saldo vencido sin pagar al " + Date(corte) + " por vigencia y edad de la mora, en pesos (" + v.scope() + ")",
		CatHeader: "Vigencia", CatColumn: "vigencia",
		Axes:    []valueAxis{{Name: "Pesos", Format: fmtPesos}},
		Context: append(v.context(), [2]string{"fecha_corte", corte.Format("2006-01-02")}),
	}
	total := serie{Name: "Total", Column: "saldo_total", Format: fmtPesos, TableOnly: true}
	count := serie{Name: "Liquidaciones con saldo", Column: "liquidaciones", Format: fmtNumero, TableOnly: true}
	bands := make([]serie, len(arrearsBands))
	for i, b := range arrearsBands {
		bands[i] = serie{Name: b.Name, Column: b.Column, Stack: "saldo", Format: fmtPesos}
	}
	for _, y := range yrs {
		x.Cats = append(x.Cats, strconv.Itoa(y))
		var tot acc
		for i := range arrearsBands {
			a := sums[key{y, i + 1}]
			if a == nil {
				bands[i].Values = append(bands[i].Values, decN(0))
				continue
			}
			bands[i].Values = append(bands[i].Values, a.value())
			tot.sum, tot.any = tot.sum.Add(a.sum), tot.any || a.any
		}
		total.Values = append(total.Values, tot.value())
		count.Values = append(count.Values, decN(liq[y]))
	}
	x.Series = append(bands, total, count)
	if n := withheldNote(withheld, s.o.K, "vigencia, municipio, impuesto, edad"); n != "" {
		x.Notes = append(x.Notes, n)
	}
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Cada barra es una vigencia; sus tramos dicen hace cuánto venció lo que se debe. Los tramos más oscuros y viejos son la deuda más difícil de recuperar."}
	return c, nil
}

func carteraImpuestos(ctx context.Context, s *Site, v *view) (*Chart, error) {
	cells, corte, err := s.arrears(ctx)
	if err != nil {
		return nil, err
	}
	type key struct {
		year int
		tax  string
	}
	sums := map[key]*acc{}
	ys, ts := map[int]bool{}, map[string]bool{}
	withheld := 0
	for _, c := range cells {
		if !v.muni(c.Muni) || !v.tax(c.Tax) {
			continue
		}
		k := key{c.Year, c.Tax}
		if sums[k] == nil {
			sums[k] = &acc{}
		}
		sums[k].add(c.Balance)
		if c.Balance == nil {
			withheld++
		}
		ys[c.Year], ts[c.Tax] = true, true
	}
	yrs := sortedKeys(ys, func(a, b int) bool { return a < b })
	taxes := orderedTaxes(ts)
	x := &xyChart{
		ID: "impuestos", Title: "Cartera por vigencia e impuesto" + v.where(),
		Subtitle:  "Saldo vencido sin pagar al " + Date(corte) + ", pesos; " + v.scope(),
		Caption:   "Saldo vencido sin pagar al " + Date(corte) + " por vigencia e impuesto, en pesos (" + v.scope() + ")",
		CatHeader: "Vigencia", CatColumn: "vigencia",
		Axes:    []valueAxis{{Name: "Pesos", Format: fmtPesos}},
		Context: append(v.context(), [2]string{"fecha_corte", corte.Format("2006-01-02")}),
	}
	for _, t := range taxes {
		sv := serie{Name: TaxName(t), Column: "saldo_" + columnName(t), Stack: "saldo", Format: fmtPesos}
		for _, y := range yrs {
			if a := sums[key{y, t}]; a != nil {
				sv.Values = append(sv.Values, a.value())
			} else {
				sv.Values = append(sv.Values, decN(0))
			}
		}
		x.Series = append(x.Series, sv)
	}
	for _, y := range yrs {
		x.Cats = append(x.Cats, strconv.Itoa(y))
	}
	if n := withheldNote(withheld, s.o.K, "vigencia, municipio, impuesto, edad"); n != "" {
		x.Notes = append(x.Notes, n)
	}
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"La misma cartera, repartida por impuesto: qué impuesto concentra la deuda de cada vigencia."}
	return c, nil
}
