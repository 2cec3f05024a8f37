package liquidation

import (
	"encoding/json"
	"errors"
	"sort"

	"github.com/shopspring/decimal"
)

// Status classifies a published amount against the recomputed one.
type Status string

const (
	// StatusMatch: the published amount equals the recomputed one exactly.
	StatusMatch Status = "match"
	// StatusRounding: the difference is explained by rounding only. Precisely:
	// difference != 0 and either (a) |difference| < 1,000 and the published or the
	// recomputed amount is a multiple of 1,000 (art. 577 rounding applied by one side
	// only, or applied to a value the law does not round, such as a predial bill), or
	// (b) |difference| < 1 (centavos, i.e. rounding to the peso).
	StatusRounding Status = "rounding"
	// StatusDiscrepancy: any other difference; Difference = published - recomputed.
	StatusDiscrepancy Status = "discrepancy"
	// StatusUnverifiable: the amount cannot be recomputed (missing rule or input);
	// Reason names what is missing.
	StatusUnverifiable Status = "unverifiable"
)

// severity orders statuses for the overall verdict.
func (s Status) severity() int {
	switch s {
	case StatusMatch:
		return 0
	case StatusRounding:
		return 1
	case StatusUnverifiable:
		return 2
	case StatusDiscrepancy:
		return 3
	}
	return 0
}

// Check is the verification of one published amount.
type Check struct {
	Code        string          `json:"code"`
	Status      Status          `json:"status"`
	Declared    decimal.Decimal `json:"declared"`
	Expected    decimal.Decimal `json:"-"`
	HasExpected bool            `json:"-"`
	Difference  decimal.Decimal `json:"difference"`
	Reason      string          `json:"reason,omitempty"`
}

// MarshalJSON omits expected when it could not be computed.
func (c Check) MarshalJSON() ([]byte, error) {
	type alias Check
	if !c.HasExpected {
		return json.Marshal(struct {
			alias
			Expected *decimal.Decimal `json:"expected"`
		}{alias(c), nil})
	}
	return json.Marshal(struct {
		alias
		Expected decimal.Decimal `json:"expected"`
	}{alias(c), c.Expected})
}

// Verification is the outcome of Verify.
type Verification struct {
	ID string `json:"id,omitempty"`
	// Status is the worst status among the total and the lines
	// (match < rounding < unverifiable < discrepancy).
	Status Status `json:"status"`
	// Total is the check of Request.DeclaredTotal (nil if none was published).
	Total *Check `json:"total,omitempty"`
	// Lines are the checks of Request.Declared, sorted by code.
	Lines []Check `json:"lines"`
	// Reason explains an overall unverifiable verdict (e.g. no rules for the municipality).
	Reason string `json:"reason,omitempty"`
	// Field names the input at fault when the request itself is invalid.
	Field string `json:"field,omitempty"`
	// Result is the recomputed liquidation when the general path ran; the predial fast
	// path (no Explain) leaves it nil: call Liquidate for the lines.
	Result *Result `json:"-"`
}

// classify compares a published amount with the recomputed one.
func classify(declared, expected decimal.Decimal) (Status, decimal.Decimal) {
	diff := declared.Sub(expected)
	if diff.Sign() == 0 {
		return StatusMatch, decimal.Zero
	}
	abs := diff.Abs()
	if abs.Cmp(decimal.NewFromInt(1)) < 0 {
		return StatusRounding, diff
	}
	if abs.Cmp(thousand) < 0 && (isMultipleOf1000(declared) || isMultipleOf1000(expected)) {
		return StatusRounding, diff
	}
	return StatusDiscrepancy, diff
}

func isMultipleOf1000(d decimal.Decimal) bool {
	if !d.IsInteger() {
		return false
	}
	return d.Mod(thousand).Sign() == 0
}

