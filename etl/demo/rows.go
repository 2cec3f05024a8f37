package demo

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/etl/recompute"
	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/liquidation"
)

// Rows. Every liquidation is built as the ingest record a municipal export
// would decode to, mapped to the liquidation core with etl/recompute (the
// mapping the ETL verifies with) and liquidated by the core; the billed or
// declared amounts written are the core's, except for the deliberate
// deviations. A payment's amount is the core's total for the payment date
// (pronto-pago discount, Decreto 678 relief, late interest) applied to
// what was billed.

// Deliberate deviations, by kind. Their counts per file are in the manifest.
const (
	devNone = iota
	devDiscrepancy
	devUnverifiable
)

// discrepancyRate and unverifiableRate are the shares of liquidations
// deliberately off the rules, and deliberately missing an input or a rule.
const (
	discrepancyRate  = 0.02
	unverifiableRate = 0.01
)

var devNames = []string{
	"tarifa_incorrecta", "sobretasa_ambiental_mal_liquidada", "limite_ley1995_no_aplicado", "descuento_no_autorizado",
	"avisos_omitidos", "error_aritmetico", // discrepancies
	"sin_impuesto_anterior", "destino_sin_tarifa", "sin_avaluo", "ciiu_sin_tarifa", // unverifiable
}

const (
	dTarifa = iota
	dAmbiental
	dLimite
	dDescuento
	dAvisos
	dAritmetico
	uPrior
	uDestino
	uAvaluo
	uCIIU
	nDev
)

// liqRow is one liquidation as written.
type liqRow struct {
	rec      ingest.Liquidation
	who      *party
	web      bool
	dev      int // index in devNames, or -1
	devClass int
}

// payRow is one payment as written.
type payRow struct {
	id, liqID, tax string
	year           int
	who            *party
	at             stamp
	amount         decimal.Decimal
	ch             *chanLabel
}

var (
	thousandDec = decimal.NewFromInt(1000)
)

func decInt(v int64) decimal.Decimal { return decimal.NewFromInt(v) }

// round1000 rounds a float amount of pesos to thousands (avalúos and ICA
// figures are whole thousands).
func round1000(x float64) decimal.Decimal {
	return decimal.NewFromInt(int64(math.Round(x/1000)) * 1000)
}

func ptr(d decimal.Decimal) *decimal.Decimal { return &d }

func lineVal(res *liquidation.Result, code string) (decimal.Decimal, bool) {
	if l := res.Line(code); l != nil {
		return l.Value, true
	}
	return decimal.Zero, false
}

func taxIdx(tax string) int {
	switch tax {
	case ingest.TaxICA:
		return 1
	case ingest.TaxReteICA:
		return 2
	}
	return 0
}

var channelIdx = map[string]int{"web": 0, "pse": 1, "tarjeta": 2, "banco": 3, "presencial": 4}

// ---------------------------------------------------------------- predial

// property is the persistent part of a predio.
type property struct {
	destino string
	estrato int
	rural   bool
	base    float64 // avalúo in 2020 pesos, before rounding
	area    decimal.Decimal
	built   decimal.Decimal
	owner   party
	address string
	propID  string
}

var propertyCompanies = []string{"Inversiones %s S.A.S.", "Inmobiliaria %s Ltda.", "Constructora %s S.A.S.", "Sociedad %s S.A.S.", "Parroquia %s"}

