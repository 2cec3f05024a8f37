package ingest

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/shopspring/decimal"
)

// Records are decoded from the normalizer's canonical text by a plan
// compiled once per record type from the same `csv` struct tags gocsv reads,
// with gocsv's conversion rules (see fieldDecoder). gocsv itself visits
// every field of every row through reflection: on a predial export that
// was 3.5 µs of the ETL's 15 µs of CPU per row, a third of it allocating
// reflect values (etl/BENCHMARKS.md). The plan sets each field through its
// offset with a typed function and takes the pointed-to values of optional
// fields (*decimal.Decimal, *Date, *int) from per-batch blocks instead of
// one allocation each.
//
// gocsv remains the reference: a record type with a field kind the plan
// does not know is decoded by gocsv (decodeKind), and a differential test
// decodes the same sources both ways and compares every field
// (TestPlanMatchesGocsv, FuzzPlanMatchesGocsv).

// setFunc sets the field at p from canonical text s.
type setFunc func(p unsafe.Pointer, s string, a *arena) error

// fieldDecoder is one struct field of a plan.
type fieldDecoder struct {
	offset uintptr
	set    setFunc
	// skipEmpty: an empty value leaves the field as it is (gocsv's
	// `omitempty` on a pointer field leaves it nil).
	skipEmpty bool
}

// recordPlan decodes the canonical row of a schema (cells in the schema's
// field order) into its record struct. fields[i] is nil for a schema field
// the struct does not have.
type recordPlan struct {
	typ    reflect.Type
	fields []*fieldDecoder
}

// compilePlan builds the plan of struct type t for the schema field names.
func compilePlan(t reflect.Type, names []string) (*recordPlan, error) {
	byTag := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("csv")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		byTag[name] = f
	}
	p := &recordPlan{typ: t, fields: make([]*fieldDecoder, len(names))}
	for i, n := range names {
		f, ok := byTag[n]
		if !ok {
			continue
		}
		omitEmpty := strings.Contains(f.Tag.Get("csv"), ",omitempty")
		set, ptr, err := setterFor(f.Type)
		if err != nil {
			return nil, fmt.Errorf("ingest: %s.%s: %w", t.Name(), f.Name, err)
		}
		p.fields[i] = &fieldDecoder{offset: f.Offset, set: set, skipEmpty: ptr && omitEmpty}
	}
	return p, nil
}

var (
	decimalType = reflect.TypeFor[decimal.Decimal]()
	dateType    = reflect.TypeFor[Date]()
	timeType    = reflect.TypeFor[time.Time]()
)

// setterFor returns the setter of a field type and whether it is a pointer.
// The conversions are gocsv's (types.go: setField, toInt, toBool and the
// TextUnmarshaler / TypeUnmarshaller methods), so both decoders agree.
func setterFor(t reflect.Type) (setFunc, bool, error) {
	switch t {
	case decimalType:
		return func(p unsafe.Pointer, s string, _ *arena) error {
			return parseDecimalInto((*decimal.Decimal)(p), s)
		}, false, nil
	case reflect.PointerTo(decimalType):
		return func(p unsafe.Pointer, s string, a *arena) error {
			d := a.decimal()
			*(**decimal.Decimal)(p) = d
			return parseDecimalInto(d, s)
		}, true, nil
	case dateType:
		return func(p unsafe.Pointer, s string, _ *arena) error {
			return (*Date)(p).UnmarshalCSV(s)
		}, false, nil
	case reflect.PointerTo(dateType):
		return func(p unsafe.Pointer, s string, a *arena) error {
			d := a.date()
			*(**Date)(p) = d
			return d.UnmarshalCSV(s)
		}, true, nil
	case timeType:
		return func(p unsafe.Pointer, s string, _ *arena) error {
			return (*time.Time)(p).UnmarshalText([]byte(s))
		}, false, nil
	}
	switch t.Kind() {
	case reflect.String:
		return func(p unsafe.Pointer, s string, _ *arena) error {
			*(*string)(p) = s
			return nil
		}, false, nil
	case reflect.Int:
		return func(p unsafe.Pointer, s string, _ *arena) error {
			v, err := gocsvInt(s)
			*(*int)(p) = int(v)
			return err
		}, false, nil
	case reflect.Bool:
		return func(p unsafe.Pointer, s string, _ *arena) error {
			v, err := gocsvBool(s)
			*(*bool)(p) = v
			return err
		}, false, nil
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Int && t.Elem() == reflect.TypeFor[int]() {
			return func(p unsafe.Pointer, s string, a *arena) error {
				v, err := gocsvInt(s)
				n := a.int()
				*n = int(v)
				*(**int)(p) = n
				return err
			}, true, nil
		}
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		return nil, false, fmt.Errorf("type %s is decoded by gocsv only", t)
	}
	return nil, false, fmt.Errorf("type %s has no decoder", t)
}

