package dashboards

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Pesos formats an amount as Colombians write it: "$ 1.234.567" (no
// decimals; cents are shown only when present: "$ 1.234,50").
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
		return "-$ " + s
	}
	return "$ " + s
}

// Number formats an integer with dots for thousands: 1.234.567.
func Number(n int64) string {
	if n < 0 {
		return "-" + groupThousands(decimal.NewFromInt(-n).String())
	}
	return groupThousands(decimal.NewFromInt(n).String())
}

func groupThousands(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	first := len(digits) % 3
	if first > 0 {
		b.WriteString(digits[:first])
	}
	for i := first; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

var months = []string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}

// Date formats a date in Spanish: "21 de noviembre de 2026".
func Date(t time.Time) string {
	return itoa(t.Day()) + " de " + months[t.Month()-1] + " de " + itoa(t.Year())
}

// Month formats a month in Spanish: "noviembre de 2026".
func Month(t time.Time) string {
	return months[t.Month()-1] + " de " + itoa(t.Year())
}

// ShortMonth is "nov. 2026", for chart axes.
func ShortMonth(t time.Time) string {
	return months[t.Month()-1][:3] + ". " + itoa(t.Year())
}

func itoa(n int) string { return decimal.NewFromInt(int64(n)).String() }
