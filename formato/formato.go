// Package formato writes numbers and dates as citizens of Colombia read
// them (es-CO): "1.234.567", "21 de noviembre de 2026". Pages, datasets'
// metadata and the liquidation core's explanations all use it, so the
// observatory says a date or a figure the same way everywhere.
package formato

import (
	"strconv"
	"strings"
	"time"
)

// Months are the month names, lower case as Spanish writes them.
var Months = [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}

// Date is "21 de noviembre de 2026".
func Date(t time.Time) string {
	return strconv.Itoa(t.Day()) + " de " + Months[t.Month()-1] + " de " + strconv.Itoa(t.Year())
}

// Colombia is the country's time: UTC-5 all year (no daylight saving).
var Colombia = time.FixedZone("COT", -5*3600)

// DateTime is the moment t in Colombia, on the 12-hour clock Colombians
// read: "21 de noviembre de 2026, 3:04 p. m."; noon is "12:00 m.".
func DateTime(t time.Time) string {
	t = t.In(Colombia)
	h, m := t.Hour(), t.Minute()
	suffix := "a. m."
	switch {
	case h == 12 && m == 0:
		suffix = "m."
	case h >= 12:
		suffix = "p. m."
	}
	h12 := h % 12
	if h12 == 0 {
		h12 = 12
	}
	mm := strconv.Itoa(m)
	if m < 10 {
		mm = "0" + mm
	}
	return Date(t) + ", " + strconv.Itoa(h12) + ":" + mm + " " + suffix
}

// Month is "noviembre de 2026".
func Month(t time.Time) string {
	return Months[t.Month()-1] + " de " + strconv.Itoa(t.Year())
}

// ShortMonth is "nov. 2026", for chart axes.
func ShortMonth(t time.Time) string {
	return Months[t.Month()-1][:3] + ". " + strconv.Itoa(t.Year())
}

// Number writes an integer with dots between thousands: 1.234.567.
func Number(n int64) string {
	if n < 0 {
		return "-" + GroupThousands(strconv.FormatUint(uint64(-n), 10))
	}
	return GroupThousands(strconv.FormatInt(n, 10))
}

// GroupThousands puts dots between groups of three in a string of digits.
func GroupThousands(digits string) string {
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