func (g *gen) property(m *muniProfile, i int) property {
	r := newRnd(g.seed, kPredial, uint64(m.idx), uint64(i))
	var p property
	p.destino = predialDestinos[r.pick(m.destinoW)]
	if p.destino == "habitacional" {
		p.estrato = 1 + r.pick(m.estratoW[:])
		p.rural = m == caqueza && r.chance(0.3) || m == florencia && r.chance(0.05)
	}
	p.rural = p.rural || p.destino == "rural"
	med := avaluoOther[p.destino]
	if p.destino == "habitacional" {
		med = avaluoHab[p.estrato-1]
	}
	p.base = r.lognormal(med*m.avaluoFactor, 0.45)
	switch {
	case p.rural && p.destino == "rural":
		p.area = decInt(int64(r.lognormal(25000, 1)))
		p.built = decInt(int64(r.lognormal(90, 0.5)))
	case p.destino == "lote_urbanizable_no_urbanizado" || p.destino == "lote_urbanizado_no_edificado":
		p.area = decInt(int64(r.lognormal(400, 0.7)))
		p.built = decimal.Zero
	default:
		a := r.lognormal(140, 0.5)
		p.area = decInt(int64(a))
		p.built = decInt(int64(a * (0.6 + 1.4*r.float())))
	}
	pool := max(1, int(0.8*float64(g.nProps(m, lastYear))))
	owner := int(key(g.seed, kOwner, uint64(m.idx), uint64(i)) % uint64(pool))
	ro := newRnd(g.seed, kOwner, uint64(m.idx), uint64(owner))
	if ro.chance(0.93) {
		p.owner = naturalPerson(&ro, m, ro.chance(0.1))
	} else {
		p.owner = company(&ro, m, propertyCompanies)
	}
	p.address = m.address(&r, p.rural)
	p.propID = m.propertyID(i, p.rural)
	return p
}

// avaluoIndex is the avalúo of year y relative to 2020: a 3 % yearly
// reajuste plus the municipality's actualización catastral.
func (m *muniProfile) avaluoIndex(y int) float64 {
	idx := 1.0
	for k := 2021; k <= y; k++ {
		idx *= 1.03 * jumpOf(m, k)
	}
	for k := y + 1; k <= 2020; k++ {
		idx /= 1.03 * jumpOf(m, k)
	}
	return idx
}

func jumpOf(m *muniProfile, y int) float64 {
	if j, ok := m.jump[y]; ok {
		return j
	}
	return 1
}

