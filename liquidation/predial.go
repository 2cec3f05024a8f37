package liquidation

import (
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"
)

// Predial line codes.
const (
	PAvaluo     = "P01"
	PLiquidado  = "P02"
	PTope       = "P03"
	PImpuesto   = "P04"
	PAmbiental  = "P05"
	PBomberil   = "P06"
	PTotalImp   = "P07"
	PDescuento  = "P08"
	PAlivio     = "P09"
	PIntereses  = "P10"
	PTotalPagar = "P11"
)

const artBaseGravable = "Ley 44 de 1990, art. 3 (base gravable: avalúo catastral o autoavalúo)"

func (m *municipality) predialBand(set *predialTariffSet, destino string, estrato int, avaluo decimal.Decimal) *predialBand {
	for i := range set.bands {
		bd := &set.bands[i]
		if bd.destino != destino {
			continue
		}
		if bd.estratos != 0 && (estrato < 0 || estrato > 15 || bd.estratos&(1<<uint(estrato)) == 0) {
			continue
		}
		if bd.hasUpTo && avaluo.Cmp(bd.upTo) > 0 {
			continue
		}
		return bd
	}
	return nil
}

func (r *Rules) predial(req *Request, m *municipality, b *builder) error {
	in := req.Predial
	if in == nil {
		return fieldErr("predial", "faltan los datos del predio")
	}
	avaluo, err := validMoney("predial.avaluo", in.Avaluo, true)
	if err != nil {
		return err
	}
	if in.Destino == "" {
		return fieldErr("predial.destino", "es obligatorio")
	}
	dest, ok := m.destinos[in.Destino]
	if !ok {
		return fieldErr("predial.destino", "destino %q no existe en las reglas de %s", in.Destino, m.name)
	}
	if in.Estrato < 0 || in.Estrato > 6 {
		return fieldErr("predial.estrato", "debe estar entre 0 y 6")
	}
	prior, err := validMoney("predial.impuesto_anterior", in.ImpuestoAnterior, false)
	if err != nil {
		return err
	}
	jan1 := NewDate(req.Year, 1, 1)
	ti := pickSpan(m.predialTariffs, jan1)
	if ti < 0 {
		return ruleErr("predial.tarifa", "no hay tarifas de predial de %s para %d", m.name, req.Year)
	}
	set := &m.predialTariffs[ti]
	band := m.predialBand(set, in.Destino, in.Estrato, avaluo)
	if band == nil {
		return ruleErr("predial.tarifa", "no hay tarifa de predial en %s para el destino %q, estrato %d y avalúo %s en %d", m.name, in.Destino, in.Estrato, avaluo.String(), req.Year)
	}

	i := b.add(PAvaluo, "Avalúo catastral (base gravable)", avaluo, "predial.base_gravable", artBaseGravable)
	if b.explain {
		b.params(i, "avaluo", avaluo.String())
	}

	liquidado := perMille(avaluo, band.rate)
	i = b.add(PLiquidado, "Impuesto predial liquidado (avalúo × tarifa ÷ 1.000)", liquidado, "predial.tarifa", set.citeTax)
	if b.explain {
		b.params(i, "avaluo", avaluo.String(), "tarifa_por_mil", band.rate.String(), "destino", in.Destino+" ("+dest.label+")",
			"estrato", strconv.Itoa(in.Estrato), "vigencia_tarifa_desde", set.from.String())
	}
	if band.hasUpTo {
		if b.explain {
			b.params(i, "avaluo_hasta", band.upTo.String())
		}
	}

	// Yearly increase limits (Ley 44 de 1990 art. 6; Ley 1995 de 2019 art. 2).
	impuesto := liquidado
	unres := ""
	capV, capRule, capCite, capLabel, capParams, applicable, missing := r.predialLimit(req, in, dest, avaluo, prior, jan1, b.explain)
	if applicable {
		if missing != "" {
			unres = missing
		} else {
			i = b.add(PTope, capLabel, capV, capRule, capCite)
			if b.explain {
				b.params(i, capParams...)
			}
			if b.explain {
				b.params(i, "impuesto_anterior", prior.String())
			}
			if liquidado.Cmp(capV) > 0 {
				impuesto = capV
			}
		}
	}
	i = b.add(PImpuesto, "Impuesto predial a cargo", impuesto, "predial.impuesto", "Ley 44 de 1990, arts. 4 y 6; Ley 1995 de 2019, art. 2")
	if unres != "" {
		b.res.Lines[i].Unresolved = unres
	}
	if b.explain {
		if impuesto.Cmp(liquidado) < 0 {
			if b.explain {
				b.params(i, "limite_aplicado", "sí", "impuesto_liquidado", liquidado.String())
			}
		} else {
			if b.explain {
				b.params(i, "limite_aplicado", "no")
			}
		}
		if ex := predialExceptions(in, dest); ex != "" {
			if b.explain {
				b.params(i, "excepciones_al_limite", ex)
			}
		}
	}
	total := impuesto

	// Sobretasa ambiental (Ley 99 de 1993 art. 44).
	var ambiental decimal.Decimal
	ambiental = decimal.Zero
	if ai := pickSpan(m.ambiental, jan1); ai >= 0 {
		a := &m.ambiental[ai]
		if a.onAvaluo {
			ambiental = perMille(avaluo, a.rate)
			i = b.add(PAmbiental, "Sobretasa ambiental (por mil del avalúo)", ambiental, "predial.sobretasa_ambiental", a.cite)
			if b.explain {
				b.params(i, "avaluo", avaluo.String(), "tarifa_por_mil", a.rate.String())
			}
			total = total.Add(ambiental)
		} else {
			v := pctOf(impuesto, a.rate)
			i = b.add(PAmbiental, "Sobretasa ambiental (porcentaje del recaudo transferido a la autoridad ambiental; no se suma)", v, "predial.sobretasa_ambiental", a.cite)
			b.res.Lines[i].Informative = true
			b.res.Lines[i].Unresolved = unres
			if b.explain {
				b.params(i, "impuesto", impuesto.String(), "porcentaje", a.rate.String())
			}
		}
	}
	// Sobretasa bomberil (Ley 1575 de 2012 art. 37).
	bomberil := decimal.Zero
	if bi := pickSpan(m.bomberilPredial, jan1); bi >= 0 {
		p := &m.bomberilPredial[bi]
		bomberil = pctOf(impuesto, p.pct)
		i = b.add(PBomberil, "Sobretasa bomberil (porcentaje del impuesto predial)", bomberil, "predial.sobretasa_bomberil", p.cite)
		b.res.Lines[i].Unresolved = unres
		if b.explain {
			b.params(i, "impuesto", impuesto.String(), "porcentaje", p.pct.String())
		}
		total = total.Add(bomberil)
	}
	i = b.add(PTotalImp, "Total impuesto predial y sobretasas", total, "predial.total_impuesto", "suma de los renglones anteriores")
	b.res.Lines[i].Unresolved = unres

	pay := total
	paid := req.PaymentDate
	due, hasDue := m.predialDue[req.Year]
	if paid.IsZero() {
		if b.explain {
			b.warn("Sin fecha de pago: no se liquidan descuento por pronto pago ni intereses de mora.")
		}
	} else {
		// Pronto pago.
		if d, ok := m.predialDisc[req.Year]; ok {
			if pct, until, ok := discountFor(d, paid); ok {
				base := decimal.Zero
				for _, a := range d.appliesTo {
					switch a {
					case "impuesto":
						base = base.Add(impuesto)
					case "sobretasa_bomberil":
						base = base.Add(bomberil)
					case "sobretasa_ambiental":
						base = base.Add(ambiental)
					}
				}
				disc := pctOf(base, pct)
				i = b.add(PDescuento, "Descuento por pronto pago", disc, "predial.descuento_pronto_pago", d.cite)
				b.res.Lines[i].Unresolved = unres
				if b.explain {
					b.params(i, "base", base.String(), "porcentaje", pct.String(), "fecha_pago", paid.String(), "pague_hasta", until.String())
				}
				pay = pay.Sub(disc)
			}
		}
		waive := false
		if hasDue {
			if rr, payPct, cite := r.reliefFor(m, due.date, paid); rr != nil {
				red := pctOf(pay, hundred.Sub(payPct))
				i = b.add(PAlivio, "Alivio: reducción del capital (Decreto 678 de 2020, art. 7)", red, "alivio."+rr.id, cite)
				b.res.Lines[i].Unresolved = unres
				if b.explain {
					b.params(i, "capital", pay.String(), "porcentaje_a_pagar", payPct.String(), "fecha_pago", paid.String())
				}
				pay = pay.Sub(red)
				waive = rr.waiveInterest
			}
		}
		switch {
		case !hasDue:
			i = b.add(PIntereses, "Intereses de mora", decimal.Zero, "interes.moratorio", "ET arts. 634 y 635")
			b.res.Lines[i].Unresolved = fmt.Sprintf("no hay fecha límite de pago del predial %d de %s en las reglas", req.Year, m.name)
		case waive:
			i = b.add(PIntereses, "Intereses de mora (condonados por el alivio)", decimal.Zero, "alivio.decreto678_art7", "Decreto 678 de 2020, art. 7")
		case paid.After(due.date):
			it := r.nat.moratory(total, due.date, paid, b.explain)
			i = b.add(PIntereses, "Intereses de mora", it.Value, "interes.moratorio", it.Cite)
			if it.Unresolved != "" {
				b.res.Lines[i].Unresolved = it.Unresolved
			} else {
				b.res.Lines[i].Unresolved = unres
			}
			if b.explain {
				b.params(i, "capital", total.String(), "vence", due.date.String(), "fecha_pago", paid.String(), "dias", strconv.Itoa(it.Days),
					"base_dias", "366", "periodos", describePeriods(it.Periods), "plazo", due.cite)
			}
			pay = pay.Add(it.Value)
		}
	}
	i = b.add(PTotalPagar, "Total a pagar", pay, "predial.total_a_pagar", "suma de los renglones anteriores (sin redondeo del art. 577: la factura de predial no es una declaración)")
	if unres != "" {
		b.res.Lines[i].Unresolved = unres
	} else {
		for k := range b.res.Lines {
			if b.res.Lines[k].Unresolved != "" {
				b.res.Lines[i].Unresolved = b.res.Lines[k].Unresolved
			}
		}
	}
	b.res.TotalCode, b.res.Total = PTotalPagar, pay
	return nil
}

