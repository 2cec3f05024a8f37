package demo

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/observatorio-civico/observatorio/liquidation"
)

// Years of the data set. Predial bills and ReteICA periods are dated by
// their vigencia; an ICA declaration of año gravable Y is filed in Y+1, so
// ICA runs from año gravable 2011 (filed in 2012) to 2024 (filed in 2025).
// The export is "as of" 28 February 2026: ReteICA 2025 periods due in
// January 2026 are there, ICA 2025 (due in March to May 2026) is not.
const (
	firstYear    = 2012
	lastYear     = 2025
	firstICAYear = 2011
	lastICAYear  = 2024
	firstRetYear = 2019 // the national UVT table (needed by ReteICA) starts in 2019
	yearSlots    = 16   // 2011..2026
)

var cutoff = mkday(2026, 2, 28)

func slot(year int) int { return year - 2011 }

// Kinds of rows (part of every hash: do not renumber).
const (
	kPredial = 1
	kICA     = 2
	kRet     = 3
	kOwner   = 4
	kBad     = 5
	kCartera = 6
	kDev     = 7
	kPlan    = 8
	kGEL     = 9
)

// muniCal is what the generator needs from the municipality's rules: due
// dates and discount windows (read through liquidation.Rules.Calendar, so
// the demo follows the rules files).
type muniCal struct {
	predialDue map[int]day
	predialWin map[int][]day // until dates of the pronto-pago windows
	icaDue     map[int]day   // by año gravable
	icaWin     map[int]day   // by año gravable: end of the last pronto-pago window
	ret        map[int][]retPeriod
}

type retPeriod struct{ from, to, due day }

func loadCal(rules *liquidation.Rules, m *muniProfile) (*muniCal, error) {
	c := &muniCal{predialDue: map[int]day{}, predialWin: map[int][]day{}, icaDue: map[int]day{}, icaWin: map[int]day{}, ret: map[int][]retPeriod{}}
	dues := map[int]map[int]day{} // ReteICA: year -> period -> due
	for y := firstICAYear; y <= lastYear+2; y++ {
		ev, err := rules.Calendar(m.code, y)
		if err != nil {
			return nil, err
		}
		for _, e := range ev {
			switch {
			case e.Tax == liquidation.TaxPredial && e.Kind == "vencimiento":
				c.predialDue[y] = fromLiq(e.Date)
			case e.Tax == liquidation.TaxPredial && e.Kind == "descuento":
				c.predialWin[y] = append(c.predialWin[y], fromLiq(e.End))
			case e.Tax == liquidation.TaxICA && e.Kind == "declaracion":
				c.icaDue[y-1] = fromLiq(e.Date)
			case e.Tax == liquidation.TaxICA && e.Kind == "descuento":
				c.icaWin[y-1] = max(c.icaWin[y-1], fromLiq(e.Date))
			case e.Tax == liquidation.TaxReteICA && e.Kind == "declaracion":
				var p, fy int
				i := strings.LastIndex(e.Title, "periodo ")
				if i < 0 {
					return nil, fmt.Errorf("demo: unexpected ReteICA calendar title %q", e.Title)
				}
				if _, err := fmt.Sscanf(e.Title[i:], "periodo %d de %d", &p, &fy); err != nil {
					return nil, fmt.Errorf("demo: unexpected ReteICA calendar title %q: %v", e.Title, err)
				}
				if dues[fy] == nil {
					dues[fy] = map[int]day{}
				}
				dues[fy][p] = fromLiq(e.Date)
			}
		}
	}
	for y, ps := range dues {
		n := len(ps)
		if 12%n != 0 {
			return nil, fmt.Errorf("demo: %s has %d ReteICA periods in %d", m.name, n, y)
		}
		months := 12 / n
		for p := 1; p <= n; p++ {
			from := mkday(y, time.Month((p-1)*months+1), 1)
			to := mkday(y, time.Month(p*months+1), 1) - 1
			c.ret[y] = append(c.ret[y], retPeriod{from, to, ps[p]})
		}
	}
	for y := range c.predialWin {
		sort.Slice(c.predialWin[y], func(i, j int) bool { return c.predialWin[y][i] < c.predialWin[y][j] })
	}
	for y := firstYear; y <= lastYear; y++ {
		if _, ok := c.predialDue[y]; !ok {
			return nil, fmt.Errorf("demo: the rules of %s have no predial due date for %d", m.name, y)
		}
	}
	for y := firstICAYear; y <= lastICAYear; y++ {
		if _, ok := c.icaDue[y]; !ok {
			return nil, fmt.Errorf("demo: the rules of %s have no ICA filing date for año gravable %d", m.name, y)
		}
	}
	for y := firstRetYear; y <= lastYear; y++ {
		if len(c.ret[y]) == 0 {
			return nil, fmt.Errorf("demo: the rules of %s have no ReteICA periods for %d", m.name, y)
		}
	}
	return c, nil
}

