package warehouse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// nativeBlock builds one Native block by hand, as ClickHouse writes it.
func nativeBlock(rows int, cols ...[]byte) []byte {
	var b bytes.Buffer
	b.WriteByte(byte(len(cols)))
	b.WriteByte(byte(rows))
	for _, c := range cols {
		b.Write(c)
	}
	return b.Bytes()
}

func header(name, typ string) []byte {
	return append(append([]byte{byte(len(name))}, name...), append([]byte{byte(len(typ))}, typ...)...)
}

func TestNativeScan(t *testing.T) {
	want := []Column{{"id", "String"}, {"v", "Nullable(Decimal(18, 2))"}, {"d", "DateTime"}, {"a", "Array(UInt16)"}}
	block := nativeBlock(2,
		append(header("id", "String"), 1, 'a', 2, 'b', 'c'),
		append(header("v", "Nullable(Decimal(18, 2))"), append([]byte{0, 1}, make([]byte, 16)...)...),
		append(header("d", "DateTime"), make([]byte, 8)...),
		append(append(header("a", "Array(UInt16)"), 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0), make([]byte, 6)...),
	)
	stream := append(append([]byte{}, block...), block...)
	rows, err := nativeScan(bytes.NewReader(stream), want)
	if err != nil || rows != 4 {
		t.Fatalf("rows %d, err %v", rows, err)
	}
	if rows, err := nativeScan(bytes.NewReader(nil), want); err != nil || rows != 0 {
		t.Fatalf("empty stream: %d %v", rows, err)
	}
	// Cut anywhere inside a block: an error, never a short count.
	for cut := 1; cut < len(block); cut++ {
		_, err := nativeScan(bytes.NewReader(stream[:len(block)+cut]), want)
		if err == nil {
			t.Fatalf("stream cut at %d of the second block accepted", cut)
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "columna") {
			t.Fatalf("cut at %d: %v", cut, err)
		}
	}
	// Another column list is refused.
	other := append([]Column{}, want...)
	other[2].Type = "Date"
	if _, err := nativeScan(bytes.NewReader(stream), other); err == nil || !strings.Contains(err.Error(), "se esperaba d Date") {
		t.Fatalf("wrong type accepted: %v", err)
	}
	if _, err := nativeScan(bytes.NewReader(nativeBlock(1, append(header("x", "LowCardinality(String)"), 0))), []Column{{"x", "LowCardinality(String)"}}); err == nil || !strings.Contains(err.Error(), "sin soporte") {
		t.Fatalf("unknown type: %v", err)
	}
}