// Verify recomputes req and classifies each published line (Request.Declared) and the
// published total (Request.DeclaredTotal). It never fails: invalid inputs and missing
// rules give an unverifiable verdict naming the field or rule. Safe for concurrent use.
func (r *Rules) Verify(req *Request) *Verification {
	v := &Verification{}
	if r.verifyFast(req, v, new(Check)) {
		return v
	}
	*v = Verification{}
	if req != nil {
		v.ID = req.ID
	}
	res, err := r.Liquidate(req)
	if err != nil {
		v.Status = StatusUnverifiable
		v.Reason = err.Error()
		var fe *FieldError
		if errors.As(err, &fe) {
			v.Field = fe.Field
		}
		if req != nil {
			v.Lines = make([]Check, 0, len(req.Declared))
			for _, code := range sortedCodes(req.Declared) {
				v.Lines = append(v.Lines, Check{Code: code, Status: StatusUnverifiable, Declared: req.Declared[code], Difference: decimal.Zero, Reason: v.Reason})
			}
			if req.DeclaredTotal.Valid {
				v.Total = &Check{Code: "total", Status: StatusUnverifiable, Declared: req.DeclaredTotal.Decimal, Difference: decimal.Zero, Reason: v.Reason}
			}
		}
		return v
	}
	v.Result = res
	v.Status = StatusMatch
	worst := func(s Status) {
		if s.severity() > v.Status.severity() {
			v.Status = s
		}
	}
	if len(req.Declared) > 0 {
		v.Lines = make([]Check, 0, len(req.Declared))
		codes := req.Declared
		if len(codes) == 1 {
			for code, d := range codes {
				c := checkLine(res, code, d)
				worst(c.Status)
				v.Lines = append(v.Lines, c)
			}
		} else {
			for _, code := range sortedCodes(codes) {
				c := checkLine(res, code, codes[code])
				worst(c.Status)
				v.Lines = append(v.Lines, c)
			}
		}
	} else {
		v.Lines = []Check{}
	}
	if req.DeclaredTotal.Valid {
		c := checkLine(res, res.TotalCode, req.DeclaredTotal.Decimal)
		c.Code = "total"
		v.Total = &c
		worst(c.Status)
	}
	return v
}

func checkLine(res *Result, code string, declared decimal.Decimal) Check {
	l := res.Line(code)
	if l == nil {
		return Check{Code: code, Status: StatusUnverifiable, Declared: declared, Difference: decimal.Zero,
			Reason: "la liquidación recalculada no tiene el renglón " + code}
	}
	if l.Unresolved != "" {
		return Check{Code: code, Status: StatusUnverifiable, Declared: declared, Expected: l.Value, Difference: decimal.Zero, Reason: l.Unresolved}
	}
	st, diff := classify(declared, l.Value)
	c := Check{Code: code, Status: st, Declared: declared, Expected: l.Value, HasExpected: true, Difference: diff}
	switch st {
	case StatusRounding:
		if diff.Abs().Cmp(decimal.NewFromInt(1)) < 0 {
			c.Reason = "diferencia de centavos (redondeo al peso)"
		} else {
			c.Reason = "diferencia explicada por el redondeo al múltiplo de mil (ET art. 577)"
		}
	case StatusDiscrepancy:
		c.Reason = "el valor publicado difiere del recalculado con las reglas (" + l.Rule + "; " + l.Article + ")"
	}
	return c
}

func sortedCodes(m map[string]decimal.Decimal) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return codeLess(ks[i], ks[j]) })
	return ks
}

// codeLess orders "8" < "9" < "10" < "17.2" < "P01" numerically where possible.
func codeLess(a, b string) bool {
	na, ra := leadingInt(a)
	nb, rb := leadingInt(b)
	if na >= 0 && nb >= 0 {
		if na != nb {
			return na < nb
		}
		return ra < rb
	}
	if (na >= 0) != (nb >= 0) {
		return na >= 0
	}
	return a < b
}

func leadingInt(s string) (int, string) {
	n, i := 0, 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' && i < 9 {
		n = n*10 + int(s[i]-'0')
		i++
	}
	if i == 0 {
		return -1, s
	}
	return n, s[i:]
}