// Populations at a scale.

func scaled(x, scale float64) int { return int(math.Round(x * scale)) }

func (g *gen) nProps(m *muniProfile, y int) int {
	if y < firstYear || y > lastYear {
		return 0
	}
	n := m.propsBase + m.propsGrowth*float64(y-firstYear)
	for from, k := range m.propsStep {
		if y >= from {
			n += k
		}
	}
	return scaled(n, g.scale)
}

// ICA declarants of año gravable y are the businesses [bizStart, bizStart+nBiz).
func (g *gen) nBiz(m *muniProfile, y int) int {
	if y < firstICAYear || y > lastICAYear {
		return 0
	}
	return scaled(m.bizBase+m.bizGrowth*float64(y-firstICAYear), g.scale)
}

func (g *gen) bizStart(m *muniProfile, y int) int {
	return scaled(m.bizChurn*m.bizBase*float64(y-firstICAYear), g.scale)
}

func (g *gen) nAgents(m *muniProfile, y int) int {
	if y < firstRetYear || y > lastYear {
		return 0
	}
	if y == 2020 && m.agents2020 > 0 {
		return scaled(m.agents2020, g.scale)
	}
	base := m.agentsBase
	if m.agents2020 > 0 && y > 2020 {
		return scaled(m.agents2020+m.agentsGrowth*float64(y-2020), g.scale)
	}
	return scaled(base+m.agentsGrowth*float64(y-firstRetYear), g.scale)
}

func (g *gen) agentStart(m *muniProfile, y int) int {
	return scaled(0.03*m.agentsBase*float64(y-firstRetYear), g.scale)
}

// timing says when a row is filed or billed and when (if ever) it is paid.
type timing uint8

const (
	// predial
	tDisc1 timing = iota
	tDisc2
	tDisc3
	tOnTime
	tLate
	tLateQ3
	tLateQ4
	tUnpaid
	// ICA
	tSameDay
	tLaterOnTime
	tOnTimePaidQ3
	tLateQ2
	tLateQ2PaidQ3
	tLateQ3Filed
	tLateQ4Filed
	tLateFiled
	tFiledUnpaid
	// ReteICA
	tRetOnTime
	tRetLate
	tRetLateQ3
	tRetUnpaid
)

// chanClass fixes a channel, or leaves it to the year's adoption share.
type chanClass uint8

const (
	cMixed chanClass = iota
	cElec            // payment: web, PSE or card
	cOther           // payment: bank or counter
	cNone            // no payment
	cWeb             // filing on line
	cPres            // filing in person
)

// segment is a group of rows of a plan that share a timing and channels.
type segment struct {
	n         int
	t         timing
	file, pay chanClass
	webShare  float64 // cMixed filing: share on line (0: the year's adoption share)
}

// plan splits the N rows of a (municipality, kind, year, period) into
// segments with exact counts. Row j of the population falls in the segment
// of rank perm(j): quotas are exact and spread at random over entities.
type plan struct {
	n    int
	segs []segment
	ends []int
	perm perm
}

func (p *plan) segment(j int) *segment {
	r := p.perm.at(j)
	i := sort.SearchInts(p.ends, r+1)
	return &p.segs[i]
}

// finish fixes the counts: explicit segments are scaled; the last segment
// takes the remainder (shrinking the largest segment if the rounding
// overshoots).
func finishPlan(n int, segs []segment, seed uint64) *plan {
	sum := 0
	for _, s := range segs[:len(segs)-1] {
		sum += s.n
	}
	for sum > n {
		big := 0
		for i := range segs[:len(segs)-1] {
			if segs[i].n > segs[big].n {
				big = i
			}
		}
		over := min(sum-n, segs[big].n)
		segs[big].n -= over
		sum -= over
	}
	segs[len(segs)-1].n = n - sum
	p := &plan{n: n, segs: segs, perm: newPerm(n, seed)}
	acc := 0
	for _, s := range segs {
		acc += s.n
		p.ends = append(p.ends, acc)
	}
	return p
}