func predialExceptions(in *PredialInput, dest destino) string {
	s := ""
	add := func(x string) {
		if s != "" {
			s += ", "
		}
		s += x
	}
	if dest.loteUrbanizable {
		add("terreno urbanizable no urbanizado o urbanizado no edificado")
	}
	if in.NuevaConstruccion {
		add("nuevo avalúo por construcción")
	}
	if in.PrimeraInscripcion {
		add("predio inscrito por primera vez")
	}
	if in.Autoavaluo {
		add("autoavalúo")
	}
	if in.CambioDestino {
		add("cambio de destino económico")
	}
	if in.CambioArea {
		add("cambio de área")
	}
	return s
}

// predialLimit returns the binding cap among the limits that apply. applicable is
// false when no limit applies (no rule in force, an exception, or no prior tax >0);
// missing names what is needed to compute an applicable limit.
func (r *Rules) predialLimit(req *Request, in *PredialInput, dest destino, avaluo, prior decimal.Decimal, jan1 Date, explain bool) (
	capV decimal.Decimal, rule, cite, label string, params []string, applicable bool, missing string) {
	n := &r.nat
	type cand struct {
		v                 decimal.Decimal
		rule, cite, label string
		params            []string
	}
	var best cand
	found := false
	consider := func(c cand) {
		if !found || c.v.Cmp(best.v) < 0 {
			best, found = c, true
		}
	}
	priorKnown := in.ImpuestoAnterior.Valid
	// Ley 44 de 1990 art. 6: formación catastral.
	if in.FormacionCatastral && !in.PrimeraInscripcion && !dest.loteUrbanizable && !in.NuevaConstruccion {
		if li := pickSpan(n.ley44, jan1); li >= 0 {
			applicable = true
			if !priorKnown {
				missing = "falta predial.impuesto_anterior para aplicar el límite de la Ley 44 de 1990, art. 6 (formación catastral)"
			} else if prior.Sign() > 0 {
				l := &n.ley44[li]
				var pp []string
				if explain {
					pp = []string{"multiplo", l.multiple.String()}
				}
				consider(cand{prior.Mul(l.multiple), "predial.limite_ley44_art6", l.cite, "Tope: doble del impuesto del año anterior (formación catastral)", pp})
			}
		}
	}
	// Ley 1995 de 2019 art. 2.
	if li := pickSpan(n.ley1995, jan1); li >= 0 && !dest.loteUrbanizable && !in.NuevaConstruccion && !in.Autoavaluo && !in.CambioDestino && !in.CambioArea {
		l := &n.ley1995[li]
		applicable = true
		ipcYear := req.Year + l.ipcOffset
		ipc, ipcOK := n.ipc.get(ipcYear)
		smmlv, smOK := n.smmlv.get(req.Year)
		switch {
		case !priorKnown:
			missing = "falta predial.impuesto_anterior para aplicar el límite de la Ley 1995 de 2019, art. 2"
		case !ipcOK:
			missing = fmt.Sprintf("no hay IPC de %d en las reglas (Ley 1995 de 2019, art. 2)", ipcYear)
		case prior.Sign() <= 0:
			// no prior tax: nothing to compare with
		default:
			low := dest.vivienda && in.Estrato >= 1 && l.lowStrata&(1<<uint(in.Estrato)) != 0
			if low && !smOK {
				missing = fmt.Sprintf("no hay SMMLV de %d en las reglas (Ley 1995 de 2019, art. 2)", req.Year)
				break
			}
			if low && avaluo.Cmp(smmlv.value.Mul(l.lowMaxSMMLV)) <= 0 {
				inc := pctOf(ipc.value, l.lowIPCPct)
				consider(cand{prior.Add(pctOf(prior, inc)), "predial.limite_ley1995_estratos_1_2", l.cite,
					"Tope: impuesto anterior + IPC (vivienda estratos 1 y 2 con avalúo hasta 135 SMMLV)",
					explainParams(explain, func() []string {
						return []string{"ipc_" + strconv.Itoa(ipcYear), ipc.value.String(), "smmlv_" + strconv.Itoa(req.Year), smmlv.value.String(),
							"avaluo_maximo", smmlv.value.Mul(l.lowMaxSMMLV).String()}
					})})
			} else if in.ActualizacionCatastral {
				inc := ipc.value.Add(l.plusPoints)
				consider(cand{prior.Add(pctOf(prior, inc)), "predial.limite_ley1995_actualizados", l.cite,
					"Tope: impuesto anterior + (IPC + 8 puntos) (predio con actualización catastral)",
					explainParams(explain, func() []string {
						return []string{"ipc_" + strconv.Itoa(ipcYear), ipc.value.String(), "puntos_adicionales", l.plusPoints.String()}
					})})
			} else {
				consider(cand{prior.Add(pctOf(prior, l.notUpdatedPct)), "predial.limite_ley1995_no_actualizados", l.cite,
					"Tope: impuesto anterior + 50 % (predio no actualizado)",
					explainParams(explain, func() []string { return []string{"incremento_maximo_pct", l.notUpdatedPct.String()} })})
			}
		}
	}
	if missing != "" || !found {
		if missing == "" {
			applicable = false
		}
		return decimal.Zero, "", "", "", nil, applicable, missing
	}
	return best.v, best.rule, best.cite, best.label, best.params, true, ""
}

// explainParams builds explanation parameters only when they are asked for.
func explainParams(explain bool, f func() []string) []string {
	if !explain {
		return nil
	}
	return f()
}