// predialEntity writes the bills (and payments) of property i for every
// year it exists.
func (g *gen) predialEntity(w *worker, m *muniProfile, i int) error {
	p := g.property(m, i)
	cal := g.cal[m.idx]
	var prior decimal.Decimal
	for y := firstYear; y <= lastYear; y++ {
		if i >= g.nProps(m, y) {
			continue
		}
		isNew := y > firstYear && i >= g.nProps(m, y-1)
		r := newRnd(g.seed, kPredial, uint64(m.idx), uint64(i), uint64(y))
		seg := g.plans[planKey{m.idx, kPredial, y, 0}].segment(i)
		avaluo := round1000(p.base * m.avaluoIndex(y))
		if avaluo.LessThan(decInt(5_000_000)) {
			avaluo = decInt(5_000_000)
		}
		row := &w.liq
		*row = liqRow{dev: -1, who: &p.owner}
		rec := &row.rec
		rec.LiquidationID = m.liqID(kPredial, y, i, 0)
		rec.MunicipalityCode = m.code
		rec.Tax = ingest.TaxPredial
		rec.TaxYear = y
		rec.Avaluo = &avaluo
		rec.Destino = p.destino
		if p.destino == "habitacional" {
			e := p.estrato
			rec.Estrato = &e
		}
		if isNew {
			prior = decimal.Zero // first inscription: no prior tax to compare with
		}
		if y > firstYear {
			pr := prior
			rec.PriorYearTax = &pr
		}
		issue := randDay(&r, mkday(y, 1, 8), mkday(y, 1, 22), true)
		rec.IssueDate = issue.ing()
		due := cal.predialDue[y]
		dd := due.ing()
		rec.DueDate = &dd
		row.web = g.filedOnline(&r, seg, m.webPredial, y)

		req := recompute.Request(g.rules, rec)
		res, err := g.rules.Liquidate(req)
		if err != nil {
			return fmt.Errorf("demo: predial %s: %w", rec.LiquidationID, err)
		}
		p04, _ := lineVal(res, liquidation.PImpuesto)
		p02, _ := lineVal(res, liquidation.PLiquidado)
		places := int32(m.liq.places)
		rec.TaxAmount = ptr(p04.Round(places))
		if l := res.Line(liquidation.PAmbiental); l != nil && !l.Informative {
			rec.SobretasaAmbiental = ptr(l.Value.Round(places))
		}
		if v, ok := lineVal(res, liquidation.PBomberil); ok {
			rec.SobretasaBomberil = ptr(v.Round(places))
		}
		rec.TotalAmount = res.Total.Round(places)
		if y == firstYear {
			// the 2011 tax, for the "impuesto año anterior" column
			pr := p02.Div(decimal.NewFromFloat(1.03)).Round(0)
			rec.PriorYearTax = &pr
		}
		if m == florencia {
			rate := p02.Mul(thousandDec).Div(avaluo).Round(4)
			rec.RatePerMille = &rate
		}
		rec.AreaM2, rec.BuiltAreaM2 = ptr(p.area), ptr(p.built)
		if p.rural {
			rec.Sector = "rural"
		} else {
			rec.Sector = "urbano"
		}
		rec.PropertyID = p.propID
		rec.TaxpayerAddress = p.address

		// deliberate deviations
		face := res.Total
		dv := newRnd(g.seed, kDev, uint64(m.idx), kPredial, uint64(i), uint64(y))
		switch u := dv.float(); {
		case u < discrepancyRate:
			row.devClass = devDiscrepancy
			row.dev = dTarifa
			switch dv.intn(4) {
			case 1:
				if rec.SobretasaAmbiental != nil {
					if d := avaluo.Mul(decimal.NewFromFloat(0.5)).Div(thousandDec).Round(0); d.GreaterThanOrEqual(decInt(2000)) {
						row.dev = dAmbiental
						rec.SobretasaAmbiental = ptr(rec.SobretasaAmbiental.Add(d))
						rec.TotalAmount = rec.TotalAmount.Add(d)
					}
				}
			case 2:
				if d := p02.Sub(p04).Round(0); d.GreaterThanOrEqual(decInt(2000)) {
					row.dev = dLimite
					rec.TaxAmount = ptr(p02.Round(places))
					rec.TotalAmount = rec.TotalAmount.Add(d)
				}
			case 3:
				if d := p04.Div(decInt(10)).Round(0); d.GreaterThanOrEqual(decInt(2000)) {
					row.dev = dDescuento
					rec.TotalAmount = rec.TotalAmount.Sub(d)
				}
			}
			if row.dev == dTarifa {
				d := avaluo.Div(thousandDec).Round(-3)
				rec.TaxAmount = ptr(rec.TaxAmount.Add(d))
				rec.TotalAmount = rec.TotalAmount.Add(d)
			}
		case u < discrepancyRate+unverifiableRate:
			row.devClass = devUnverifiable
			switch {
			case y >= 2020 && y <= 2024 && !isNew && !strings.HasPrefix(p.destino, "lote_"):
				// (lots are outside the Ley 1995 limit: without the prior
				// tax they would still verify)
				row.dev = uPrior
				rec.PriorYearTax = nil
			case dv.chance(0.5):
				row.dev = uDestino
				rec.Destino = "institucional"
			default:
				row.dev = uAvaluo
				rec.Avaluo = nil
			}
		}
		prior = rec.TaxAmount.Round(0)

		// payment
		var pay *payRow
		if seg.pay != cNone && seg.t != tUnpaid {
			win := cal.predialWin[y]
			lo, hi := issue, due
			switch seg.t {
			case tDisc1, tDisc2, tDisc3:
				k := int(seg.t - tDisc1)
				if k < len(win) {
					hi = win[k]
					if k > 0 {
						lo = win[k-1] + 1
					}
				} else if len(win) > 0 {
					lo = win[len(win)-1] + 1
				}
			case tOnTime:
				if len(win) > 0 {
					lo = win[len(win)-1] + 1
				}
			case tLate:
				lo, hi = due+1, mkday(y, 12, 20)
			case tLateQ3:
				lo, hi = mkday(y, 7, 1), mkday(y, 9, 30)
			case tLateQ4:
				lo, hi = mkday(y, 10, 1), mkday(y, 12, 20)
			}
			lo = max(lo, issue)
			paid := randDay(&r, lo, max(lo, hi), true)
			amount := rec.TotalAmount
			if len(win) == 0 || paid <= win[len(win)-1] || paid > due {
				req.PaymentDate = paid.liq()
				res2, err := g.rules.Liquidate(req)
				if err != nil {
					return fmt.Errorf("demo: predial payment %s: %w", rec.LiquidationID, err)
				}
				amount = amount.Add(res2.Total.Sub(face))
			}
			pay = g.payment(w, m, &r, row, seg, paid, amount)
		}
		if err := w.emitLiq(m, row, pay); err != nil {
			return err
		}
	}
	return nil
}

