package liquidation

import (
	"github.com/shopspring/decimal"
)

// Line is one figure of a liquidation, with the rule and article that produced it.
type Line struct {
	// Code identifies the line: the renglón of the ICA form ("20", "17.2"), a predial
	// line id ("P05") or a ReteICA line id ("R04", "R01.3").
	Code string `json:"code"`
	// Label is the Spanish description a citizen reads.
	Label string `json:"label"`
	// Value is the amount in pesos.
	Value decimal.Decimal `json:"value"`
	// Rule is the id of the rule that produced the value (e.g. "predial.tarifa").
	Rule string `json:"rule"`
	// Article is the legal reference ("Ley 1995 de 2019, art. 2 y parágrafo").
	Article string `json:"article"`
	// Params are the parameters used (name -> value), only when Request.Explain is set.
	Params map[string]string `json:"params,omitempty"`
	// Art577 marks values of a declaration, rounded to the nearest 1,000 (ET art. 577).
	Art577 bool `json:"art577,omitempty"`
	// Informative lines are shown but not added to the total (e.g. a sobretasa
	// ambiental transferred from the predial collection).
	Informative bool `json:"informative,omitempty"`
	// Unresolved, when set, says why the value cannot be asserted (missing input or
	// rule); the value shown is provisional.
	Unresolved string `json:"unresolved,omitempty"`
}

// Result is a computed liquidation.
type Result struct {
	ID               string          `json:"id,omitempty"`
	Tax              string          `json:"tax"`
	Municipality     string          `json:"municipality"`
	MunicipalityName string          `json:"municipality_name"`
	Year             int             `json:"year"`
	Illustrative     bool            `json:"illustrative"`
	Lines            []Line          `json:"lines"`
	TotalCode        string          `json:"total_code"`
	Total            decimal.Decimal `json:"total"`
	Warnings         []string        `json:"warnings,omitempty"`
}

// Line returns the line with the given code, or nil.
func (r *Result) Line(code string) *Line {
	for i := range r.Lines {
		if r.Lines[i].Code == code {
			return &r.Lines[i]
		}
	}
	return nil
}

// builder accumulates lines; params are only materialized when explain is on.
type builder struct {
	res     *Result
	explain bool
}

func (b *builder) add(code, label string, v decimal.Decimal, rule, article string) int {
	b.res.Lines = append(b.res.Lines, Line{Code: code, Label: label, Value: v, Rule: rule, Article: article})
	return len(b.res.Lines) - 1
}

func (b *builder) params(i int, kv ...string) {
	if !b.explain {
		return
	}
	l := &b.res.Lines[i]
	if l.Params == nil {
		l.Params = make(map[string]string, len(kv)/2)
	}
	for j := 0; j+1 < len(kv); j += 2 {
		l.Params[kv[j]] = kv[j+1]
	}
}

func (b *builder) warn(s string) { b.res.Warnings = append(b.res.Warnings, s) }

var (
	hundred  = decimal.NewFromInt(100)
	thousand = decimal.NewFromInt(1000)
)

// pctOf returns base x pct / 100 exactly.
func pctOf(base, pct decimal.Decimal) decimal.Decimal { return base.Mul(pct).Shift(-2) }

// perMille returns base x rate / 1000 exactly.
func perMille(base, rate decimal.Decimal) decimal.Decimal { return base.Mul(rate).Shift(-3) }

func maxDec(a, b decimal.Decimal) decimal.Decimal {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}

func minDec(a, b decimal.Decimal) decimal.Decimal {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}

// round577 rounds to the nearest multiple of the art. 577 rule in force at d
// (1,000 pesos); halves round up (DIAN Concepto 065791 de 2013).
func (n *national) round577(v decimal.Decimal, d Date) (decimal.Decimal, *roundingRule) {
	i := pickSpan(n.rounding, d)
	if i < 0 {
		i = len(n.rounding) - 1
	}
	r := &n.rounding[i]
	return v.Round(r.places), r
}

func (n *national) uvtFor(year int) (decimal.Decimal, bool) {
	e, ok := n.uvt.get(year)
	return e.value, ok
}

func rcite577(n *national) string { return n.rounding[len(n.rounding)-1].cite }
