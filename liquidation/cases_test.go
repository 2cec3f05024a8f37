package liquidation

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"
)

// Table-driven cases from testdata/cases/*.yaml (in the spirit of OpenFisca's YAML
// tests). Each case carries the hand arithmetic in a comment; expected values are
// exact decimals.
type caseFile struct {
	Cases []tcase `yaml:"cases"`
}

type tcase struct {
	Name    string         `yaml:"name"`
	Kind    string         `yaml:"kind"` // "" (liquidation), interest, sanction, months
	Request map[string]any `yaml:"request"`
	// interest / sanction / months inputs
	Capital, Tax, Income, Balance string
	Due, Paid, Filed, Prior       string
	NoReduction                   bool `yaml:"no_reduction"`
	Expect                        struct {
		Lines      map[string]string `yaml:"lines"`
		Absent     []string          `yaml:"absent"`
		Total      string            `yaml:"total"`
		Unresolved map[string]string `yaml:"unresolved"`
		ErrorField *string           `yaml:"error_field"`
		ErrorRule  string            `yaml:"error_rule"`
		Value      string            `yaml:"value"`
		Days       *int              `yaml:"days"`
		Months     *int              `yaml:"months"`
		Verify     *struct {
			Status      string            `yaml:"status"`
			Lines       map[string]string `yaml:"lines"`
			Total       string            `yaml:"total"`
			Differences map[string]string `yaml:"differences"`
			Field       string            `yaml:"field"`
		} `yaml:"verify"`
	} `yaml:"expect"`
}

func dec(t *testing.T, s string) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(s)
	if err != nil {
		t.Fatalf("bad decimal %q in case: %v", s, err)
	}
	return d
}

func date(t *testing.T, s string) Date {
	t.Helper()
	if s == "" {
		return Date{}
	}
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// jsonable converts YAML-decoded values (time.Time for unquoted dates) for encoding/json.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
	case []any:
		for i, e := range x {
			x[i] = jsonable(e)
		}
	case time.Time:
		return x.Format("2006-01-02")
	}
	return v
}

func TestCases(t *testing.T) {
	r := MustEmbeddedRules()
	files, _ := filepath.Glob("testdata/cases/*.yaml")
	if len(files) == 0 {
		t.Fatal("no case files")
	}
	total := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cf caseFile
		if err := yaml.Unmarshal(b, &cf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range cf.Cases {
			c := c
			total++
			t.Run(filepath.Base(f)+"/"+c.Name, func(t *testing.T) { runCase(t, r, c) })
		}
	}
	t.Logf("%d cases", total)
}