// filedOnline decides the filing channel of a row.
func (g *gen) filedOnline(r *rnd, seg *segment, adoption [][2]float64, y int) bool {
	switch seg.file {
	case cWeb:
		return true
	case cPres:
		return false
	}
	s := seg.webShare
	if s <= 0 {
		s = share(adoption, y)
	}
	return r.chance(s)
}

// payment builds the payment of a row on a day; nil if nothing is due.
func (g *gen) payment(w *worker, m *muniProfile, r *rnd, row *liqRow, seg *segment, paid day, amount decimal.Decimal) *payRow {
	amount = amount.Round(0)
	if amount.Sign() <= 0 {
		return nil
	}
	elec := false
	switch seg.pay {
	case cElec:
		elec = true
	case cOther:
		elec = false
	default:
		elec = r.chance(share(m.elecPay, paid.year()))
	}
	var ch *chanLabel
	var sec int
	if elec {
		ch = pickChan(r, m.elec)
		sec = 6*3600 + r.intn(17*3600)
	} else {
		ch = pickChan(r, m.other)
		sec = 8*3600 + r.intn(8*3600)
	}
	p := &w.pay
	*p = payRow{id: m.payID(row.rec.LiquidationID), liqID: row.rec.LiquidationID, tax: row.rec.Tax, year: row.rec.TaxYear,
		who: row.who, at: stamp{paid, sec}, amount: amount, ch: ch}
	return p
}

func pickChan(r *rnd, list []chanLabel) *chanLabel {
	x := r.float()
	total := 0.0
	for _, c := range list {
		total += c.weight
	}
	x *= total
	for i := range list {
		if x < list[i].weight {
			return &list[i]
		}
		x -= list[i].weight
	}
	return &list[len(list)-1]
}

// ---------------------------------------------------------------- ICA

type business struct {
	ciiu    string
	who     party
	address string
	base    float64
	outside float64
}

// incomeIndex is nominal growth of gross income (2019 = 1; the pandemic
// year 2020 falls).
var incomeIndex = map[int]float64{2011: 0.70, 2012: 0.73, 2013: 0.77, 2014: 0.80, 2015: 0.84, 2016: 0.87, 2017: 0.91,
	2018: 0.955, 2019: 1, 2020: 0.88, 2021: 1.02, 2022: 1.15, 2023: 1.24, 2024: 1.30, 2025: 1.36}

func (g *gen) business(m *muniProfile, b int) business {
	r := newRnd(g.seed, kICA, uint64(m.idx), uint64(b))
	var bz business
	bz.ciiu = m.ciius[r.pick(m.ciiuW)]
	if r.chance(0.35) && bz.ciiu != "6412" && bz.ciiu != "1011" {
		bz.who = naturalPerson(&r, m, true)
	} else {
		bz.who = company(&r, m, companyByCIIU[bz.ciiu])
		if r.chance(0.3) {
			bz.outside = 0.05 + 0.35*r.float()
		}
	}
	bz.address = m.address(&r, bz.ciiu == "0141")
	bz.base = r.lognormal(incomeByCIIU[bz.ciiu]*m.incomeFactor, 0.9)
	return bz
}

