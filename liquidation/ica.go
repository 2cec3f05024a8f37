package liquidation

import (
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"
)

const artFUN = "Resolución 4056 de 2017 (Formulario Único Nacional de ICA)"

var icaLabels = map[string]string{
	"8":  "Total ingresos ordinarios y extraordinarios del periodo en todo el país",
	"9":  "Menos ingresos fuera de este municipio o distrito",
	"10": "Total ingresos ordinarios y extraordinarios en este municipio (renglón 8 menos 9)",
	"11": "Menos ingresos por devoluciones, rebajas, descuentos",
	"12": "Menos ingresos por exportaciones",
	"13": "Menos ingresos por venta de activos fijos",
	"14": "Menos ingresos por actividades excluidas o no sujetas y otros ingresos no gravados",
	"15": "Menos ingresos por otras actividades exentas en este municipio (por acuerdo)",
	"16": "Total ingresos gravables (renglón 10 menos 11, 12, 13, 14 y 15)",
	"17": "Total impuesto por actividades gravadas",
	"20": "Total impuesto de industria y comercio (renglón 17 + 19)",
	"21": "Impuesto de avisos y tableros (15 % del renglón 20)",
	"22": "Pago por unidades comerciales adicionales del sector financiero",
	"23": "Sobretasa bomberil",
	"24": "Sobretasa de seguridad",
	"25": "Total impuesto a cargo (renglones 20 + 21 + 22 + 23 + 24)",
	"26": "Menos valor de exención o exoneración sobre el impuesto",
	"27": "Menos retenciones que le practicaron a favor de este municipio",
	"28": "Menos autorretenciones a favor de este municipio",
	"29": "Menos anticipo liquidado en el año anterior",
	"30": "Anticipo del año siguiente",
	"31": "Sanciones (extemporaneidad)",
	"32": "Menos saldo a favor del periodo anterior sin solicitud de devolución o compensación",
	"33": "Total saldo a cargo",
	"34": "Total saldo a favor",
	"35": "Valor a pagar",
	"36": "Descuento por pronto pago",
	"37": "Intereses de mora",
	"38": "Total a pagar",
}

// icaInputs lists the renglones filled from inputs (code, JSON field).
var icaInputs = [...]struct{ code, field string }{
	{"8", "ica.ingresos_totales"}, {"9", "ica.ingresos_fuera"}, {"11", "ica.devoluciones"}, {"12", "ica.exportaciones"},
	{"13", "ica.activos_fijos"}, {"14", "ica.excluidos"}, {"15", "ica.exentos"},
}