// weighted turns weights into counts that sum to n (largest remainder).
func weighted(n int, segs []segment, w []float64) []segment {
	total := 0.0
	for _, x := range w {
		total += x
	}
	type rem struct {
		i int
		f float64
	}
	var rs []rem
	sum := 0
	for i := range segs {
		exact := float64(n) * w[i] / total
		segs[i].n = int(exact)
		sum += segs[i].n
		rs = append(rs, rem{i, exact - float64(segs[i].n)})
	}
	sort.SliceStable(rs, func(a, b int) bool { return rs[a].f > rs[b].f })
	for k := 0; sum < n; k++ {
		segs[rs[k%len(rs)].i].n++
		sum++
	}
	return segs
}

type planKey struct {
	muni, kind, year, period int
}

func (g *gen) buildPlans() {
	g.plans = map[planKey]*plan{}
	for _, m := range profiles {
		cal := g.cal[m.idx]
		for y := firstYear; y <= lastYear; y++ {
			g.plans[planKey{m.idx, kPredial, y, 0}] = g.predialPlan(m, cal, y)
		}
		for y := firstICAYear; y <= lastICAYear; y++ {
			g.plans[planKey{m.idx, kICA, y, 0}] = g.icaPlan(m, cal, y)
		}
		for y := firstRetYear; y <= lastYear; y++ {
			for p := range cal.ret[y] {
				g.plans[planKey{m.idx, kRet, y, p + 1}] = g.retPlan(m, cal, y, p+1)
			}
		}
	}
}

func (g *gen) planSeed(m *muniProfile, kind, y, p int) uint64 {
	return key(g.seed, kPlan, uint64(m.idx), uint64(kind), uint64(y), uint64(p))
}

func (g *gen) sc(n int) int { return scaled(float64(n), g.scale) }

func (g *gen) predialPlan(m *muniProfile, cal *muniCal, y int) *plan {
	n := g.nProps(m, y)
	seed := g.planSeed(m, kPredial, y, 0)
	if m == bucaramanga && y == 2020 {
		// Seed 001: Bucaramanga, third quarter of 2020, 2,960 electronic
		// predial payments. The 2020 bills fell due on 30 June, in the
		// middle of the pandemic: many paid late, in July-September.
		return finishPlan(n, []segment{
			{n: g.sc(2100), t: tDisc1}, {n: g.sc(650), t: tDisc2}, {n: g.sc(500), t: tDisc3}, {n: g.sc(880), t: tOnTime},
			{n: g.sc(2960), t: tLateQ3, pay: cElec}, {n: g.sc(540), t: tLateQ3, pay: cOther},
			{n: g.sc(450), t: tLateQ4}, {t: tUnpaid, pay: cNone},
		}, seed)
	}
	win := len(cal.predialWin[y])
	segs := []segment{{t: tDisc1}, {t: tDisc2}, {t: tDisc3}, {t: tOnTime}, {t: tLate}, {t: tUnpaid, pay: cNone}}
	w := []float64{0.35, 0.12, 0.08, 0.20, 0.13, 0}
	if win < 3 {
		w[0], w[1], w[2] = 0.40, 0.15, 0
	}
	if win < 2 {
		w[0], w[1], w[2] = 0.55, 0, 0
	}
	if win == 0 {
		w[3] += w[0]
		w[0] = 0
	}
	if y < firstRetYear {
		// no usury rates before 2019 in the rules: nobody pays late
		w[3] += w[4]
		w[4] = 0
	}
	u := share(m.unpaidPredial, y)
	paid := 0.0
	for _, x := range w[:5] {
		paid += x
	}
	for i := range w[:5] {
		w[i] *= (1 - u) / paid
	}
	w[5] = u
	return finishPlan(n, weighted(n, segs, w), seed)
}