func (g *gen) icaEntity(w *worker, m *muniProfile, b int) error {
	bz := g.business(m, b)
	cal := g.cal[m.idx]
	for y := firstICAYear; y <= lastICAYear; y++ {
		start, n := g.bizStart(m, y), g.nBiz(m, y)
		if b < start || b >= start+n {
			continue
		}
		r := newRnd(g.seed, kICA, uint64(m.idx), uint64(b), uint64(y))
		seg := g.plans[planKey{m.idx, kICA, y, 0}].segment(b - start)
		gross := round1000(bz.base * incomeIndex[y] * math.Exp(0.15*r.norm()))
		if gross.LessThan(decInt(12_000_000)) {
			gross = decInt(12_000_000)
		}
		outside := decimal.Zero
		if bz.outside > 0 {
			outside = round1000(gross.InexactFloat64() * bz.outside)
		}
		deductions := decimal.Zero
		if r.chance(0.4) {
			deductions = round1000(gross.InexactFloat64() * (0.01 + 0.07*r.float()))
		}
		taxable := gross.Sub(outside).Sub(deductions)
		withh := decimal.Zero
		if r.chance(0.5) {
			withh = round1000(taxable.InexactFloat64() * 0.006 * (0.05 + 0.3*r.float()))
		}

		due := cal.icaDue[y]
		fy := y + 1
		filed, paid := day(0), day(-1)
		feb1 := mkday(fy, 2, 1)
		switch seg.t {
		case tSameDay:
			filed = randDay(&r, feb1, due, true)
			paid = filed
		case tLaterOnTime:
			filed = randDay(&r, feb1, max(feb1, due-3), true)
			paid = randDay(&r, filed+1, max(filed+1, min(due, filed+20)), true)
			if paid > due {
				paid = due
			}
		case tOnTimePaidQ3:
			filed = randDay(&r, mkday(fy, 3, 1), due, true)
			paid = randDay(&r, mkday(fy, 7, 1), mkday(fy, 9, 30), true)
		case tLateQ2:
			filed = randDay(&r, due+1, mkday(fy, 6, 30), true)
			paid = filed
		case tLateQ2PaidQ3:
			filed = randDay(&r, due+1, mkday(fy, 6, 30), true)
			paid = randDay(&r, mkday(fy, 7, 1), mkday(fy, 9, 30), true)
		case tLateQ3Filed:
			filed = randDay(&r, mkday(fy, 7, 1), mkday(fy, 9, 30), true)
			paid = filed
		case tLateQ4Filed:
			filed = randDay(&r, mkday(fy, 10, 1), mkday(fy, 11, 30), true)
			paid = filed
		case tLateFiled:
			hi := min(due+150, mkday(fy, 12, 15), cutoff)
			filed = randDay(&r, due+1, max(due+1, hi), true)
			paid = filed
		default: // tFiledUnpaid
			filed = randDay(&r, feb1, due, true)
		}
		if seg.pay == cNone {
			paid = -1
		}

		row := &w.liq
		*row = liqRow{dev: -1, who: &bz.who}
		rec := &row.rec
		rec.LiquidationID = m.liqID(kICA, y, b, 0)
		rec.MunicipalityCode = m.code
		rec.Tax = ingest.TaxICA
		rec.TaxYear = y
		rec.GrossIncome, rec.IncomeOutside, rec.Deductions = ptr(gross), ptr(outside), ptr(deductions)
		rec.TaxableIncome = ptr(taxable)
		rec.Withholdings = ptr(withh)
		rec.CIIU = bz.ciiu
		rec.IssueDate = filed.ing()
		dd := due.ing()
		rec.DueDate = &dd
		rec.TaxpayerAddress = bz.address
		row.web = g.filedOnline(&r, seg, m.webICA, fy)

		req := recompute.Request(g.rules, rec)
		res, err := g.rules.Liquidate(req)
		if err != nil {
			return fmt.Errorf("demo: ICA %s: %w", rec.LiquidationID, err)
		}
		r20, _ := lineVal(res, "20")
		r21, _ := lineVal(res, "21")
		r23, _ := lineVal(res, "23")
		rec.TaxAmount, rec.AvisosTableros, rec.SobretasaBomberil = ptr(r20), ptr(r21), ptr(r23)
		if v, ok := lineVal(res, "31"); ok && v.Sign() > 0 {
			rec.Sanctions = ptr(v)
		}
		rec.TotalAmount = res.Total
		face := res.Total

		dv := newRnd(g.seed, kDev, uint64(m.idx), kICA, uint64(b), uint64(y))
		switch u := dv.float(); {
		case u < discrepancyRate:
			row.devClass = devDiscrepancy
			switch k := dv.intn(3); {
			case k == 0 && r21.GreaterThanOrEqual(decInt(2000)):
				row.dev = dAvisos
				rec.AvisosTableros = ptr(decimal.Zero)
				rec.TotalAmount = rec.TotalAmount.Sub(r21)
			case k == 1:
				row.dev = dAritmetico
				d := decInt(int64(2+dv.intn(59)) * 1000)
				if dv.chance(0.5) && rec.TotalAmount.GreaterThan(d) {
					d = d.Neg()
				}
				rec.TotalAmount = rec.TotalAmount.Add(d)
			default:
				row.dev = dTarifa
				d := taxable.Div(thousandDec).Round(-3)
				if d.LessThan(decInt(2000)) {
					d = decInt(2000)
				}
				a := d.Mul(decimal.NewFromFloat(0.15)).Round(-3)
				rec.TaxAmount = ptr(r20.Add(d))
				rec.AvisosTableros = ptr(r21.Add(a))
				rec.TotalAmount = rec.TotalAmount.Add(d).Add(a)
			}
		case u < discrepancyRate+unverifiableRate:
			row.devClass = devUnverifiable
			row.dev = uCIIU
			rec.CIIU = []string{"9602", "4530"}[dv.intn(2)]
		}

		var pay *payRow
		if paid >= 0 {
			amount := rec.TotalAmount
			// paid by the due date and after any pronto-pago window: the
			// declared total is what is paid (no discount, relief or
			// interest), so the core need not run again
			if paid > due || paid <= cal.icaWin[y] {
				req.PaymentDate = paid.liq()
				res2, err := g.rules.Liquidate(req)
				if err != nil {
					return fmt.Errorf("demo: ICA payment %s: %w", rec.LiquidationID, err)
				}
				amount = amount.Add(res2.Total.Sub(face))
			}
			pay = g.payment(w, m, &r, row, seg, paid, amount)
		}
		if err := w.emitLiq(m, row, pay); err != nil {
			return err
		}
	}
	return nil
}

