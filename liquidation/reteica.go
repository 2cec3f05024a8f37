package liquidation

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// ReteICA line codes (there is no national form for the agent's declaration: codes are
// the Observatorio's own; the amounts follow ET arts. 577, 634-641 like any declaration).
const (
	RBase       = "R01"
	RPracticada = "R02"
	RDevol      = "R03"
	RCargo      = "R04"
	RSancion    = "R05"
	RIntereses  = "R06"
	RTotal      = "R07"
)

const artReteICA = "Ley 1430 de 2010, art. 11 (sistema de retención de ICA)"

func (r *Rules) reteica(req *Request, m *municipality, b *builder) error {
	in := req.ReteICA
	if in == nil {
		return fieldErr("reteica", "faltan los datos de la declaración de retención")
	}
	n := &r.nat
	fy, ok := m.retFiling[req.Year]
	if !ok {
		return ruleErr("reteica.periodos", "no hay periodos de ReteICA de %s para %d", m.name, req.Year)
	}
	if in.Periodo < 1 || in.Periodo > len(fy.periods) {
		return fieldErr("reteica.periodo", "periodo %d inválido: %s tiene %d periodos (%s) en %d", in.Periodo, m.name, len(fy.periods), fy.periodicity, req.Year)
	}
	per := fy.periods[in.Periodo-1]
	filed := req.FilingDate
	if filed.IsZero() {
		filed = req.PaymentDate
	}
	roundAt := filed
	if roundAt.IsZero() {
		roundAt = per.due
	}
	rd := func(v decimal.Decimal) decimal.Decimal { x, _ := n.round577(v, roundAt); return x }
	rc := rcite577(n)
	uvt, uvtOK := n.uvtFor(req.Year)
	if !uvtOK {
		return ruleErr("uvt", "no hay UVT de %d en las reglas", req.Year)
	}

	baseSuj := decimal.Zero
	practic := decimal.Zero
	for k, p := range in.Pagos {
		field := "reteica.pagos[" + strconv.Itoa(k) + "]"
		base, err := validMoney(field+".base", p.Base, true)
		if err != nil {
			return err
		}
		if p.Fecha.IsZero() {
			return fieldErr(field+".fecha", "es obligatoria")
		}
		if p.Fecha.Before(per.from) || p.Fecha.After(per.to) {
			return fieldErr(field+".fecha", "el pago del %s no pertenece al periodo %d (%s a %s)", p.Fecha, in.Periodo, per.from, per.to)
		}
		if p.CIIU == "" {
			return fieldErr(field+".ciiu", "es obligatorio")
		}
		ti := pickSpan(m.icaTariffs, p.Fecha)
		if ti < 0 || m.icaTariffs[ti].acts[p.CIIU] == nil {
			return ruleErr("reteica.tarifa", "no hay tarifa de ICA en %s para la actividad CIIU %s en %s", m.name, p.CIIU, p.Fecha)
		}
		set := &m.icaTariffs[ti]
		act := set.acts[p.CIIU]
		mi := pickSpan(m.retMin, p.Fecha)
		if mi < 0 {
			return ruleErr("reteica.base_minima", "no hay bases mínimas de ReteICA de %s para %s", m.name, p.Fecha)
		}
		mr := &m.retMin[mi]
		minUVT, ok := mr.bases[p.Tipo]
		if !ok {
			return fieldErr(field+".tipo", "tipo %q sin base mínima en las reglas de %s (use uno de: %s)", p.Tipo, m.name, keys(mr.bases))
		}
		minBase := uvt.Mul(minUVT)
		c := base.Cmp(minBase)
		subject := c > 0 || (c == 0 && mr.inclusive)
		ret := decimal.Zero
		label := "Retención del pago " + strconv.Itoa(k+1) + " (CIIU " + act.ciiu + ")"
		if subject {
			ret = perMille(base, act.rate)
			baseSuj = baseSuj.Add(base)
		} else {
			label += ": por debajo de la base mínima, sin retención"
		}
		practic = practic.Add(ret)
		i := b.add(RBase+"."+strconv.Itoa(k+1), label, ret, "reteica.retencion", set.cite+"; "+mr.cite)
		if b.explain {
			cmp := "mayor"
			if mr.inclusive {
				cmp = "igual o mayor"
			}
			if b.explain {
				b.params(i, "base", base.String(), "tarifa_por_mil", act.rate.String(), "tipo", p.Tipo, "base_minima_uvt", minUVT.String(),
					"uvt_"+strconv.Itoa(req.Year), uvt.String(), "base_minima_pesos", minBase.String(), "retiene_si_base_es", cmp+" que la base mínima",
					"fecha", p.Fecha.String())
			}
		}
	}
	i := b.add(RBase, "Total pagos sujetos a retención", rd(baseSuj), "reteica.base", artReteICA+"; "+rc)
	b.res.Lines[i].Art577 = true
	r02 := rd(practic)
	i = b.add(RPracticada, "Total retenciones practicadas en el periodo", r02, "reteica.retenciones", artReteICA+"; "+rc)
	b.res.Lines[i].Art577 = true
	if b.explain {
		b.params(i, "suma_sin_redondeo", practic.String())
	}
	dev, err := validMoney("reteica.devoluciones", in.Devoluciones, false)
	if err != nil {
		return err
	}
	r03 := rd(dev)
	if r03.Sign() > 0 {
		i = b.add(RDevol, "Menos retenciones por devoluciones, anulaciones o rescisiones", r03, "reteica.entrada", artReteICA+"; "+rc)
		b.res.Lines[i].Art577 = true
	}
	r04 := r02.Sub(r03)
	if r04.Sign() < 0 {
		return fieldErr("reteica.devoluciones", "las devoluciones (%s) superan las retenciones del periodo (%s)", r03.String(), r02.String())
	}
	i = b.add(RCargo, "Total retenciones a cargo", r04, "reteica.a_cargo", artReteICA+"; "+rc)
	b.res.Lines[i].Art577 = true

	total := r04
	if !filed.IsZero() && filed.After(per.due) {
		s := n.sanction(SanctionFacts{Tax: r04, Income: baseSuj, Due: per.due, Filed: filed,
			PriorInfraction: in.Sancion.InfraccionAnterior, NoReduction: in.Sancion.SinReduccion, Round: true})
		i = b.add(RSancion, "Sanción por extemporaneidad", s.Value, "sancion.extemporaneidad", s.Cite+"; "+rc)
		b.res.Lines[i].Art577 = true
		b.res.Lines[i].Unresolved = s.Unresolved
		if b.explain {
			b.params(i, "vence", per.due.String(), "presentada", filed.String(), "meses_o_fraccion", strconv.Itoa(s.Months), "base", s.Base,
				"sancion_bruta", s.Gross.String(), "tope", s.Cap.String(), "porcentaje_a_pagar_art640", s.PayPercent.String(),
				"sancion_reducida", s.Reduced.String(), "sancion_minima_art639", s.Minimum.String(), "plazo", fy.cite)
		}
		total = total.Add(s.Value)
	}
	paid := req.PaymentDate
	unres := ""
	if !paid.IsZero() && paid.After(per.due) && r04.Sign() > 0 {
		it := n.moratory(r04, per.due, paid, b.explain)
		v := rd(it.Value)
		i = b.add(RIntereses, "Intereses de mora", v, "interes.moratorio", it.Cite+"; "+rc)
		b.res.Lines[i].Art577 = true
		b.res.Lines[i].Unresolved = it.Unresolved
		unres = it.Unresolved
		if b.explain {
			b.params(i, "capital", r04.String(), "interes_sin_redondeo", it.Value.String(), "vence", per.due.String(), "fecha_pago", paid.String(),
				"dias", strconv.Itoa(it.Days), "periodos", describePeriods(it.Periods))
		}
		total = total.Add(v)
	}
	i = b.add(RTotal, "Total a pagar", total, "reteica.total_a_pagar", "suma de R04, R05 y R06; "+rc)
	b.res.Lines[i].Art577 = true
	b.res.Lines[i].Unresolved = unres
	b.res.TotalCode, b.res.Total = RTotal, total
	if b.explain {
		b.warn(fmt.Sprintf("Periodo %d (%s): del %s al %s; vence el %s.", in.Periodo, fy.periodicity, per.from.Spanish(), per.to.Spanish(), per.due.Spanish()))
	}
	return nil
}

func keys(m map[string]decimal.Decimal) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}