func (g *gen) icaPlan(m *muniProfile, cal *muniCal, y int) *plan {
	n := g.nBiz(m, y)
	seed := g.planSeed(m, kICA, y, 0)
	if m == bucaramanga && y == 2019 {
		// Seed 001: Bucaramanga, Q3 2020, 1,727 electronic ICA payments
		// and 250 ICA declarations filed on line (the new module). The ICA
		// of 2019 fell due on 30 April 2020; late payers got the
		// Decreto 678 relief until 15 October.
		return finishPlan(n, []segment{
			{n: g.sc(1290), t: tSameDay},
			{n: g.sc(1050), t: tOnTimePaidQ3, pay: cElec}, {n: g.sc(150), t: tOnTimePaidQ3, pay: cOther},
			{n: g.sc(250), t: tLateQ2},
			{n: g.sc(420), t: tLateQ2PaidQ3, pay: cElec}, {n: g.sc(60), t: tLateQ2PaidQ3, pay: cOther},
			{n: g.sc(240), t: tLateQ3Filed, file: cWeb, pay: cElec}, {n: g.sc(5), t: tLateQ3Filed, file: cWeb, pay: cOther},
			{n: g.sc(5), t: tLateQ3Filed, file: cWeb, pay: cNone},
			{n: g.sc(17), t: tLateQ3Filed, file: cPres, pay: cElec}, {n: g.sc(38), t: tLateQ3Filed, file: cPres, pay: cOther},
			{n: g.sc(15), t: tLateQ3Filed, file: cPres, pay: cNone},
			{n: g.sc(100), t: tLateQ4Filed},
			{t: tFiledUnpaid, pay: cNone},
		}, seed)
	}
	segs := []segment{{t: tSameDay}, {t: tLaterOnTime}, {t: tLateFiled}, {t: tFiledUnpaid, pay: cNone}}
	w := []float64{0.82, 0.06, 0.07, 0}
	due := cal.icaDue[y]
	if due.year() < firstRetYear || due+1 > cutoff {
		w[0] += w[2]
		w[2] = 0
	}
	u := share(m.unpaidICA, y+1)
	for i := range w[:3] {
		w[i] *= (1 - u) / 0.95
	}
	w[3] = u
	return finishPlan(n, weighted(n, segs, w), seed)
}

func (g *gen) retPlan(m *muniProfile, cal *muniCal, y, p int) *plan {
	n := g.nAgents(m, y)
	seed := g.planSeed(m, kRet, y, p)
	if m == bucaramanga && y == 2020 {
		// Seed 001: Bucaramanga, Q3 2020, 5,388 ReteICA declarations filed
		// on line and 1,576 electronic ReteICA payments: periods 3 and 4
		// are filed in July and September; many agents filed period 2
		// late, in the third quarter.
		switch p {
		case 1:
			return finishPlan(n, []segment{{t: tRetOnTime, webShare: 0.35}}, seed)
		case 2:
			return finishPlan(n, []segment{
				{n: g.sc(90), t: tRetLateQ3, file: cWeb, pay: cElec}, {n: g.sc(250), t: tRetLateQ3, file: cWeb, pay: cOther},
				{n: g.sc(2), t: tRetLateQ3, file: cPres, pay: cElec}, {n: g.sc(8), t: tRetLateQ3, file: cPres, pay: cOther},
				{t: tRetOnTime, webShare: 0.80},
			}, seed)
		case 3:
			return finishPlan(n, []segment{
				{n: g.sc(730), t: tRetOnTime, file: cWeb, pay: cElec}, {n: g.sc(1790), t: tRetOnTime, file: cWeb, pay: cOther},
				{n: g.sc(10), t: tRetOnTime, file: cPres, pay: cElec}, {t: tRetOnTime, file: cPres, pay: cOther},
			}, seed)
		case 4:
			return finishPlan(n, []segment{
				{n: g.sc(740), t: tRetOnTime, file: cWeb, pay: cElec}, {n: g.sc(1788), t: tRetOnTime, file: cWeb, pay: cOther},
				{n: g.sc(4), t: tRetOnTime, file: cPres, pay: cElec}, {t: tRetOnTime, file: cPres, pay: cOther},
			}, seed)
		default:
			return finishPlan(n, []segment{{t: tRetOnTime, webShare: 0.95}}, seed)
		}
	}
	segs := []segment{{t: tRetOnTime}, {t: tRetLate}, {t: tRetUnpaid, pay: cNone}}
	w := []float64{0.93, 0.05, 0.02}
	per := cal.ret[y][p-1]
	if per.due+1 > cutoff {
		w[0] += w[1]
		w[1] = 0
	}
	return finishPlan(n, weighted(n, segs, w), seed)
}