// gocsvInt is gocsv's toInt on text: blank is 0, a fraction is cut off, and
// the base follows the prefix (ParseInt base 0).
func gocsvInt(s string) (int64, error) {
	if n, ok := plainInt(s); ok {
		return n, nil
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	whole, _, _ := strings.Cut(s, ".")
	return strconv.ParseInt(whole, 0, 64)
}

// plainInt parses canonical integers (an optional minus, then digits
// without a leading zero), the normalizer's output, without strconv's
// generality.
func plainInt(s string) (int64, bool) {
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if len(s) == 0 || len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// gocsvBool is gocsv's toBool on text.
func gocsvBool(s string) (bool, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.EqualFold(s, "yes"):
		return true, nil
	case strings.EqualFold(s, "no") || s == "":
		return false, nil
	}
	return strconv.ParseBool(s)
}

// parseDecimalInto is decimal.Decimal's UnmarshalText (what gocsv calls)
// with a fast path for the canonical form the normalizer writes: an
// optional minus, digits, and an optional point and digits, 18 digits at
// most. decimal.New gives the same coefficient and exponent as
// NewFromString for that form ("1.50" is 150 × 10⁻²).
func parseDecimalInto(d *decimal.Decimal, s string) error {
	if coef, exp, ok := plainDecimal(s); ok {
		*d = decimal.New(coef, exp)
		return nil
	}
	return d.UnmarshalText([]byte(s))
}

func plainDecimal(s string) (coef int64, exp int32, ok bool) {
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if len(s) == 0 || len(s) > 19 {
		return 0, 0, false
	}
	digits, point := 0, -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			coef = coef*10 + int64(c-'0')
			digits++
		case c == '.' && point < 0 && i > 0 && i < len(s)-1:
			point = i
		default:
			return 0, 0, false
		}
	}
	if digits > 18 {
		return 0, 0, false
	}
	if point >= 0 {
		exp = -int32(len(s) - point - 1)
	}
	if neg {
		coef = -coef
	}
	return coef, exp, true
}

// arena hands out the values that optional fields point to, from blocks:
// one allocation per block instead of one per field. Blocks are never
// reused, so records stay valid after their batch.
type arena struct {
	decs  []decimal.Decimal
	dates []Date
	ints  []int
}

const arenaBlock = 512

func (a *arena) decimal() *decimal.Decimal {
	if len(a.decs) == cap(a.decs) {
		a.decs = make([]decimal.Decimal, 0, arenaBlock)
	}
	a.decs = a.decs[:len(a.decs)+1]
	return &a.decs[len(a.decs)-1]
}

func (a *arena) date() *Date {
	if len(a.dates) == cap(a.dates) {
		a.dates = make([]Date, 0, arenaBlock)
	}
	a.dates = a.dates[:len(a.dates)+1]
	return &a.dates[len(a.dates)-1]
}

func (a *arena) int() *int {
	if len(a.ints) == cap(a.ints) {
		a.ints = make([]int, 0, arenaBlock)
	}
	a.ints = a.ints[:len(a.ints)+1]
	return &a.ints[len(a.ints)-1]
}

// decode sets the fields of the record at rec from a canonical row. On a
// field that does not convert it stops and returns that field's index.
func (p *recordPlan) decode(rec unsafe.Pointer, row []string, a *arena) (int, error) {
	for i, f := range p.fields {
		if f == nil {
			continue
		}
		s := row[i]
		if s == "" && f.skipEmpty {
			continue
		}
		if err := f.set(unsafe.Add(rec, f.offset), s, a); err != nil {
			return i, err
		}
	}
	return -1, nil
}

// plannedDecoder decodes batches of canonical rows into T with the plan.
// A row with a field that does not convert becomes a reject, as with gocsv.
func plannedDecoder[T any, P interface {
	*T
	Record
}](plan *recordPlan) batchDecoder {
	return func(header []string, rows [][]string, origins []Origin, reuse batchStorage) (any, []Record, []badRow) {
		out, _ := reuse.typed.([]T)
		if cap(out) >= len(rows) {
			// The borrower is done with these records: clear them, so
			// that no field of an old record survives into a new one.
			out = out[:len(rows)]
			clear(out)
		} else {
			out = make([]T, len(rows))
		}
		var bad []badRow
		var a arena
		n := 0
		for i, row := range rows {
			rec := &out[n]
			if col, err := plan.decode(unsafe.Pointer(rec), row, &a); err != nil {
				bad = append(bad, badRow{row: i, col: col, err: err})
				*rec = *new(T)
				continue
			}
			*P(rec).Provenance() = origins[i]
			n++
		}
		out = out[:n]
		recs := reuse.recs
		if cap(recs) >= n {
			recs = recs[:n]
		} else {
			recs = make([]Record, n)
		}
		for i := range out {
			recs[i] = P(&out[i])
		}
		return out, recs, bad
	}
}
