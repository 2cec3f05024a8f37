// Package recompute maps a liquidation as a source publishes it (an
// ingest.Liquidation: inputs plus billed or declared amounts) to a request
// of the liquidation core. It is the one place that says which published
// column is which line of the law, so the ETL's verification and the demo
// generator's bills agree by construction.
package recompute

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/liquidation"
)

// Line codes of the published amounts, by tax (see liquidation/README.md).
// (Lists, not maps: they are walked once per source row.)
type line struct {
	code string
	get  func(*ingest.Liquidation) *decimal.Decimal
}

var (
	predialLines = []line{
		{"P04", func(l *ingest.Liquidation) *decimal.Decimal { return l.TaxAmount }},
		{"P05", func(l *ingest.Liquidation) *decimal.Decimal { return l.SobretasaAmbiental }},
		{"P06", func(l *ingest.Liquidation) *decimal.Decimal { return l.SobretasaBomberil }},
		{"P08", func(l *ingest.Liquidation) *decimal.Decimal { return l.Discount }},
		{"P10", func(l *ingest.Liquidation) *decimal.Decimal { return l.Interest }},
	}
	icaLines = []line{
		{"20", func(l *ingest.Liquidation) *decimal.Decimal { return l.TaxAmount }},
		{"21", func(l *ingest.Liquidation) *decimal.Decimal { return l.AvisosTableros }},
		{"23", func(l *ingest.Liquidation) *decimal.Decimal { return l.SobretasaBomberil }},
		{"31", func(l *ingest.Liquidation) *decimal.Decimal { return l.Sanctions }},
		{"37", func(l *ingest.Liquidation) *decimal.Decimal { return l.Interest }},
	}
	reteicaLines = []line{
		{"R02", func(l *ingest.Liquidation) *decimal.Decimal { return l.TaxAmount }},
		{"R05", func(l *ingest.Liquidation) *decimal.Decimal { return l.Sanctions }},
		{"R06", func(l *ingest.Liquidation) *decimal.Decimal { return l.Interest }},
	}
)

func nd(d *decimal.Decimal) decimal.NullDecimal {
	if d == nil {
		return decimal.NullDecimal{}
	}
	return decimal.NullDecimal{Decimal: *d, Valid: true}
}

func date(d *ingest.Date) liquidation.Date {
	if d == nil || d.IsZero() {
		return liquidation.Date{}
	}
	return liquidation.NewDate(d.Year(), d.Month(), d.Day())
}

// Request builds the liquidation core's request for a published
// liquidation. Inputs the source did not publish stay unset, so the core
// answers "unverifiable" naming what is missing instead of guessing.
// rules date a ReteICA declaration's withheld payments (see periodEnd).
func Request(rules *liquidation.Rules, l *ingest.Liquidation) *liquidation.Request {
	req := &liquidation.Request{}
	Fill(req, rules, l)
	return req
}

// Fill is Request into req, reusing its map of declared lines and its
// predial inputs: the ETL verifies row after row with one request per
// worker. Nothing of the previous request remains.
func Fill(req *liquidation.Request, rules *liquidation.Rules, l *ingest.Liquidation) {
	declared, predial := req.Declared, req.Predial
	if declared == nil {
		declared = map[string]decimal.Decimal{}
	}
	clear(declared)
	if predial == nil {
		predial = &liquidation.PredialInput{}
	}
	*req = liquidation.Request{
		ID:           l.LiquidationID,
		Tax:          l.Tax,
		Municipality: l.MunicipalityCode,
		Year:         l.TaxYear,
		// The filing date of a declaration is its issue date; bills are
		// compared before any payment, so no payment date is implied.
		FilingDate:    date(&l.IssueDate),
		DeclaredTotal: decimal.NullDecimal{Decimal: l.TotalAmount, Valid: true},
		Declared:      declared,
	}
	var lines []line
	switch l.Tax {
	case ingest.TaxPredial:
		lines = predialLines
		req.FilingDate = liquidation.Date{}
		*predial = liquidation.PredialInput{Avaluo: nd(l.Avaluo), Destino: l.Destino, ImpuestoAnterior: nd(l.PriorYearTax)}
		if l.Estrato != nil {
			predial.Estrato = *l.Estrato
		}
		req.Predial = predial
	case ingest.TaxICA:
		lines = icaLines
		in := &liquidation.ICAInput{
			IngresosTotales: nd(l.GrossIncome),
			IngresosFuera:   nd(l.IncomeOutside),
			Devoluciones:    nd(l.Deductions),
			Retenciones:     nd(l.Withholdings),
		}
		taxable := l.TaxableIncome
		if taxable == nil && l.GrossIncome != nil {
			t := *l.GrossIncome
			if l.IncomeOutside != nil {
				t = t.Sub(*l.IncomeOutside)
			}
			if l.Deductions != nil {
				t = t.Sub(*l.Deductions)
			}
			taxable = &t
		}
		in.Actividades = []liquidation.ICAActivity{{CIIU: l.CIIU, Ingresos: nd(taxable)}}
		req.ICA = in
	case ingest.TaxReteICA:
		lines = reteicaLines
		base := l.TaxableIncome
		if base == nil {
			base = l.GrossIncome
		}
		periodo, _ := strconv.Atoi(strings.TrimLeft(l.Period, "0"))
		// A declaration publishes the period, not the dates of the payments
		// withheld in it; its issue date is the filing date, after the
		// period, which the core would refuse. Date them at the period's end.
		paid, ok := periodEnd(rules, l.MunicipalityCode, l.TaxYear, periodo)
		if !ok {
			paid = date(&l.IssueDate)
		}
		req.ReteICA = &liquidation.ReteICAInput{
			Periodo: periodo,
			Pagos:   []liquidation.ReteICAPago{{Base: nd(base), CIIU: l.CIIU, Tipo: "compras", Fecha: paid}},
		}
	}
	for _, ln := range lines {
		if v := ln.get(l); v != nil {
			req.Declared[ln.code] = *v
		}
	}
}

var periodsCache sync.Map // "rules pointer|municipality|year" -> number of ReteICA periods

// periodEnd returns the last day of ReteICA period p of year in a
// municipality: the periods split the year evenly (monthly, bimonthly...),
// and their number is counted in the rules' calendar of declarations.
func periodEnd(rules *liquidation.Rules, muni string, year, p int) (liquidation.Date, bool) {
	if rules == nil {
		return liquidation.Date{}, false
	}
	k := fmt.Sprintf("%p|%s|%d", rules, muni, year)
	v, ok := periodsCache.Load(k)
	if !ok {
		n := 0
		for _, y := range []int{year, year + 1} {
			ev, err := rules.Calendar(muni, y)
			if err != nil {
				return liquidation.Date{}, false
			}
			for _, e := range ev {
				if e.Tax == liquidation.TaxReteICA && e.Kind == "declaracion" && strings.HasSuffix(e.Title, fmt.Sprintf(" de %d", year)) {
					n++
				}
			}
		}
		v, _ = periodsCache.LoadOrStore(k, n)
	}
	n := v.(int)
	if n == 0 || 12%n != 0 || p < 1 || p > n {
		return liquidation.Date{}, false
	}
	months := 12 / n
	return liquidation.NewDate(year, time.Month(p*months+1), 0), true // day 0: the last day of the month before
}
