package dashboards

import (
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/formato"
)

// nbsp keeps "$" and "%" on the line of their number.
const nbsp = "\u00a0"

// Pesos formats an amount as Colombians write it: "$ 1.234.567" (no
// decimals; cents are shown only when present: "$ 1.234,50"). The space
// after "$" does not break.
func Pesos(d decimal.Decimal) string {
	neg := d.IsNegative()
	d = d.Abs()
	intPart := d.Truncate(0)
	frac := d.Sub(intPart)
	s := groupThousands(intPart.String())
	if !frac.IsZero() {
		s += "," + strings.TrimPrefix(frac.StringFixed(2), "0.")
	}
	if neg {
		return "-$" + nbsp + s
	}
	return "$" + nbsp + s
}

// The es-CO formats of dates and integers live in package formato, shared
// with the datasets' pages and the liquidation core.
var (
	Number     = formato.Number
	Date       = formato.Date
	Month      = formato.Month
	ShortMonth = formato.ShortMonth
)

func groupThousands(digits string) string { return formato.GroupThousands(digits) }

func itoa(n int) string { return strconv.Itoa(n) }

// Percent formats a percentage with one decimal: "87,3 %".
func Percent(d decimal.Decimal) string {
	s := d.StringFixed(1)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	out := groupThousands(intPart) + "," + frac + nbsp + "%"
	if neg {
		return "-" + out
	}
	return out
}

// Ratio is part/whole × 100 rounded to one decimal, and false when whole is
// zero.
func Ratio(part, whole decimal.Decimal) (decimal.Decimal, bool) {
	if whole.IsZero() {
		return decimal.Zero, false
	}
	return part.Mul(decimal.NewFromInt(100)).Div(whole).Round(1), true
}

// Quarter is "3.er trimestre de 2020".
func Quarter(t time.Time) string {
	q := (int(t.Month())-1)/3 + 1
	ord := map[int]string{1: "1.er", 2: "2.º", 3: "3.er", 4: "4.º"}[q]
	return ord + " trimestre de " + itoa(t.Year())
}

// ShortQuarter is "T3 2020", for chart axes.
func ShortQuarter(t time.Time) string {
	return "T" + itoa((int(t.Month())-1)/3+1) + " " + itoa(t.Year())
}

// particles stay in lower case inside a name.
var particles = map[string]bool{"de": true, "del": true, "la": true, "las": true, "los": true, "el": true, "y": true, "e": true, "en": true}

// PlaceName turns a DIVIPOLA name ("SAN JOSÉ DE LA FRAGUA") into the way it
// is written in running text ("San José de la Fragua"). Abbreviations with
// dots ("D.C.") stay in capitals.
func PlaceName(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if strings.Contains(strings.TrimSuffix(w, "."), ".") {
			continue // D.C.
		}
		lw := strings.ToLower(w)
		if i > 0 && particles[lw] {
			words[i] = lw
			continue
		}
		r := []rune(lw)
		for j := range r {
			if j == 0 || r[j-1] == '-' || r[j-1] == '(' {
				r[j] = []rune(strings.ToUpper(string(r[j])))[0]
			}
		}
		words[i] = string(r)
	}
	return strings.Join(words, " ")
}
