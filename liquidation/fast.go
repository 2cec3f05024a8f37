package liquidation

import (
	"math/bits"

	"github.com/shopspring/decimal"
)

// Fast path for the high-throughput verification of predial bills (the ETL calls
// Verify once per published row). Amounts are held exactly as int64 micro-pesos
// (10^-6 peso) with 128-bit intermediates; any overflow, inexact division or case
// outside the common path (alivio, missing inputs, unresolved rules, explanations)
// falls back to the decimal engine, which remains the reference. This is exact
// integer arithmetic, never floating point; results are returned as decimal.Decimal.
// TestFastPathMatchesDecimalEngine checks both engines agree on random requests.

const micro = 1_000_000

var pow10i64 = [...]int64{1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
	10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000,
	1_000_000_000_000_000, 10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000}

// toMicro converts a decimal to exact micro units without allocating.
func toMicro(d decimal.Decimal) (int64, bool) {
	if d.NumDigits() > 18 {
		return 0, false
	}
	c, e := d.CoefficientInt64(), d.Exponent()
	switch {
	case e == -6:
		return c, true
	case e < -6:
		if -6-e > 18 {
			return 0, false
		}
		p := pow10i64[-6-e]
		if c%p != 0 {
			return 0, false
		}
		return c / p, true
	default:
		if e+6 > 18 {
			return 0, false
		}
		hi, lo := bits.Mul64(uint64(abs64(c)), uint64(pow10i64[e+6]))
		if hi != 0 || lo > 1<<62 {
			return 0, false
		}
		if c < 0 {
			return -int64(lo), true
		}
		return int64(lo), true
	}
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// mulDiv returns a*b/div for non-negative a, b when the result is exact and fits.
func mulDiv(a, b, div int64) (int64, bool) {
	if a < 0 || b < 0 || div <= 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(div) {
		return 0, false
	}
	q, r := bits.Div64(hi, lo, uint64(div))
	if r != 0 || q > 1<<62 {
		return 0, false
	}
	return int64(q), true
}

// mulDivRound returns round-half-up(a*b/div) for non-negative a, b.
func mulDivRound(a, b, div int64) (int64, bool) {
	if a < 0 || b < 0 || div <= 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(div) {
		return 0, false
	}
	q, r := bits.Div64(hi, lo, uint64(div))
	if r >= uint64(div)-r { // 2r >= div, without overflow
		q++
	}
	if q > 1<<62 {
		return 0, false
	}
	return int64(q), true
}

type fastPredial struct {
	avaluo, liquidado, tope, impuesto, ambiental, bomberil, totalImp, descuento, intereses, total int64
	hasTope, hasAmbiental, hasBomberil, hasDescuento, hasIntereses                                bool
}

func (f *fastPredial) line(code string) (int64, bool) {
	switch code {
	case PAvaluo:
		return f.avaluo, true
	case PLiquidado:
		return f.liquidado, true
	case PTope:
		return f.tope, f.hasTope
	case PImpuesto:
		return f.impuesto, true
	case PAmbiental:
		return f.ambiental, f.hasAmbiental
	case PBomberil:
		return f.bomberil, f.hasBomberil
	case PTotalImp:
		return f.totalImp, true
	case PDescuento:
		return f.descuento, f.hasDescuento
	case PIntereses:
		return f.intereses, f.hasIntereses
	case PTotalPagar:
		return f.total, true
	}
	return 0, false
}

// pctM returns base x pct% for micro-unit base and pct.
func pctM(base, pct int64) (int64, bool) { return mulDiv(base, pct, 100*micro) }

// predialFast mirrors (*Rules).predial for the common case; false means "use the
// decimal engine" (which also produces every error message).
func (r *Rules) predialFast(req *Request, m *municipality, f *fastPredial) bool {
	in := req.Predial
	if in == nil || !in.Avaluo.Valid || in.Avaluo.Decimal.Sign() < 0 || in.Estrato < 0 || in.Estrato > 6 {
		return false
	}
	dest, ok := m.destinos[in.Destino]
	if !ok {
		return false
	}
	av, ok := toMicro(in.Avaluo.Decimal)
	if !ok || av > 10_000_000_000_000_000 { // maxMoney 10^16 pesos is checked by the slow path
		return false
	}
	prior := int64(0)
	if in.ImpuestoAnterior.Valid {
		if prior, ok = toMicro(in.ImpuestoAnterior.Decimal); !ok || prior < 0 {
			return false
		}
	}
	jan1 := NewDate(req.Year, 1, 1)
	ti := pickSpan(m.predialTariffs, jan1)
	if ti < 0 {
		return false
	}
	band := m.predialBandMicro(&m.predialTariffs[ti], in.Destino, in.Estrato, av)
	if band == nil {
		return false
	}
	rate, ok := toMicro(band.rate)
	if !ok {
		return false
	}
	*f = fastPredial{avaluo: av}
	if f.liquidado, ok = mulDiv(av, rate, 1000*micro); !ok {
		return false
	}
	// limits
	n := &r.nat
	capSet := false
	var capV int64
	consider := func(v int64) {
		if !capSet || v < capV {
			capV, capSet = v, true
		}
	}
	if in.FormacionCatastral && !in.PrimeraInscripcion && !dest.loteUrbanizable && !in.NuevaConstruccion {
		if li := pickSpan(n.ley44, jan1); li >= 0 {
			if !in.ImpuestoAnterior.Valid {
				return false
			}
			if prior > 0 {
				mult, ok := toMicro(n.ley44[li].multiple)
				if !ok {
					return false
				}
				v, ok := mulDiv(prior, mult, micro)
				if !ok {
					return false
				}
				consider(v)
			}
		}
	}
	if li := pickSpan(n.ley1995, jan1); li >= 0 && !dest.loteUrbanizable && !in.NuevaConstruccion && !in.Autoavaluo && !in.CambioDestino && !in.CambioArea {
		l := &n.ley1995[li]
		ipc, ipcOK := n.ipc.get(req.Year + l.ipcOffset)
		if !in.ImpuestoAnterior.Valid || !ipcOK {
			return false
		}
		if prior > 0 {
			low := dest.vivienda && in.Estrato >= 1 && l.lowStrata&(1<<uint(in.Estrato)) != 0
			ipcM, ok1 := toMicro(ipc.value)
			if !ok1 {
				return false
			}
			var inc int64
			switch {
			case low:
				sm, smOK := n.smmlv.get(req.Year)
				if !smOK {
					return false
				}
				smM, ok1 := toMicro(sm.value)
				maxS, ok2 := toMicro(l.lowMaxSMMLV)
				lowPct, ok3 := toMicro(l.lowIPCPct)
				thr, ok4 := mulDiv(smM, maxS, micro)
				if !(ok1 && ok2 && ok3 && ok4) {
					return false
				}
				if av <= thr {
					if inc, ok = pctM(ipcM, lowPct); !ok {
						return false
					}
					break
				}
				low = false
				fallthrough
			default:
				if in.ActualizacionCatastral {
					pp, ok := toMicro(l.plusPoints)
					if !ok {
						return false
					}
					inc = ipcM + pp
				} else if inc, ok = toMicro(l.notUpdatedPct); !ok {
					return false
				}
			}
			add, ok := pctM(prior, inc)
			if !ok {
				return false
			}
			consider(prior + add)
		}
	}
	f.impuesto = f.liquidado
	if capSet {
		f.hasTope, f.tope = true, capV
		if f.liquidado > capV {
			f.impuesto = capV
		}
	}
	total := f.impuesto
	if ai := pickSpan(m.ambiental, jan1); ai >= 0 {
		a := &m.ambiental[ai]
		rt, ok := toMicro(a.rate)
		if !ok {
			return false
		}
		f.hasAmbiental = true
		if a.onAvaluo {
			if f.ambiental, ok = mulDiv(av, rt, 1000*micro); !ok {
				return false
			}
			total += f.ambiental
		} else if f.ambiental, ok = pctM(f.impuesto, rt); !ok {
			return false
		}
	}
	if bi := pickSpan(m.bomberilPredial, jan1); bi >= 0 {
		p, ok := toMicro(m.bomberilPredial[bi].pct)
		if !ok {
			return false
		}
		f.hasBomberil = true
		if f.bomberil, ok = pctM(f.impuesto, p); !ok {
			return false
		}
		total += f.bomberil
	}
	f.totalImp = total
	pay := total
	paid := req.PaymentDate
	if !paid.IsZero() {
		if d, ok := m.predialDisc[req.Year]; ok {
			if pct, _, ok := discountFor(d, paid); ok {
				base := int64(0)
				for _, a := range d.appliesTo {
					switch a {
					case "impuesto":
						base += f.impuesto
					case "sobretasa_bomberil":
						base += f.bomberil
					case "sobretasa_ambiental":
						if m.ambiental != nil && pickSpan(m.ambiental, jan1) >= 0 && m.ambiental[pickSpan(m.ambiental, jan1)].onAvaluo {
							base += f.ambiental
						}
					}
				}
				p, ok1 := toMicro(pct)
				disc, ok2 := pctM(base, p)
				if !ok1 || !ok2 {
					return false
				}
				f.hasDescuento, f.descuento = true, disc
				pay -= disc
			}
		}
		due, hasDue := m.predialDue[req.Year]
		if !hasDue {
			return false
		}
		if rr, _, _ := r.reliefFor(m, due.date, paid); rr != nil {
			return false
		}
		if paid.After(due.date) {
			it, ok := r.nat.moratoryMicro(total, due.date, paid)
			if !ok {
				return false
			}
			f.hasIntereses, f.intereses = true, it
			pay += it
		}
	}
	f.total = pay
	return true
}

// moratoryMicro mirrors (*national).moratory in micro units.
func (n *national) moratoryMicro(capital int64, due, paid Date) (int64, bool) {
	if capital <= 0 || !paid.After(due) {
		return 0, true
	}
	first := due.AddDays(1)
	i := 0
	for i < len(n.usury) && n.usury[i].to.Before(first) {
		i++
	}
	var sum int64 // percent-days in micro units
	basis := int64(366)
	cur := first
	for cur.Sub(paid) <= 0 {
		if i >= len(n.usury) || cur.Before(n.usury[i].from) {
			return 0, false
		}
		p := &n.usury[i]
		end := p.to
		if paid.Before(end) {
			end = paid
		}
		days := int64(end.Sub(cur) + 1)
		if ir := pickSpan(n.interest, cur); ir >= 0 {
			basis = n.interest[ir].dayBasis
		}
		netM, ok := toMicro(p.net)
		if !ok {
			return 0, false
		}
		sum += netM * days
		cur = end.AddDays(1)
		i++
	}
	// interest (pesos) = capital x sum / (100 x basis), rounded half up to centavos:
	// centavos = capital_micro x sum_micro / (micro x micro x basis).
	div := micro * micro * basis
	cents, ok := mulDivRound(capital, sum, div)
	if !ok {
		return 0, false
	}
	return cents * 10_000, true // centavos -> micro
}

func fromMicro(v int64) decimal.Decimal { return decimal.New(v, -6) }

// classifyMicro is classify (verify.go) on micro units.
func classifyMicro(declared, expected int64) (Status, int64) {
	diff := declared - expected
	switch {
	case diff == 0:
		return StatusMatch, 0
	case abs64(diff) < micro:
		return StatusRounding, diff
	case abs64(diff) < 1000*micro && (declared%(1000*micro) == 0 || expected%(1000*micro) == 0):
		return StatusRounding, diff
	}
	return StatusDiscrepancy, diff
}

// verifyFast is the allocation-light Verify for predial rows, written into
// v (its Lines' array is reused) with the total's check in total; false
// means "use the general path", and then v holds nothing of use.
func (r *Rules) verifyFast(req *Request, v *Verification, total *Check) bool {
	if req == nil || req.Tax != TaxPredial || req.Explain || req.validateCommon() != nil {
		return false
	}
	m := r.munis[req.Municipality]
	if m == nil {
		return false
	}
	var fp fastPredial
	if !r.predialFast(req, m, &fp) {
		return false
	}
	*v = Verification{ID: req.ID, Status: StatusMatch, Lines: v.Lines[:0]}
	check := func(code string, d decimal.Decimal, e int64, present bool) (Check, bool) {
		if !present {
			return Check{Code: code, Status: StatusUnverifiable, Declared: d, Difference: decimal.Zero,
				Reason: "la liquidación recalculada no tiene el renglón " + code}, true
		}
		dm, ok := toMicro(d)
		if !ok {
			return Check{}, false
		}
		st, diff := classifyMicro(dm, e)
		c := Check{Code: code, Status: st, Declared: d, Expected: fromMicro(e), HasExpected: true, Difference: decimal.Zero}
		if diff != 0 {
			c.Difference = fromMicro(diff)
		}
		switch st {
		case StatusRounding:
			if abs64(diff) < micro {
				c.Reason = "diferencia de centavos (redondeo al peso)"
			} else {
				c.Reason = "diferencia explicada por el redondeo al múltiplo de mil (ET art. 577)"
			}
		case StatusDiscrepancy:
			c.Reason = "el valor publicado difiere del recalculado con las reglas (" + predialRuleOf(code) + ")"
		}
		if st.severity() > v.Status.severity() {
			v.Status = st
		}
		return c, true
	}
	if v.Lines == nil {
		v.Lines = make([]Check, 0, len(req.Declared))
	}
	if len(req.Declared) > 0 {
		var buf [4]string
		for _, code := range sortedCodesFast(req.Declared, &buf) {
			e, present := fp.line(code)
			c, ok := check(code, req.Declared[code], e, present)
			if !ok {
				return false
			}
			v.Lines = append(v.Lines, c)
		}
	}
	if req.DeclaredTotal.Valid {
		c, ok := check(PTotalPagar, req.DeclaredTotal.Decimal, fp.total, true)
		if !ok {
			return false
		}
		c.Code = "total"
		*total = c
		v.Total = total
	}
	return true
}

// Verifier verifies request after request with the same rules, reusing
// its verdict's memory: the ETL recomputes every liquidation it loads and
// copies what it keeps of each verdict before the next one. A verdict, its
// lines and its total, allocated for each predial row, were 320 bytes of
// the load's 1,640 per row (etl/BENCHMARKS.md, "Session 14"). A Verifier
// is for one goroutine.
type Verifier struct {
	rules *Rules
	v     Verification
	total Check
}

// Verifier returns a Verifier of r.
func (r *Rules) Verifier() *Verifier { return &Verifier{rules: r} }

// Verify is Rules.Verify; the verdict it returns is valid until the next
// call.
func (vr *Verifier) Verify(req *Request) *Verification {
	if vr.rules.verifyFast(req, &vr.v, &vr.total) {
		return &vr.v
	}
	return vr.rules.Verify(req)
}

func sortedCodesFast(m map[string]decimal.Decimal, buf *[4]string) []string {
	if len(m) == 1 {
		for k := range m {
			buf[0] = k
			return buf[:1]
		}
	}
	return sortedCodes(m)
}

func predialRuleOf(code string) string {
	switch code {
	case PLiquidado:
		return "predial.tarifa"
	case PTope, PImpuesto:
		return "predial.impuesto; Ley 44 de 1990, arts. 4 y 6; Ley 1995 de 2019, art. 2"
	case PAmbiental:
		return "predial.sobretasa_ambiental"
	case PBomberil:
		return "predial.sobretasa_bomberil"
	case PDescuento:
		return "predial.descuento_pronto_pago"
	case PIntereses:
		return "interes.moratorio; ET arts. 634 y 635"
	}
	return "predial.total"
}

// predialBandMicro is predialBand comparing micro-peso integers.
func (m *municipality) predialBandMicro(set *predialTariffSet, destino string, estrato int, av int64) *predialBand {
	for i := range set.bands {
		bd := &set.bands[i]
		if bd.destino != destino {
			continue
		}
		if bd.estratos != 0 && (estrato < 0 || estrato > 15 || bd.estratos&(1<<uint(estrato)) == 0) {
			continue
		}
		if bd.hasUpTo {
			if !bd.upToMOK {
				return nil
			}
			if av > bd.upToM {
				continue
			}
		}
		return bd
	}
	return nil
}