func runCase(t *testing.T, r *Rules, c tcase) {
	switch c.Kind {
	case "interest":
		it := r.MoratoryInterest(dec(t, c.Capital), date(t, c.Due), date(t, c.Paid), true)
		if c.Expect.Unresolved != nil {
			if it.Unresolved == "" || !strings.Contains(it.Unresolved, c.Expect.Unresolved["value"]) {
				t.Fatalf("unresolved = %q, want containing %q", it.Unresolved, c.Expect.Unresolved["value"])
			}
			return
		}
		if it.Unresolved != "" {
			t.Fatalf("unexpected unresolved: %s", it.Unresolved)
		}
		if !it.Value.Equal(dec(t, c.Expect.Value)) {
			t.Fatalf("interest = %s, want %s (%s)", it.Value, c.Expect.Value, describePeriods(it.Periods))
		}
		if c.Expect.Days != nil && it.Days != *c.Expect.Days {
			t.Fatalf("days = %d, want %d", it.Days, *c.Expect.Days)
		}
		return
	case "months":
		if got := monthsLate(date(t, c.Due), date(t, c.Filed)); got != *c.Expect.Months {
			t.Fatalf("monthsLate = %d, want %d", got, *c.Expect.Months)
		}
		return
	case "sanction":
		f := SanctionFacts{Due: date(t, c.Due), Filed: date(t, c.Filed), PriorInfraction: date(t, c.Prior), NoReduction: c.NoReduction, Round: true,
			Tax: decimal.Zero, Income: decimal.Zero, Balance: decimal.Zero, Equity: decimal.Zero}
		if c.Tax != "" {
			f.Tax = dec(t, c.Tax)
		}
		if c.Income != "" {
			f.Income = dec(t, c.Income)
		}
		if c.Balance != "" {
			f.Balance = dec(t, c.Balance)
		}
		s := r.LateFilingSanction(f)
		if !s.Value.Equal(dec(t, c.Expect.Value)) {
			t.Fatalf("sanction = %s, want %s (%+v)", s.Value, c.Expect.Value, s)
		}
		if c.Expect.Months != nil && s.Months != *c.Expect.Months {
			t.Fatalf("months = %d, want %d", s.Months, *c.Expect.Months)
		}
		return
	}
	raw, err := json.Marshal(jsonable(c.Request))
	if err != nil {
		t.Fatal(err)
	}
	req, derr := DecodeRequest(raw)
	if c.Expect.ErrorField != nil && derr != nil {
		fe := derr.(*FieldError)
		if fe.Field != *c.Expect.ErrorField {
			t.Fatalf("decode error field = %q, want %q (%s)", fe.Field, *c.Expect.ErrorField, fe.Message)
		}
		return
	}
	if derr != nil {
		t.Fatalf("decode: %v", derr)
	}
	req.Explain = true
	if v := c.Expect.Verify; v != nil {
		ver := r.Verify(req)
		if string(ver.Status) != v.Status {
			b, _ := json.Marshal(ver)
			t.Fatalf("verify status = %s, want %s: %s", ver.Status, v.Status, b)
		}
		if v.Field != "" && ver.Field != v.Field {
			t.Fatalf("verify field = %q, want %q", ver.Field, v.Field)
		}
		for code, st := range v.Lines {
			found := false
			for _, ch := range ver.Lines {
				if ch.Code == code {
					found = true
					if string(ch.Status) != st {
						t.Fatalf("line %s status = %s, want %s (%s)", code, ch.Status, st, ch.Reason)
					}
					if d, ok := v.Differences[code]; ok && !ch.Difference.Equal(dec(t, d)) {
						t.Fatalf("line %s difference = %s, want %s", code, ch.Difference, d)
					}
				}
			}
			if !found {
				t.Fatalf("no check for line %s", code)
			}
		}
		if v.Total != "" {
			if ver.Total == nil || string(ver.Total.Status) != v.Total {
				t.Fatalf("total check = %+v, want %s", ver.Total, v.Total)
			}
			if d, ok := v.Differences["total"]; ok && !ver.Total.Difference.Equal(dec(t, d)) {
				t.Fatalf("total difference = %s, want %s", ver.Total.Difference, d)
			}
		}
		return
	}
	res, err := r.Liquidate(req)
	if c.Expect.ErrorField != nil || c.Expect.ErrorRule != "" {
		if err == nil {
			t.Fatalf("expected an error, got result total %s", res.Total)
		}
		if c.Expect.ErrorField != nil {
			fe, ok := err.(*FieldError)
			if !ok || fe.Field != *c.Expect.ErrorField {
				t.Fatalf("error = %v, want field %q", err, *c.Expect.ErrorField)
			}
		}
		if c.Expect.ErrorRule != "" {
			re, ok := err.(*RuleMissingError)
			if !ok || re.Rule != c.Expect.ErrorRule {
				t.Fatalf("error = %v, want rule %q", err, c.Expect.ErrorRule)
			}
		}
		return
	}
	if err != nil {
		t.Fatalf("liquidate: %v", err)
	}
	dump := func() string {
		var sb strings.Builder
		for _, l := range res.Lines {
			sb.WriteString("\n  " + l.Code + " = " + l.Value.String())
			if l.Unresolved != "" {
				sb.WriteString(" [" + l.Unresolved + "]")
			}
		}
		return sb.String()
	}
	codes := make([]string, 0, len(c.Expect.Lines))
	for k := range c.Expect.Lines {
		codes = append(codes, k)
	}
	sort.Strings(codes)
	for _, code := range codes {
		l := res.Line(code)
		if l == nil {
			t.Fatalf("missing line %s:%s", code, dump())
		}
		if !l.Value.Equal(dec(t, c.Expect.Lines[code])) {
			t.Fatalf("line %s = %s, want %s:%s", code, l.Value, c.Expect.Lines[code], dump())
		}
		if l.Rule == "" || l.Article == "" || l.Label == "" {
			t.Fatalf("line %s lacks label/rule/article", code)
		}
		if c.Expect.Unresolved[code] == "" && l.Unresolved != "" {
			t.Fatalf("line %s unexpectedly unresolved: %s", code, l.Unresolved)
		}
	}
	for _, code := range c.Expect.Absent {
		if res.Line(code) != nil {
			t.Fatalf("line %s should be absent:%s", code, dump())
		}
	}
	for code, sub := range c.Expect.Unresolved {
		l := res.Line(code)
		if l == nil || !strings.Contains(l.Unresolved, sub) {
			t.Fatalf("line %s unresolved should mention %q:%s", code, sub, dump())
		}
	}
	if c.Expect.Total != "" && !res.Total.Equal(dec(t, c.Expect.Total)) {
		t.Fatalf("total = %s, want %s:%s", res.Total, c.Expect.Total, dump())
	}
}
