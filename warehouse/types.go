package warehouse

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// The observatory's canonical Go representation of ClickHouse values, the
// same from both backends:
//
//	Int8..Int64        int64
//	UInt8..UInt64      uint64
//	Float32/Float64    float64
//	Decimal(P, S)      decimal.Decimal
//	String, FixedString, UUID, Enum   string
//	Date, Date32       time.Time (midnight UTC)
//	DateTime, DateTime64  time.Time (UTC)
//	Nullable(T)        nil or T
//	Array(T)           []any
//
// Both the chDB text decoder and the clickhouse-go value normalizer produce
// exactly these types, which the integration suite checks.

// baseType strips Nullable(...) and LowCardinality(...).
func baseType(t string) (base string, nullable bool) {
	for {
		switch {
		case strings.HasPrefix(t, "Nullable("):
			t, nullable = t[len("Nullable("):len(t)-1], true
		case strings.HasPrefix(t, "LowCardinality("):
			t = t[len("LowCardinality(") : len(t)-1]
		default:
			return t, nullable
		}
	}
}

// parseText converts one unescaped TabSeparated field of type typ.
func parseText(s, typ string) (any, error) {
	t, nullable := baseType(typ)
	if nullable && s == `\N` {
		return nil, nil
	}
	switch {
	case strings.HasPrefix(t, "UInt"):
		return strconv.ParseUint(s, 10, 64)
	case strings.HasPrefix(t, "Int"):
		return strconv.ParseInt(s, 10, 64)
	case strings.HasPrefix(t, "Float"):
		switch s {
		case "nan", "-nan":
			return math.NaN(), nil
		case "inf", "+inf":
			return math.Inf(1), nil
		case "-inf":
			return math.Inf(-1), nil
		}
		return strconv.ParseFloat(s, 64)
	case strings.HasPrefix(t, "Decimal"):
		return decimal.NewFromString(s)
	case t == "Date" || t == "Date32":
		return time.Parse("2006-01-02", s)
	case strings.HasPrefix(t, "DateTime64"):
		return time.Parse("2006-01-02 15:04:05.999999999", s)
	case strings.HasPrefix(t, "DateTime"):
		return time.Parse("2006-01-02 15:04:05", s)
	case t == "Bool":
		return s == "true" || s == "1", nil
	case strings.HasPrefix(t, "Array("):
		return parseArray(s, t[len("Array("):len(t)-1])
	}
	return s, nil // String, FixedString, UUID, Enum and the rest as text
}

// parseArray parses the text form of an array ('[1,2]', "['a','b']").
func parseArray(s, elem string) (any, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, fmt.Errorf("arreglo mal formado %q", s)
	}
	body := s[1 : len(s)-1]
	out := []any{}
	for len(body) > 0 {
		var item string
		if body[0] == '\'' {
			end := skipQuoted(body, 0)
			item = unescapeQuoted(body[1 : end-1])
			body = body[end:]
		} else {
			j := strings.IndexByte(body, ',')
			if j < 0 {
				j = len(body)
			}
			item, body = body[:j], body[j:]
		}
		v, err := parseText(item, elem)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		body = strings.TrimPrefix(body, ",")
	}
	return out, nil
}

func unescapeQuoted(s string) string {
	if !strings.ContainsRune(s, '\\') {
		return s
	}
	return unescapeTSV(s)
}

// unescapeTSV undoes ClickHouse's TabSeparated escaping.
func unescapeTSV(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '0':
			b.WriteByte(0)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// appendTSV appends v, coerced to column type typ, as a TabSeparated field.
func appendTSV(b []byte, v any, typ string) ([]byte, error) {
	v, err := coerce(v, typ)
	if err != nil {
		return b, err
	}
	switch x := v.(type) {
	case nil:
		return append(b, `\N`...), nil
	case string:
		for i := 0; i < len(x); i++ {
			switch c := x[i]; c {
			case '\\':
				b = append(b, '\\', '\\')
			case '\t':
				b = append(b, '\\', 't')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case 0:
				b = append(b, '\\', '0')
			default:
				b = append(b, c)
			}
		}
		return b, nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case float64:
		return strconv.AppendFloat(b, x, 'g', -1, 64), nil
	case decimal.Decimal:
		return append(b, x.String()...), nil
	case time.Time:
		t, _ := baseType(typ)
		if t == "Date" || t == "Date32" {
			return x.AppendFormat(b, "2006-01-02"), nil
		}
		return x.UTC().AppendFormat(b, "2006-01-02 15:04:05"), nil
	case bool:
		if x {
			return append(b, '1'), nil
		}
		return append(b, '0'), nil
	}
	return b, fmt.Errorf("valor %T no admitido en TSV", v)
}

// coerce converts a Go value to the canonical representation of column type
// typ, so that callers can insert int into UInt16 or a string into a Date.
func coerce(v any, typ string) (any, error) {
	t, nullable := baseType(typ)
	if v == nil {
		if nullable {
			return nil, nil
		}
		return nil, fmt.Errorf("valor nulo en columna %s no anulable", typ)
	}
	switch {
	case strings.HasPrefix(t, "UInt"):
		switch x := v.(type) {
		case int:
			if x < 0 {
				return nil, fmt.Errorf("%d negativo para %s", x, t)
			}
			return uint64(x), nil
		case int64:
			if x < 0 {
				return nil, fmt.Errorf("%d negativo para %s", x, t)
			}
			return uint64(x), nil
		case int32:
			return uint64(x), nil
		case uint:
			return uint64(x), nil
		case uint8:
			return uint64(x), nil
		case uint16:
			return uint64(x), nil
		case uint32:
			return uint64(x), nil
		case uint64:
			return x, nil
		case bool:
			if x {
				return uint64(1), nil
			}
			return uint64(0), nil
		case string:
			return strconv.ParseUint(x, 10, 64)
		}
	case strings.HasPrefix(t, "Int"):
		switch x := v.(type) {
		case int:
			return int64(x), nil
		case int8:
			return int64(x), nil
		case int16:
			return int64(x), nil
		case int32:
			return int64(x), nil
		case int64:
			return x, nil
		case uint16:
			return int64(x), nil
		case uint32:
			return int64(x), nil
		case string:
			return strconv.ParseInt(x, 10, 64)
		}
	case strings.HasPrefix(t, "Float"):
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		case int:
			return float64(x), nil
		case int64:
			return float64(x), nil
		}
	case strings.HasPrefix(t, "Decimal"):
		switch x := v.(type) {
		case decimal.Decimal:
			return x, nil
		case string:
			return decimal.NewFromString(x)
		case int:
			return decimal.NewFromInt(int64(x)), nil
		case int64:
			return decimal.NewFromInt(x), nil
		}
	case strings.HasPrefix(t, "Date"):
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), nil
		case string:
			if len(x) == 10 {
				return time.Parse("2006-01-02", x)
			}
			return time.Parse("2006-01-02 15:04:05", x)
		}
	case t == "Bool":
		if x, ok := v.(bool); ok {
			return x, nil
		}
	default: // String and friends
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		case fmt.Stringer:
			return x.String(), nil
		}
	}
	return nil, fmt.Errorf("no se puede convertir %T a %s", v, typ)
}