func (r *Rules) ica(req *Request, m *municipality, b *builder) error {
	in := req.ICA
	if in == nil {
		return fieldErr("ica", "faltan los datos de la declaración")
	}
	n := &r.nat
	vals := [7]decimal.Decimal{}
	srcs := [7]decimal.NullDecimal{in.IngresosTotales, in.IngresosFuera, in.Devoluciones, in.Exportaciones, in.ActivosFijos, in.Excluidos, in.Exentos}
	for k := range srcs {
		v, err := validMoney(icaInputs[k].field, srcs[k], k == 0)
		if err != nil {
			return err
		}
		vals[k] = v
	}
	if len(in.Actividades) == 0 {
		return fieldErr("ica.actividades", "debe declarar al menos una actividad gravada (CIIU e ingresos)")
	}
	filed := req.FilingDate
	if filed.IsZero() {
		filed = req.PaymentDate
	}
	roundAt := filed
	if roundAt.IsZero() {
		roundAt = NewDate(req.Year+1, 1, 1)
	}
	rd := func(v decimal.Decimal) decimal.Decimal { x, _ := n.round577(v, roundAt); return x }
	rcite := n.rounding[len(n.rounding)-1].cite
	addR := func(code string, v decimal.Decimal, rule, art string) int {
		i := b.add(code, icaLabels[code], rd(v), rule, art+"; "+rcite)
		b.res.Lines[i].Art577 = true
		return i
	}

	// B. Base gravable (renglones 8-16).
	r8 := vals[0]
	r10raw := r8.Sub(vals[1])
	r16raw := r10raw.Sub(vals[2]).Sub(vals[3]).Sub(vals[4]).Sub(vals[5]).Sub(vals[6])
	if r10raw.Sign() < 0 {
		return fieldErr("ica.ingresos_fuera", "los ingresos fuera del municipio (%s) superan los ingresos totales (%s)", vals[1].String(), r8.String())
	}
	if r16raw.Sign() < 0 {
		return fieldErr("ica.ingresos_totales", "las deducciones de los renglones 11 a 15 superan los ingresos del municipio")
	}
	for k, code := range [...]string{"8", "9"} {
		i := addR(code, vals[k], "ica.entrada", artFUN+", renglón "+code)
		if b.explain {
			b.params(i, "valor_declarado", vals[k].String())
		}
	}
	i := addR("10", rd(vals[0]).Sub(rd(vals[1])), "ica.renglon_10", artFUN+", renglón 10")
	r10 := b.res.Lines[i].Value
	r16 := r10
	for k := 2; k < 7; k++ {
		code := icaInputs[k].code
		i := addR(code, vals[k], "ica.entrada", artFUN+", renglón "+code+"; Ley 14 de 1983, art. 33; Ley 1819 de 2016, art. 342")
		if b.explain {
			b.params(i, "valor_declarado", vals[k].String())
		}
		r16 = r16.Sub(b.res.Lines[i].Value)
	}
	addR("16", r16, "ica.base_gravable", artFUN+", renglón 16; Ley 1819 de 2016, art. 342")

	// C. Actividades (renglón 17).
	ti := pickSpan(m.icaTariffs, NewDate(req.Year, 1, 1))
	if ti < 0 {
		return ruleErr("ica.tarifa", "no hay tarifas de ICA de %s para el año gravable %d", m.name, req.Year)
	}
	set := &m.icaTariffs[ti]
	sumAct := decimal.Zero
	r17 := decimal.Zero
	for k, a := range in.Actividades {
		field := "ica.actividades[" + strconv.Itoa(k) + "]"
		ing, err := validMoney(field+".ingresos", a.Ingresos, true)
		if err != nil {
			return err
		}
		act := set.acts[a.CIIU]
		if a.CIIU == "" {
			return fieldErr(field+".ciiu", "es obligatorio")
		}
		if act == nil {
			return ruleErr("ica.tarifa", "no hay tarifa de ICA en %s para la actividad CIIU %s (año gravable %d)", m.name, a.CIIU, req.Year)
		}
		sumAct = sumAct.Add(ing)
		tax := rd(perMille(rd(ing), act.rate))
		i := b.add("17."+strconv.Itoa(k+1), "Impuesto de la actividad "+act.ciiu+" ("+act.label+")", tax, "ica.tarifa", set.cite+"; Ley 14 de 1983, art. 33; "+rcite)
		b.res.Lines[i].Art577 = true
		if b.explain {
			b.params(i, "ciiu", act.ciiu, "ingresos_gravados", rd(ing).String(), "tarifa_por_mil", act.rate.String(), "tipo", act.kind)
		}
		r17 = r17.Add(tax)
	}
	if sumAct.Cmp(r16raw) != 0 {
		return fieldErr("ica.actividades", "la suma de los ingresos por actividad (%s) no coincide con el total de ingresos gravables del renglón 16 (%s)", sumAct.String(), r16raw.String())
	}
	addR("17", r17, "ica.total_actividades", artFUN+", renglón 17")

	// D. Liquidación privada.
	r20 := r17
	addR("20", r20, "ica.impuesto", artFUN+", renglón 20; Ley 14 de 1983, art. 33")
	jan1 := NewDate(req.Year, 1, 1)
	r21 := decimal.Zero
	if ai := pickSpan(m.avisos, jan1); ai >= 0 {
		r21 = rd(pctOf(r20, m.avisos[ai].pct))
		i := addR("21", r21, "ica.avisos_tableros", m.avisos[ai].cite)
		if b.explain {
			b.params(i, "renglon_20", r20.String(), "porcentaje", m.avisos[ai].pct.String())
		}
	}
	r22, err := validMoney("ica.unidades_financieras", in.UnidadesFinancieras, false)
	if err != nil {
		return err
	}
	r22 = rd(r22)
	if r22.Sign() > 0 {
		addR("22", r22, "ica.entrada", artFUN+", renglón 22; Ley 14 de 1983, art. 41")
	}
	r23 := decimal.Zero
	if bi := pickSpan(m.icaBomberil, jan1); bi >= 0 {
		r23 = rd(pctOf(r20, m.icaBomberil[bi].pct))
		i := addR("23", r23, "ica.sobretasa_bomberil", m.icaBomberil[bi].cite)
		if b.explain {
			b.params(i, "renglon_20", r20.String(), "porcentaje", m.icaBomberil[bi].pct.String())
		}
	}
	r24, err := validMoney("ica.sobretasa_seguridad", in.SobretasaSeguridad, false)
	if err != nil {
		return err
	}
	r24 = rd(r24)
	if r24.Sign() > 0 {
		addR("24", r24, "ica.entrada", artFUN+", renglón 24")
	}
	r25 := r20.Add(r21).Add(r22).Add(r23).Add(r24)
	addR("25", r25, "ica.total_impuesto_a_cargo", artFUN+", renglón 25")

	minus := [4]decimal.Decimal{}
	for k, x := range [...]struct {
		code, field string
		v           decimal.NullDecimal
	}{{"26", "ica.exencion", in.Exencion}, {"27", "ica.retenciones", in.Retenciones}, {"28", "ica.autorretenciones", in.Autorretenciones}, {"29", "ica.anticipo_anterior", in.AnticipoAnterior}} {
		v, err := validMoney(x.field, x.v, false)
		if err != nil {
			return err
		}
		minus[k] = rd(v)
		if v.Sign() > 0 {
			addR(x.code, v, "ica.entrada", artFUN+", renglón "+x.code)
		}
	}
	r30 := decimal.Zero
	if in.LiquidarAnticipo == nil || *in.LiquidarAnticipo {
		if ai := pickSpan(m.anticipo, jan1); ai >= 0 {
			a := &m.anticipo[ai]
			v := pctOf(r20, a.pct)
			if a.subtract {
				v = v.Sub(minus[1])
			}
			if v.Sign() < 0 {
				v = decimal.Zero
			}
			r30 = rd(v)
			i := addR("30", r30, "ica.anticipo", a.cite)
			if b.explain {
				b.params(i, "renglon_20", r20.String(), "porcentaje", a.pct.String(), "resta_retenciones", strconv.FormatBool(a.subtract))
			}
		}
	}
	r32, err := validMoney("ica.saldo_favor_anterior", in.SaldoFavorAnterior, false)
	if err != nil {
		return err
	}
	r32 = rd(r32)
	preSanction := r25.Sub(minus[0]).Sub(minus[1]).Sub(minus[2]).Sub(minus[3]).Add(r30).Sub(r32)

	// Sanción por extemporaneidad (renglón 31).
	due, hasDue := m.icaFiling[req.Year]
	r31 := decimal.Zero
	sanUnres := ""
	if !filed.IsZero() {
		if !hasDue {
			sanUnres = fmt.Sprintf("no hay plazo para declarar el ICA del año gravable %d de %s en las reglas", req.Year, m.name)
		} else if filed.After(due.date) {
			bal := decimal.Zero
			if preSanction.Sign() < 0 {
				bal = preSanction.Neg()
			}
			eq, err := validMoney("ica.sancion.patrimonio_liquido_anterior", in.Sancion.PatrimonioLiquidoAnterior, false)
			if err != nil {
				return err
			}
			s := n.sanction(SanctionFacts{Tax: r25, Income: r10, Balance: bal, Equity: eq, Due: due.date, Filed: filed,
				PriorInfraction: in.Sancion.InfraccionAnterior, NoReduction: in.Sancion.SinReduccion, Round: true})
			r31 = s.Value
			i := addR("31", r31, "sancion.extemporaneidad", s.Cite)
			b.res.Lines[i].Unresolved = s.Unresolved
			if b.explain {
				b.params(i, "vence", due.date.String(), "presentada", filed.String(), "meses_o_fraccion", strconv.Itoa(s.Months), "base", s.Base,
					"sancion_bruta", s.Gross.String(), "tope", s.Cap.String(), "porcentaje_a_pagar_art640", s.PayPercent.String(),
					"sancion_reducida", s.Reduced.String(), "sancion_minima_art639", s.Minimum.String(), "plazo", due.cite)
			}
		}
	}
	if sanUnres != "" {
		i := addR("31", decimal.Zero, "sancion.extemporaneidad", "ET art. 641")
		b.res.Lines[i].Unresolved = sanUnres
	}
	if r32.Sign() > 0 {
		addR("32", r32, "ica.entrada", artFUN+", renglón 32")
	}
	net := preSanction.Add(r31)
	r33, r34 := decimal.Zero, decimal.Zero
	if net.Sign() >= 0 {
		r33 = net
	} else {
		r34 = net.Neg()
	}
	addR("33", r33, "ica.saldo_a_cargo", artFUN+", renglón 33 (25 − 26 − 27 − 28 − 29 + 30 + 31 − 32, si es positivo)")
	addR("34", r34, "ica.saldo_a_favor", artFUN+", renglón 34 (si el resultado es negativo)")
	r35 := r33
	addR("35", r35, "ica.valor_a_pagar", artFUN+", renglón 35")

	// Pago: descuento (36) e intereses (37).
	paid := req.PaymentDate
	r36, r37 := decimal.Zero, decimal.Zero
	var unres37 string
	if !paid.IsZero() && r35.Sign() > 0 {
		waive := false
		var rr *reliefRule
		var payPct decimal.Decimal
		var rcite string
		if hasDue {
			rr, payPct, rcite = r.reliefFor(m, due.date, paid)
		}
		if rr != nil {
			// Alivio (Decreto 678 de 2020 art. 7): the capital is reduced and sanctions and
			// interest are waived. The single form has no renglón for it; it is shown in 36.
			capital, waived := r35, decimal.Zero
			if rr.waiveSanctions {
				waived = minDec(r31, r35)
				capital = capital.Sub(waived)
			}
			r36 = minDec(rd(pctOf(capital, hundred.Sub(payPct))).Add(waived), r35)
			i := b.add("36", "Alivio: reducción de capital y condonación de sanciones (Decreto 678 de 2020, art. 7)", r36, "alivio."+rr.id, rcite+"; "+rcite577(n))
			b.res.Lines[i].Art577 = true
			if b.explain {
				b.params(i, "capital", capital.String(), "porcentaje_a_pagar", payPct.String(), "sanciones_condonadas", waived.String())
			}
			waive = rr.waiveInterest
		} else if d, ok := m.icaDisc[req.Year]; ok && (!hasDue || !filed.After(due.date)) {
			if pct, until, ok := discountFor(d, paid); ok {
				base := r20
				if d.baseLine == "25" {
					base = r25
				}
				r36 = minDec(rd(pctOf(base, pct)), r35)
				i := addR("36", r36, "ica.descuento_pronto_pago", d.cite)
				if b.explain {
					b.params(i, "base_renglon", d.baseLine, "base", base.String(), "porcentaje", pct.String(), "fecha_pago", paid.String(), "pague_hasta", until.String())
				}
			}
		}
		if hasDue && paid.After(due.date) && !waive {
			capital := r35.Sub(r31)
			if capital.Sign() > 0 {
				it := n.moratory(capital, due.date, paid, b.explain)
				r37 = rd(it.Value)
				unres37 = it.Unresolved
				i := addR("37", r37, "interes.moratorio", it.Cite)
				b.res.Lines[i].Unresolved = unres37
				if b.explain {
					b.params(i, "capital", capital.String(), "interes_sin_redondeo", it.Value.String(), "vence", due.date.String(), "fecha_pago", paid.String(),
						"dias", strconv.Itoa(it.Days), "periodos", describePeriods(it.Periods))
				}
			}
		} else if !hasDue && !paid.IsZero() {
			unres37 = fmt.Sprintf("no hay plazo del ICA %d de %s en las reglas", req.Year, m.name)
		}
	}
	r38 := r35.Sub(r36).Add(r37)
	i = addR("38", r38, "ica.total_a_pagar", artFUN+", renglón 38 (35 − 36 + 37)")
	for k := range b.res.Lines {
		if u := b.res.Lines[k].Unresolved; u != "" {
			b.res.Lines[i].Unresolved = u
		}
	}
	if unres37 != "" {
		b.res.Lines[i].Unresolved = unres37
	}
	b.res.TotalCode, b.res.Total = "38", b.res.Lines[i].Value
	return nil
}
