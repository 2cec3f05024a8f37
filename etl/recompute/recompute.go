// Package recompute maps a liquidation as a source publishes it (an
// ingest.Liquidation: inputs plus billed or declared amounts) to a request
// of the liquidation core. It is the one place that says which published
// column is which line of the law, so the ETL's verification and the demo
// generator's bills agree by construction.
package recompute

import (
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/liquidation"
)

// Line codes of the published amounts, by tax (see liquidation/README.md).
var (
	predialLines = map[string]func(*ingest.Liquidation) *decimal.Decimal{
		"P04": func(l *ingest.Liquidation) *decimal.Decimal { return l.TaxAmount },
		"P05": func(l *ingest.Liquidation) *decimal.Decimal { return l.SobretasaAmbiental },
		"P06": func(l *ingest.Liquidation) *decimal.Decimal { return l.SobretasaBomberil },
		"P08": func(l *ingest.Liquidation) *decimal.Decimal { return l.Discount },
		"P10": func(l *ingest.Liquidation) *decimal.Decimal { return l.Interest },
	}
	icaLines = map[string]func(*ingest.Liquidation) *decimal.Decimal{
		"20": func(l *ingest.Liquidation) *decimal.Decimal { return l.TaxAmount },
		"21": func(l *ingest.Liquidation) *decimal.Decimal { return l.AvisosTableros },
		"23": func(l *ingest.Liquidation) *decimal.Decimal { return l.SobretasaBomberil },
		"31": func(l *ingest.Liquidation) *decimal.Decimal { return l.Sanctions },
		"37": func(l *ingest.Liquidation) *decimal.Decimal { return l.Interest },
	}
	reteicaLines = map[string]func(*ingest.Liquidation) *decimal.Decimal{
		"R02": func(l *ingest.Liquidation) *decimal.Decimal { return l.TaxAmount },
		"R05": func(l *ingest.Liquidation) *decimal.Decimal { return l.Sanctions },
		"R06": func(l *ingest.Liquidation) *decimal.Decimal { return l.Interest },
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
func Request(l *ingest.Liquidation) *liquidation.Request {
	req := &liquidation.Request{
		ID:           l.LiquidationID,
		Tax:          l.Tax,
		Municipality: l.MunicipalityCode,
		Year:         l.TaxYear,
		// The filing date of a declaration is its issue date; bills are
		// compared before any payment, so no payment date is implied.
		FilingDate:    date(&l.IssueDate),
		DeclaredTotal: decimal.NullDecimal{Decimal: l.TotalAmount, Valid: true},
		Declared:      map[string]decimal.Decimal{},
	}
	var lines map[string]func(*ingest.Liquidation) *decimal.Decimal
	switch l.Tax {
	case ingest.TaxPredial:
		lines = predialLines
		req.FilingDate = liquidation.Date{}
		p := &liquidation.PredialInput{Avaluo: nd(l.Avaluo), Destino: l.Destino, ImpuestoAnterior: nd(l.PriorYearTax)}
		if l.Estrato != nil {
			p.Estrato = *l.Estrato
		}
		req.Predial = p
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
		req.ReteICA = &liquidation.ReteICAInput{
			Periodo: periodo,
			Pagos:   []liquidation.ReteICAPago{{Base: nd(base), CIIU: l.CIIU, Tipo: "compras", Fecha: date(&l.IssueDate)}},
		}
	}
	for code, get := range lines {
		if v := get(l); v != nil {
			req.Declared[code] = *v
		}
	}
	return req
}
