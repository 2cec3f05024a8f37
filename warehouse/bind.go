package warehouse

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Param is a named query parameter. SQL refers to it with ClickHouse's
// placeholder syntax, {name:Type}, for example
//
//	SELECT ... WHERE municipality_code = {municipio:String} AND tax_year = {anio:UInt16}
//
// ClickHouse 18.16 has no server-side query parameters, so both backends bind
// the same way: each placeholder becomes CAST('<escaped value>' AS Type). The
// value is always a quoted, escaped string literal, so no user input is ever
// spliced into SQL text as code.
type Param struct {
	Name  string
	Value any
}

// P makes a Param.
func P(name string, value any) Param { return Param{Name: name, Value: value} }

// Bind replaces every {name:Type} placeholder in sql by a typed literal.
// Placeholders inside string literals, quoted identifiers and comments are
// left alone. Every param must be used and every placeholder bound.
func Bind(sql string, params ...Param) (string, error) {
	if len(params) == 0 && !strings.Contains(sql, "{") {
		return sql, nil
	}
	byName := make(map[string]any, len(params))
	for _, p := range params {
		if !validIdent(p.Name) {
			return "", fmt.Errorf("parámetro con nombre inválido %q", p.Name)
		}
		byName[p.Name] = p.Value
	}
	used := make(map[string]bool, len(params))
	var b strings.Builder
	b.Grow(len(sql) + 32*len(params))
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := skipQuoted(sql, i)
			b.WriteString(sql[i:j])
			i = j
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			b.WriteString(sql[i : i+j])
			i += j
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			end := len(sql)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(sql[i:end])
			i = end
		case c == '{':
			j := strings.IndexByte(sql[i:], '}')
			if j < 0 {
				return "", fmt.Errorf("marcador sin cerrar en la posición %d", i)
			}
			inner := sql[i+1 : i+j]
			colon := strings.IndexByte(inner, ':')
			if colon < 0 {
				return "", fmt.Errorf("marcador %q sin tipo: use {nombre:Tipo}", sql[i:i+j+1])
			}
			name, typ := strings.TrimSpace(inner[:colon]), strings.TrimSpace(inner[colon+1:])
			v, ok := byName[name]
			if !ok {
				return "", fmt.Errorf("falta el parámetro %q", name)
			}
			if !validType(typ) {
				return "", fmt.Errorf("tipo inválido %q en el marcador %q", typ, name)
			}
			lit, err := literal(v, typ)
			if err != nil {
				return "", fmt.Errorf("parámetro %q: %w", name, err)
			}
			used[name] = true
			b.WriteString(lit)
			i += j + 1
		default:
			b.WriteByte(c)
			i++
		}
	}
	for _, p := range params {
		if !used[p.Name] {
			return "", fmt.Errorf("el parámetro %q no aparece en la consulta", p.Name)
		}
	}
	return b.String(), nil
}

// skipQuoted returns the index just past the quoted token starting at i,
// honouring backslash escapes and doubled quotes.
func skipQuoted(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// validType accepts ClickHouse type names: letters, digits, underscores,
// parentheses, commas and spaces (Decimal(18, 2), Array(String), ...).
func validType(t string) bool {
	if t == "" || len(t) > 64 {
		return false
	}
	for _, r := range t {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '_' || r == '(' || r == ')' || r == ',' || r == ' ':
		default:
			return false
		}
	}
	return true
}

// literal renders v as CAST('<text>' AS typ); for Array(T) an array of
// such; for In(T), the observatory's pseudo-type for IN lists, a tuple of
// such (ClickHouse 18.16 does not accept an array on the right of IN); for
// Identifier, as in ClickHouse's own parameters, a quoted table name, which
// must be a plain identifier (letters, digits, underscores).
func literal(v any, typ string) (string, error) {
	if typ == "Identifier" {
		name, ok := v.(string)
		if !ok || !validIdent(name) {
			return "", fmt.Errorf("identificador inválido %q", v)
		}
		return quoteIdent(name), nil
	}
	if inner, ok := strings.CutPrefix(typ, "In("); ok && strings.HasSuffix(inner, ")") {
		inner = strings.TrimSuffix(inner, ")")
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice || rv.Len() == 0 {
			return "", fmt.Errorf("se esperaba una lista no vacía para %s", typ)
		}
		parts := make([]string, rv.Len())
		for i := range parts {
			s, err := literalText(rv.Index(i).Interface(), inner)
			if err != nil {
				return "", err
			}
			parts[i] = "CAST(" + quoteString(s) + " AS " + inner + ")"
		}
		return "(" + strings.Join(parts, ", ") + ")", nil
	}
	if inner, ok := strings.CutPrefix(typ, "Array("); ok && strings.HasSuffix(inner, ")") {
		inner = strings.TrimSuffix(inner, ")")
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice {
			return "", fmt.Errorf("se esperaba una lista para %s", typ)
		}
		parts := make([]string, rv.Len())
		for i := range parts {
			s, err := literalText(rv.Index(i).Interface(), inner)
			if err != nil {
				return "", err
			}
			parts[i] = quoteString(s)
		}
		// An empty array literal needs its type spelled out.
		return "CAST([" + strings.Join(parts, ", ") + "] AS Array(" + inner + "))", nil
	}
	s, err := literalText(v, typ)
	if err != nil {
		return "", err
	}
	return "CAST(" + quoteString(s) + " AS " + typ + ")", nil
}

// literalText is the text ClickHouse parses into typ.
func literalText(v any, typ string) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", fmt.Errorf("valor nulo para %s", typ)
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	case int:
		return strconv.FormatInt(int64(x), 10), nil
	case int8, int16, int32, int64:
		return strconv.FormatInt(reflect.ValueOf(x).Int(), 10), nil
	case uint, uint8, uint16, uint32, uint64:
		return strconv.FormatUint(reflect.ValueOf(x).Uint(), 10), nil
	case float32, float64:
		return strconv.FormatFloat(reflect.ValueOf(x).Float(), 'g', -1, 64), nil
	case decimal.Decimal:
		// ClickHouse 18.16 refuses a decimal literal with more digits after
		// the point than the type's scale: round to the scale first.
		if scale, ok := decimalScale(typ); ok {
			return x.Round(scale).StringFixed(scale), nil
		}
		return x.String(), nil
	case time.Time:
		if strings.HasPrefix(typ, "Date") && !strings.HasPrefix(typ, "DateTime") {
			return x.Format("2006-01-02"), nil
		}
		return x.UTC().Format("2006-01-02 15:04:05"), nil
	case fmt.Stringer:
		return x.String(), nil
	}
	return "", fmt.Errorf("tipo de valor no admitido %T", v)
}

// quoteString makes a ClickHouse string literal.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// decimalScale reads S from "Decimal(P, S)".
func decimalScale(typ string) (int32, bool) {
	inner, ok := strings.CutPrefix(typ, "Decimal(")
	if !ok {
		return 0, false
	}
	_, s, ok := strings.Cut(strings.TrimSuffix(inner, ")"), ",")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 76 {
		return 0, false
	}
	return int32(n), true
}
