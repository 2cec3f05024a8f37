package liquidation

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// Liquidate computes the liquidation described by req with the rules in force.
// Invalid or missing inputs return a *FieldError naming the JSON field; rules that do
// not cover the request (no tariff, unknown municipality) return a *RuleMissingError.
// Inputs that only some lines need (e.g. last year's tax for the increase limits) do
// not fail: those lines are marked Unresolved. Safe for concurrent use.
func (r *Rules) Liquidate(req *Request) (*Result, error) {
	if req == nil {
		return nil, fieldErr("", "solicitud vacía")
	}
	if err := req.validateCommon(); err != nil {
		return nil, err
	}
	m := r.munis[req.Municipality]
	if m == nil {
		return nil, ruleErr("municipio", "no hay reglas para el municipio %s (cargue su archivo con --rules)", req.Municipality)
	}
	res := &Result{ID: req.ID, Tax: req.Tax, Municipality: m.code, MunicipalityName: m.name, Year: req.Year, Illustrative: m.illustrative}
	b := &builder{res: res, explain: req.Explain}
	var err error
	switch req.Tax {
	case TaxPredial:
		res.Lines = make([]Line, 0, 11)
		err = r.predial(req, m, b)
	case TaxICA:
		n := 40
		if req.ICA != nil {
			n += len(req.ICA.Actividades)
		}
		res.Lines = make([]Line, 0, n)
		err = r.ica(req, m, b)
	case TaxReteICA:
		n := 8
		if req.ReteICA != nil {
			n += len(req.ReteICA.Pagos)
		}
		res.Lines = make([]Line, 0, n)
		err = r.reteica(req, m, b)
	}
	if err != nil {
		return nil, err
	}
	if m.illustrative && req.Explain {
		b.warn(fmt.Sprintf("Las tarifas de %s son ilustrativas: no provienen del Acuerdo municipal vigente.", m.name))
	}
	return res, nil
}

// reliefFor finds an enabled relief (e.g. Decreto 678 de 2020 art. 7) applicable to an
// obligation that fell due on obligationDue and is paid on paid.
func (r *Rules) reliefFor(m *municipality, obligationDue, paid Date) (*reliefRule, decimal.Decimal, string) {
	if paid.IsZero() || obligationDue.IsZero() {
		return nil, decimal.Zero, ""
	}
	for i := range r.nat.reliefs {
		rr := &r.nat.reliefs[i]
		enabled := rr.enabled
		sw, hasSw := m.reliefs[rr.id]
		if hasSw {
			enabled = sw.enabled
		}
		if !enabled || !rr.covers(paid) || (!rr.dueBefore.IsZero() && !obligationDue.Before(rr.dueBefore)) {
			continue
		}
		for _, w := range rr.windows {
			if !paid.After(w.until) {
				cite := rr.cite
				if hasSw && sw.ref != nil {
					cite += "; " + sw.ref.Cite()
				}
				return rr, w.pay, cite
			}
		}
	}
	return nil, decimal.Zero, ""
}

// discountFor returns the pronto-pago percentage for a payment date, if any window
// covers it (payment on the last day of a window still gets that window's discount).
func discountFor(d discountRule, paid Date) (decimal.Decimal, Date, bool) {
	for _, w := range d.windows {
		if !paid.After(w.until) {
			return w.pct, w.until, true
		}
	}
	return decimal.Zero, Date{}, false
}
