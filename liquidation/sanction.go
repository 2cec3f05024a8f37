package liquidation

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// SanctionFacts are the inputs of the late-filing sanction (ET arts. 639-641).
type SanctionFacts struct {
	// Tax is the impuesto a cargo or the retención of the declaration.
	Tax decimal.Decimal
	// Income is the gross income of the period (used when Tax is zero).
	Income decimal.Decimal
	// Balance is the saldo a favor of the declaration, if any (caps the no-tax case).
	Balance decimal.Decimal
	// Equity is last year's patrimonio líquido (used when there is neither tax nor income).
	Equity decimal.Decimal
	// Due and Filed are the deadline and the filing date.
	Due, Filed Date
	// PriorInfraction is the date of the last same conduct (ET art. 640); zero if none.
	PriorInfraction Date
	// NoReduction disables the art. 640 reduction.
	NoReduction bool
	// Round applies art. 577 (the sanction is a declaration value).
	Round bool
}

// Sanction is the computed late-filing sanction with its steps.
type Sanction struct {
	Months     int             `json:"months"`
	Base       string          `json:"base"` // "impuesto", "ingresos", "patrimonio" or "ninguna"
	Gross      decimal.Decimal `json:"gross"`
	Cap        decimal.Decimal `json:"cap"`
	Capped     decimal.Decimal `json:"capped"`
	PayPercent decimal.Decimal `json:"pay_percent"`
	Reduced    decimal.Decimal `json:"reduced"`
	Minimum    decimal.Decimal `json:"minimum"`
	Value      decimal.Decimal `json:"value"`
	Cite       string          `json:"cite"`
	Unresolved string          `json:"unresolved,omitempty"`
}

// LateFilingSanction computes the sanción por extemporaneidad: 5 % of the tax per month
// or fraction of month late, capped at 100 % of the tax (or, without tax, 0.5 % of
// gross income per month capped at the lesser of 5 % of income, twice the saldo a favor
// or 2,500 UVT; without income, 1 % of equity per month capped at the lesser of 10 %,
// twice the balance or 2,500 UVT) — art. 641; then the art. 640 reduction to 50 % / 75 %;
// then the art. 639 minimum of 10 UVT of the filing year (applied after reductions,
// never to interest); then art. 577 rounding when f.Round.
func (r *Rules) LateFilingSanction(f SanctionFacts) Sanction {
	return r.nat.sanction(f)
}

func (n *national) sanction(f SanctionFacts) Sanction {
	s := Sanction{Gross: decimal.Zero, Cap: decimal.Zero, Capped: decimal.Zero, Reduced: decimal.Zero, Minimum: decimal.Zero, Value: decimal.Zero, PayPercent: hundred, Base: "ninguna"}
	if f.Due.IsZero() || f.Filed.IsZero() {
		return s
	}
	s.Months = monthsLate(f.Due, f.Filed)
	if s.Months == 0 {
		return s
	}
	li := pickSpan(n.lateFiling, f.Filed)
	if li < 0 {
		s.Unresolved = "no hay regla de sanción por extemporaneidad vigente (ET art. 641)"
		return s
	}
	rule := &n.lateFiling[li]
	s.Cite = rule.cite
	months := decimal.NewFromInt(int64(s.Months))
	uvt, uvtOK := n.uvtFor(f.Filed.Year())
	switch {
	case f.Tax.Sign() > 0:
		s.Base = "impuesto"
		s.Gross = pctOf(f.Tax, rule.monthly.Mul(months))
		s.Cap = pctOf(f.Tax, rule.capPct)
	case f.Income.Sign() > 0 || f.Equity.Sign() > 0:
		base, monthly, capPct := f.Income, rule.ntIncMonthly, rule.ntIncCap
		s.Base = "ingresos"
		if f.Income.Sign() <= 0 {
			base, monthly, capPct = f.Equity, rule.niEqMonthly, rule.niEqCap
			s.Base = "patrimonio"
		}
		s.Gross = pctOf(base, monthly.Mul(months))
		s.Cap = pctOf(base, capPct)
		if f.Balance.Sign() > 0 {
			s.Cap = minDec(s.Cap, f.Balance.Mul(rule.ntBalMult))
		} else if uvtOK {
			s.Cap = minDec(s.Cap, uvt.Mul(rule.ntCapUVT))
		} else {
			s.Unresolved = fmt.Sprintf("no hay UVT para %d en las reglas", f.Filed.Year())
		}
	}
	s.Capped = minDec(s.Gross, s.Cap)
	s.Reduced = s.Capped
	if !f.NoReduction {
		if ri := pickSpan(n.reduction, f.Filed); ri >= 0 {
			conduct := f.Due.AddDays(1)
			for _, t := range n.reduction[ri].tiers {
				if f.PriorInfraction.IsZero() || f.PriorInfraction.Before(addMonthsClamped(conduct, -12*t.cleanYears)) {
					s.PayPercent = t.pay
					s.Cite += "; " + n.reduction[ri].cite
					break
				}
			}
		}
	}
	s.Reduced = pctOf(s.Capped, s.PayPercent)
	if mi := pickSpan(n.minimum, f.Filed); mi >= 0 {
		if uvtOK {
			s.Minimum = uvt.Mul(n.minimum[mi].uvt)
			s.Cite += "; " + n.minimum[mi].cite
		} else {
			s.Unresolved = fmt.Sprintf("no hay UVT para %d en las reglas (sanción mínima, ET art. 639)", f.Filed.Year())
		}
	}
	s.Value = maxDec(s.Reduced, s.Minimum)
	if f.Round {
		s.Value, _ = n.round577(s.Value, f.Filed)
	}
	return s
}
