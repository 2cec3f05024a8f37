package warehouse

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// colType is a column type parsed once per insert, and the one place where
// a Go value is checked against it before either backend writes it: a
// number that does not fit, a decimal with more digits than the column, a
// date out of range are errors naming the value, never a silent wrap (the
// server's driver would write uint16(65536) as 0) or truncation (it would
// write 99.999 into Decimal(18, 2) as 99.99). Decimals are rounded to the
// column's scale half away from zero, as Bind rounds parameters.
type colType struct {
	decl     string // as the table declares it
	base     string // without Nullable and LowCardinality
	nullable bool
	kind     colKind
	bits     int // integers: width
	prec     int // decimals
	scale    int
}

type colKind int

const (
	kindOther colKind = iota // sent as its canonical Go value, unchecked
	kindString
	kindUInt
	kindInt
	kindFloat
	kindDate
	kindDateTime
	kindDecimal
)

func parseColType(typ string) colType {
	base, nullable := baseType(typ)
	c := colType{decl: typ, base: base, nullable: nullable}
	switch {
	case base == "String":
		c.kind = kindString
	case base == "UInt8" || base == "UInt16" || base == "UInt32" || base == "UInt64":
		c.kind = kindUInt
		c.bits, _ = strconv.Atoi(base[len("UInt"):])
	case base == "Int8" || base == "Int16" || base == "Int32" || base == "Int64":
		c.kind = kindInt
		c.bits, _ = strconv.Atoi(base[len("Int"):])
	case base == "Float64" || base == "Float32":
		c.kind = kindFloat
	case base == "Date":
		c.kind = kindDate
	case base == "DateTime":
		c.kind = kindDateTime
	case strings.HasPrefix(base, "Decimal("):
		if p, s, ok := decimalParams(base); ok && p <= 38 {
			c.kind, c.prec, c.scale = kindDecimal, p, s
		}
	}
	return c
}

// maxDate and maxDateTime are the last values a Date and a DateTime
// column take. A Date holds UInt16 days, up to 2149-06-06, but the
// ClickHouse 18.16 server that Debian ships writes any day from 2106 on as
// 1970-01-01 in text (CSV files, toString, a date compared with a text
// parameter), while it stores and returns the day right over the native
// protocol; a row with such a date is refused here on both engines, so
// that it is quarantined rather than published wrong. DateTime holds
// UInt32 seconds.
var (
	maxDate     = time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC)
	maxDateTime = time.Unix(math.MaxUint32, 0).UTC()
	maxDay      = daysSinceEpoch(maxDate)
)

// fit converts v to the column's canonical Go value (see types.go) and
// checks that it fits. A nil v is nil for a nullable column, else an error.
func (c *colType) fit(v any) (any, error) {
	if v == nil {
		if c.nullable {
			return nil, nil
		}
		return nil, fmt.Errorf("valor nulo en columna %s no anulable", c.decl)
	}
	// The common cases without the generic conversion.
	switch x := v.(type) {
	case string:
		if c.kind == kindString {
			return x, nil
		}
	case decimal.Decimal:
		if c.kind == kindDecimal {
			return c.fitDecimal(x)
		}
	case time.Time:
		if c.kind == kindDate || c.kind == kindDateTime {
			return c.fitTime(x.UTC())
		}
	}
	return c.fitSlow(v)
}

// fitSlow is fit through the generic conversion.
func (c *colType) fitSlow(v any) (any, error) {
	cv, err := coerce(v, c.decl)
	if err != nil || cv == nil {
		return cv, err
	}
	switch c.kind {
	case kindUInt:
		if u := cv.(uint64); c.bits < 64 && u>>c.bits != 0 {
			return nil, fmt.Errorf("%d no cabe en %s", u, c.base)
		}
	case kindInt:
		if i := cv.(int64); c.bits < 64 && (i < -1<<(c.bits-1) || i >= 1<<(c.bits-1)) {
			return nil, fmt.Errorf("%d no cabe en %s", i, c.base)
		}
	case kindDecimal:
		return c.fitDecimal(cv.(decimal.Decimal))
	case kindDate, kindDateTime:
		return c.fitTime(cv.(time.Time))
	}
	return cv, nil
}

func (c *colType) fitDecimal(d decimal.Decimal) (any, error) {
	d, err := c.roundDecimal(d)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// roundDecimal rounds d to the column's scale and checks its digits.
func (c *colType) roundDecimal(d decimal.Decimal) (decimal.Decimal, error) {
	if int(d.Exponent()) < -c.scale {
		d = d.Round(int32(c.scale))
	}
	// Integer digits: the coefficient's digits plus the exponent's zeros,
	// less the fraction digits.
	if d.Sign() != 0 && int(d.NumDigits())+int(d.Exponent()) > c.prec-c.scale {
		return d, fmt.Errorf("%s tiene más dígitos enteros de los que admite %s", d.String(), c.base)
	}
	return d, nil
}

// scaledInt64 is d in units of the column's scale (rounded as
// roundDecimal rounds) when d's coefficient and the result fit an int64
// and the result fits the column: the common case, without the big
// integers roundDecimal and putScaled go through. The ETL writes five
// decimals per liquidation, two of them the liquidation core's in
// millionths, whose rounding allocated (etl/BENCHMARKS.md, "Session
// 14"). false leaves d to them, errors included.
func (c *colType) scaledInt64(d decimal.Decimal) (int64, bool) {
	if c.prec > 18 || d.NumDigits() > 18 {
		return 0, false
	}
	v := d.CoefficientInt64() // exact: at most 18 digits
	shift := int(d.Exponent()) + c.scale
	switch {
	case shift > 0:
		if shift > 18 || abs64(v) >= pow10[18-shift] {
			return 0, false
		}
		v *= pow10[shift]
	case shift < 0:
		if -shift > 18 {
			return 0, false
		}
		// Half away from zero, as decimal.Round: |r| ≥ p/2 when the
		// first digit dropped is 5 or more.
		p := pow10[-shift]
		q, r := v/p, v%p
		if 2*abs64(r) >= p {
			if v < 0 {
				q--
			} else {
				q++
			}
		}
		v = q
	}
	if abs64(v) >= pow10[c.prec] {
		return 0, false
	}
	return v, true
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func (c *colType) fitTime(t time.Time) (any, error) {
	if err := c.checkTime(t); err != nil {
		return nil, err
	}
	return t, nil
}

// checkTime checks that t (UTC) fits a Date or DateTime column.
func (c *colType) checkTime(t time.Time) error {
	if c.kind == kindDate {
		if day := daysSinceEpoch(t); day < 0 || day > maxDay {
			return fmt.Errorf("fecha %s fuera del rango de Date (1970-01-01 a 2105-12-31)", t.Format("2006-01-02"))
		}
		return nil
	}
	if t.Unix() < 0 || t.After(maxDateTime) {
		return fmt.Errorf("instante %s fuera del rango de DateTime", t.Format(time.RFC3339))
	}
	return nil
}

// decimalParams reads P and S from "Decimal(P, S)".
func decimalParams(t string) (p, s int, ok bool) {
	inner := strings.TrimSuffix(strings.TrimPrefix(t, "Decimal("), ")")
	ps := strings.Split(inner, ",")
	if len(ps) != 2 {
		return 0, 0, false
	}
	var err1, err2 error
	p, err1 = strconv.Atoi(strings.TrimSpace(ps[0]))
	s, err2 = strconv.Atoi(strings.TrimSpace(ps[1]))
	return p, s, err1 == nil && err2 == nil && p > 0 && s >= 0 && s <= p
}
