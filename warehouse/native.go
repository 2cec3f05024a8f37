package warehouse

import (
	"bufio"
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"time"

	"github.com/shopspring/decimal"
)

// The embedded engine loads batches in ClickHouse's Native format, read
// back by the file() table function. Passing rows as TabSeparated text
// inside the INSERT statement went through the engine's parse of the
// statement's tail and cost about 17 µs a liquidation row; the same rows
// as a Native file load several times faster (etl/BENCHMARKS.md), and the
// Go side writes binary values instead of formatting and escaping text.
//
// A Native block is: the number of columns and of rows (unsigned LEB128),
// then, per column, its name, its type and its values one after another
// (little-endian fixed-width numbers; strings with a LEB128 length;
// Nullable as a byte mask followed by the values, zero where null).

// errNotNative marks a column type the Native encoder does not write; the
// insert then goes as text.
var errNotNative = errors.New("tipo sin codificación Native")

// nativeTypes parses the column types of an insert, or errNotNative.
// LowCardinality(T) columns are sent as T; the INSERT converts them.
func nativeTypes(types []string) ([]colType, error) {
	out := make([]colType, len(types))
	for j, t := range types {
		out[j] = parseColType(t)
		if out[j].kind == kindOther {
			return nil, errNotNative
		}
	}
	return out, nil
}

// blockType is the type a column declares in the block.
func (c *colType) blockType() string {
	if c.nullable {
		return "Nullable(" + c.base + ")"
	}
	return c.base
}

// width is the size of a fixed-width value (0 for String).
func (c *colType) width() int {
	switch c.kind {
	case kindUInt, kindInt:
		return c.bits / 8
	case kindFloat:
		if c.base == "Float32" {
			return 4
		}
		return 8
	case kindDate:
		return 2
	case kindDateTime:
		return 4
	case kindDecimal:
		switch {
		case c.prec > 18:
			return 16
		case c.prec > 9:
			return 8
		}
		return 4
	}
	return 0
}

func (c *colType) putTime(b []byte, t time.Time) {
	if c.kind == kindDate {
		binary.LittleEndian.PutUint16(b, uint16(daysSinceEpoch(t)))
	} else {
		binary.LittleEndian.PutUint32(b, uint32(t.Unix()))
	}
}

// put writes a fitted, non-nil value into b (len(b) == c.width()).
func (c *colType) put(b []byte, v any) {
	switch c.kind {
	case kindUInt:
		putUint(b, v.(uint64))
	case kindInt:
		putUint(b, uint64(v.(int64)))
	case kindFloat:
		if len(b) == 4 {
			binary.LittleEndian.PutUint32(b, math.Float32bits(float32(v.(float64))))
		} else {
			binary.LittleEndian.PutUint64(b, math.Float64bits(v.(float64)))
		}
	case kindDate, kindDateTime:
		c.putTime(b, v.(time.Time))
	case kindDecimal:
		putScaled(b, v.(decimal.Decimal), c.scale)
	}
}

// writeUvarint appends to the writer's own buffer: a local array passed to
// Write would escape to the heap, one allocation per string written.
func writeUvarint(w *bufio.Writer, x uint64) {
	if w.Available() < binary.MaxVarintLen64 {
		w.Flush()
	}
	w.Write(binary.AppendUvarint(w.AvailableBuffer(), x))
}

func writeString(w *bufio.Writer, s string) {
	writeUvarint(w, uint64(len(s)))
	w.WriteString(s)
}

// putUint writes u little-endian over len(b) bytes.
func putUint(b []byte, u uint64) {
	for i := range b {
		b[i] = byte(u >> (8 * i))
	}
}

// daysSinceEpoch is the UTC calendar day of t as days since 1970-01-01,
// the same day the text form (t.UTC() as 2006-01-02) names: Unix time
// counts 86,400 seconds a day. (Through the calendar date and back it
// cost two conversions per date written.)
func daysSinceEpoch(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

var pow10 = func() [19]int64 {
	var t [19]int64
	t[0] = 1
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] * 10
	}
	return t
}()

// putScaled writes d × 10^scale (d already fitted: at most scale fraction
// digits, and digits that fit the column) as a little-endian two's
// complement integer over len(b) bytes.
func putScaled(b []byte, d decimal.Decimal, scale int) {
	shift := int(d.Exponent()) + scale // ≥ 0 after fit
	if d.NumDigits()+shift <= 18 && shift < len(pow10) {
		v := d.CoefficientInt64() * pow10[shift]
		putUint(b, uint64(v))
		if len(b) == 16 && v < 0 {
			putUint(b[8:], math.MaxUint64)
		}
		return
	}
	n := d.Shift(int32(scale)).BigInt()
	if n.Sign() < 0 { // two's complement over 128 bits
		n.Add(n, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	raw := n.FillBytes(make([]byte, 16)) // big-endian
	for i := range b {
		b[i] = raw[15-i]
	}
}
