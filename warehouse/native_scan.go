package warehouse

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// nativeScan reads a stream in ClickHouse's Native format, as both engines
// write it for a SELECT ... FORMAT Native (no block info: that goes only over
// the client protocol), checks that every block has the expected columns
// with the expected types, and counts the rows. It decodes nothing: each
// column's data is skipped by its serialized size. A backup uses it to count
// what it exported from the bytes themselves (a count taken with a separate
// query could see other rows), and it catches a truncated stream.
//
// Block layout: VarUInt columns, VarUInt rows, then per column its name and
// type as strings and its data. Types cover the observatory's schema; any
// other type is an error rather than a guess.
func nativeScan(r io.Reader, want []Column) (rows uint64, err error) {
	br := bufio.NewReaderSize(r, 256<<10)
	sc := &nativeScanner{r: br}
	for block := 1; ; block++ {
		ncols, err := binary.ReadUvarint(br)
		if errors.Is(err, io.EOF) {
			return rows, nil // a clean end between blocks
		}
		if err != nil {
			return rows, fmt.Errorf("bloque %d: %w", block, err)
		}
		nrows, err := binary.ReadUvarint(br)
		if err != nil {
			return rows, fmt.Errorf("bloque %d: %w", block, unexpected(err))
		}
		if int(ncols) != len(want) {
			return rows, fmt.Errorf("bloque %d: %d columnas, se esperaban %d", block, ncols, len(want))
		}
		for i := range want {
			name, err := sc.str()
			if err != nil {
				return rows, fmt.Errorf("bloque %d, columna %d: %w", block, i+1, unexpected(err))
			}
			typ, err := sc.str()
			if err != nil {
				return rows, fmt.Errorf("bloque %d, columna %s: %w", block, name, unexpected(err))
			}
			if name != want[i].Name || typ != want[i].Type {
				return rows, fmt.Errorf("bloque %d: columna %s %s, se esperaba %s %s", block, name, typ, want[i].Name, want[i].Type)
			}
			if err := sc.skip(typ, nrows); err != nil {
				return rows, fmt.Errorf("bloque %d, columna %s (%s): %w", block, name, typ, unexpected(err))
			}
		}
		rows += nrows
	}
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

type nativeScanner struct {
	r *bufio.Reader
}

func (s *nativeScanner) str() (string, error) {
	n, err := binary.ReadUvarint(s.r)
	if err != nil {
		return "", err
	}
	if n > 1<<20 {
		return "", fmt.Errorf("nombre de %d bytes: el flujo no es formato Native", n)
	}
	b := make([]byte, n)
	_, err = io.ReadFull(s.r, b)
	return string(b), err
}

func (s *nativeScanner) discard(n uint64) error {
	for n > 0 {
		step := n
		if step > 1<<30 {
			step = 1 << 30
		}
		if _, err := s.r.Discard(int(step)); err != nil {
			return err
		}
		n -= step
	}
	return nil
}

// skip passes over n values of type typ.
func (s *nativeScanner) skip(typ string, n uint64) error {
	if size, ok := fixedSize(typ); ok {
		return s.discard(size * n)
	}
	switch {
	case typ == "String":
		for i := uint64(0); i < n; i++ {
			l, err := binary.ReadUvarint(s.r)
			if err != nil {
				return err
			}
			if err := s.discard(l); err != nil {
				return err
			}
		}
		return nil
	case strings.HasPrefix(typ, "Nullable(") && strings.HasSuffix(typ, ")"):
		// The null map (one byte per value), then the values, NULLs included.
		if err := s.discard(n); err != nil {
			return err
		}
		return s.skip(typ[len("Nullable("):len(typ)-1], n)
	case strings.HasPrefix(typ, "Array(") && strings.HasSuffix(typ, ")"):
		// Cumulative offsets (UInt64); the last one is the number of nested
		// values that follow.
		var last uint64
		var buf [8]byte
		for i := uint64(0); i < n; i++ {
			if _, err := io.ReadFull(s.r, buf[:]); err != nil {
				return err
			}
			last = binary.LittleEndian.Uint64(buf[:])
		}
		return s.skip(typ[len("Array("):len(typ)-1], last)
	}
	return fmt.Errorf("tipo sin soporte en las copias de seguridad: %s", typ)
}

// fixedSize is the width in bytes of a fixed-width type.
func fixedSize(typ string) (uint64, bool) {
	switch typ {
	case "UInt8", "Int8", "Enum8":
		return 1, true
	case "UInt16", "Int16", "Date", "Enum16":
		return 2, true
	case "UInt32", "Int32", "Float32", "DateTime", "Date32", "IPv4":
		return 4, true
	case "UInt64", "Int64", "Float64":
		return 8, true
	case "UUID", "Int128", "UInt128", "IPv6":
		return 16, true
	}
	switch {
	case strings.HasPrefix(typ, "DateTime("): // DateTime('America/Bogota')
		return 4, true
	case strings.HasPrefix(typ, "Enum8("):
		return 1, true
	case strings.HasPrefix(typ, "Enum16("):
		return 2, true
	case strings.HasPrefix(typ, "FixedString("):
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(typ, "FixedString("), ")"), 10, 32)
		return n, err == nil
	case strings.HasPrefix(typ, "Decimal("):
		p, _, _ := strings.Cut(strings.TrimPrefix(typ, "Decimal("), ",")
		prec, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return 0, false
		}
		switch {
		case prec <= 9:
			return 4, true
		case prec <= 18:
			return 8, true
		case prec <= 38:
			return 16, true
		case prec <= 76:
			return 32, true
		}
	}
	return 0, false
}