// ---------------------------------------------------------------- ReteICA

func (g *gen) retEntity(w *worker, m *muniProfile, a int) error {
	r0 := newRnd(g.seed, kRet, uint64(m.idx), uint64(a))
	who := company(&r0, m, agentNames)
	address := m.address(&r0, false)
	ciiu := m.ciius[r0.pick(m.ciiuW)]
	level := r0.lognormal(m.retBase, 0.8)
	cal := g.cal[m.idx]
	for y := firstRetYear; y <= lastYear; y++ {
		start, n := g.agentStart(m, y), g.nAgents(m, y)
		if a < start || a >= start+n {
			continue
		}
		periods := cal.ret[y]
		for pi, per := range periods {
			pn := pi + 1
			r := newRnd(g.seed, kRet, uint64(m.idx), uint64(a), uint64(y), uint64(pn))
			seg := g.plans[planKey{m.idx, kRet, y, pn}].segment(a - start)
			base := round1000(level * incomeIndex[y] * math.Exp(0.3*r.norm()))
			if base.LessThan(decInt(5_000_000)) {
				base = decInt(5_000_000)
			}
			var filed day
			paid := day(-1)
			switch seg.t {
			case tRetLate:
				filed = randDay(&r, per.due+1, max(per.due+1, min(per.due+40, cutoff)), true)
				paid = filed
			case tRetLateQ3:
				filed = randDay(&r, mkday(y, 7, 1), mkday(y, 9, 30), true)
				paid = filed
			default:
				filed = randDay(&r, per.to+1, per.due, true)
				if seg.t != tRetUnpaid {
					paid = filed
				}
			}
			if seg.pay == cNone {
				paid = -1
			}
			row := &w.liq
			*row = liqRow{dev: -1, who: &who}
			rec := &row.rec
			rec.LiquidationID = m.liqID(kRet, y, a*len(periods)+pi, pn)
			rec.MunicipalityCode = m.code
			rec.Tax = ingest.TaxReteICA
			rec.TaxYear = y
			rec.Period = strconv.Itoa(pn)
			if m == caqueza {
				rec.Period = fmt.Sprintf("%02d", pn)
			}
			rec.TaxableIncome = ptr(base)
			rec.CIIU = ciiu
			rec.IssueDate = filed.ing()
			dd := per.due.ing()
			rec.DueDate = &dd
			rec.TaxpayerAddress = address
			row.web = g.filedOnline(&r, seg, m.webRet, filed.year())

			req := recompute.Request(g.rules, rec)
			res, err := g.rules.Liquidate(req)
			if err != nil {
				return fmt.Errorf("demo: ReteICA %s: %w", rec.LiquidationID, err)
			}
			r02, _ := lineVal(res, liquidation.RPracticada)
			rec.TaxAmount = ptr(r02)
			if v, ok := lineVal(res, liquidation.RSancion); ok && v.Sign() > 0 {
				rec.Sanctions = ptr(v)
			}
			rec.TotalAmount = res.Total
			face := res.Total

			dv := newRnd(g.seed, kDev, uint64(m.idx), kRet, uint64(a), uint64(y), uint64(pn))
			switch u := dv.float(); {
			case u < discrepancyRate:
				row.devClass = devDiscrepancy
				if dv.chance(0.5) {
					row.dev = dTarifa
					d := base.Div(thousandDec).Round(-3)
					rec.TaxAmount = ptr(r02.Add(d))
					rec.TotalAmount = rec.TotalAmount.Add(d)
				} else {
					row.dev = dAritmetico
					rec.TotalAmount = rec.TotalAmount.Add(decInt(int64(2+dv.intn(30)) * 1000))
				}
			case u < discrepancyRate+unverifiableRate:
				row.devClass = devUnverifiable
				row.dev = uCIIU
				rec.CIIU = []string{"9602", "4530"}[dv.intn(2)]
			}
			var pay *payRow
			if paid >= 0 {
				amount := rec.TotalAmount
				if paid > per.due { // late: interest (there are no discounts on withholdings)
					req.PaymentDate = paid.liq()
					res2, err := g.rules.Liquidate(req)
					if err != nil {
						return fmt.Errorf("demo: ReteICA payment %s: %w", rec.LiquidationID, err)
					}
					amount = amount.Add(res2.Total.Sub(face))
				}
				pay = g.payment(w, m, &r, row, seg, paid, amount)
			}
			if err := w.emitLiq(m, row, pay); err != nil {
				return err
			}
		}
	}
	return nil
}

// ---------------------------------------------------------------- ids

func (m *muniProfile) liqID(kind, year, seq, period int) string {
	switch m.idx {
	case 1:
		return fmt.Sprintf("%s-%d-%07d", [...]string{"", "P", "I", "R", "", "X"}[kind], year, seq)
	case 2:
		return fmt.Sprintf("CQZ-%d-%s-%06d", year, [...]string{"", "PRE", "ICA", "RIC", "", "ERR"}[kind], seq)
	}
	digit := kind
	if kind == kBad {
		digit = 9
	}
	return fmt.Sprintf("%d%d%07d", year, digit, seq)
}

func (m *muniProfile) payID(liqID string) string {
	switch m.idx {
	case 1:
		return "PAG-" + liqID
	case 2:
		return "TES-" + liqID
	}
	return "RC" + liqID
}
