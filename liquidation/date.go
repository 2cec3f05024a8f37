package liquidation

import (
	"fmt"
	"strconv"
	"time"

	"github.com/observatorio-civico/observatorio/formato"
)

// Date is a civil (calendar) date without time zone. The zero value means "unset".
// It is stored as days since 1970-01-01 plus an offset so that arithmetic and
// comparisons never allocate.
type Date struct{ n int32 }

const dateOffset = 1 << 20 // keeps n > 0 for every supported date

// NewDate returns the civil date y-m-d (normalized like time.Date).
func NewDate(y int, m time.Month, d int) Date {
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return Date{n: int32(t.Unix()/86400) + dateOffset}
}

func dateFromTime(t time.Time) Date {
	return NewDate(t.Year(), t.Month(), t.Day())
}

// ParseDate parses an ISO 8601 calendar date (YYYY-MM-DD).
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("fecha %q inválida: use el formato AAAA-MM-DD", s)
	}
	y, err1 := strconv.Atoi(s[0:4])
	m, err2 := strconv.Atoi(s[5:7])
	d, err3 := strconv.Atoi(s[8:10])
	if err1 != nil || err2 != nil || err3 != nil || m < 1 || m > 12 || d < 1 || d > daysIn(y, time.Month(m)) {
		return Date{}, fmt.Errorf("fecha %q inválida: use el formato AAAA-MM-DD", s)
	}
	if y < 1900 || y > 2200 {
		return Date{}, fmt.Errorf("fecha %q fuera del rango admitido (1900-2200)", s)
	}
	return NewDate(y, time.Month(m), d), nil
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d.n == 0 }

// Time returns the date at 00:00 UTC.
func (d Date) Time() time.Time {
	return time.Unix(int64(d.n-dateOffset)*86400, 0).UTC()
}

// Year, Month and Day return the civil components.
func (d Date) Year() int         { return d.Time().Year() }
func (d Date) Month() time.Month { return d.Time().Month() }
func (d Date) Day() int          { return d.Time().Day() }

// AddDays returns d shifted by n days.
func (d Date) AddDays(n int) Date { return Date{n: d.n + int32(n)} }

// Sub returns the number of days from e to d (d - e).
func (d Date) Sub(e Date) int { return int(d.n - e.n) }

// Before, After, Equal compare dates.
func (d Date) Before(e Date) bool { return d.n < e.n }
func (d Date) After(e Date) bool  { return d.n > e.n }

// String formats as YYYY-MM-DD ("" when unset).
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Time().Format("2006-01-02")
}

// Spanish formats the date as citizens read it: "21 de noviembre de 2026".
func (d Date) Spanish() string {
	if d.IsZero() {
		return ""
	}
	return formato.Date(d.Time())
}

// MarshalJSON encodes as "YYYY-MM-DD" (null when unset).
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON accepts "YYYY-MM-DD" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*d = Date{}
		return nil
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return fmt.Errorf("fecha inválida: se espera texto AAAA-MM-DD")
	}
	v, err := ParseDate(s[1 : len(s)-1])
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// addMonthsClamped adds n calendar months, clamping the day to the end of the target
// month (2024-01-31 + 1 month = 2024-02-29).
func addMonthsClamped(d Date, n int) Date {
	t := d.Time()
	y, m, day := t.Year(), int(t.Month())-1+n, t.Day()
	y += m / 12
	m %= 12
	if m < 0 {
		m += 12
		y--
	}
	if dim := daysIn(y, time.Month(m+1)); day > dim {
		day = dim
	}
	return NewDate(y, time.Month(m+1), day)
}

// monthsLate counts "meses o fracción de mes calendario de retardo" (ET art. 641)
// between a deadline and the date the obligation was met: the smallest m such that
// deadline + m months (clamped) >= filed. Filing on or before the deadline is 0.
func monthsLate(deadline, filed Date) int {
	if !filed.After(deadline) {
		return 0
	}
	// Start from an estimate and adjust; the loop runs at most a couple of times.
	dt, ft := deadline.Time(), filed.Time()
	m := (ft.Year()-dt.Year())*12 + int(ft.Month()) - int(dt.Month()) - 1
	if m < 1 {
		m = 1
	}
	for addMonthsClamped(deadline, m).Before(filed) {
		m++
	}
	for m > 1 && !addMonthsClamped(deadline, m-1).Before(filed) {
		m--
	}
	return m
}
