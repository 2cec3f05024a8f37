package datasets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/observatorio-civico/observatorio/internal/jsontext"
)

// Formats a dataset is offered in. CSV and Excel CSV are written by the
// observatory from the engine's TabSeparated output (so that NULL is an
// empty field, not ClickHouse's \N, and so that the Excel profile can use
// decimal commas); Parquet is the engine's own output.
const (
	FormatCSV     = "csv"
	FormatExcel   = "excel"
	FormatJSON    = "json"
	FormatParquet = "parquet"
)

// FileName is the name of a dataset's file in a format.
func FileName(id, format string) string {
	switch format {
	case FormatExcel:
		return id + ".excel.csv"
	case FormatJSON:
		return id + ".json"
	case FormatParquet:
		return id + ".parquet"
	}
	return id + ".csv"
}

// MediaType is the HTTP content type of a format.
func MediaType(format string) string {
	switch format {
	case FormatExcel, FormatCSV:
		return "text/csv; charset=utf-8"
	case FormatJSON:
		return "application/json; charset=utf-8"
	case FormatParquet:
		return "application/vnd.apache.parquet"
	}
	return "application/octet-stream"
}

// rowWriter writes decoded rows in one output format.
type rowWriter interface {
	header(cols []Column) error
	// row gets the raw TabSeparated fields of one row (still escaped).
	row(fields [][]byte) error
	close() error
}

// tsvSink is an io.Writer that takes the engine's TabSeparated output in
// arbitrary pieces, splits it into rows and hands each row to the writers.
// Memory is one partial line, whatever the size of the result.
type tsvSink struct {
	cols    []Column
	writers []rowWriter
	carry   []byte
	fields  [][]byte
	rows    int64
	started bool
}

func newTSVSink(cols []Column, writers ...rowWriter) *tsvSink {
	return &tsvSink{cols: cols, writers: writers, fields: make([][]byte, 0, len(cols))}
}

func (s *tsvSink) start() error {
	if s.started {
		return nil
	}
	s.started = true
	for _, w := range s.writers {
		if err := w.header(s.cols); err != nil {
			return err
		}
	}
	return nil
}

func (s *tsvSink) Write(p []byte) (int, error) {
	if err := s.start(); err != nil {
		return 0, err
	}
	n := len(p)
	if len(s.carry) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.carry = append(s.carry, p...)
			return n, nil
		}
		s.carry = append(s.carry, p[:i]...)
		if err := s.line(s.carry); err != nil {
			return 0, err
		}
		s.carry = s.carry[:0]
		p = p[i+1:]
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.carry = append(s.carry, p...)
			break
		}
		if err := s.line(p[:i]); err != nil {
			return 0, err
		}
		p = p[i+1:]
	}
	return n, nil
}

func (s *tsvSink) line(l []byte) error {
	s.fields = s.fields[:0]
	for {
		i := bytes.IndexByte(l, '\t')
		if i < 0 {
			s.fields = append(s.fields, l)
			break
		}
		s.fields = append(s.fields, l[:i])
		l = l[i+1:]
	}
	if len(s.fields) != len(s.cols) {
		return fmt.Errorf("fila %d: %d campos para %d columnas", s.rows+1, len(s.fields), len(s.cols))
	}
	s.rows++
	for _, w := range s.writers {
		if err := w.row(s.fields); err != nil {
			return err
		}
	}
	return nil
}

// Close flushes the writers; a partial last line is an error (a truncated
// stream).
func (s *tsvSink) Close() error {
	if err := s.start(); err != nil {
		return err
	}
	if len(s.carry) > 0 {
		return errors.New("la salida del motor terminó a mitad de una fila")
	}
	var first error
	for _, w := range s.writers {
		if err := w.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

var nullField = []byte(`\N`)

// unescapeTSV undoes ClickHouse's TabSeparated escaping into dst.
func unescapeTSV(dst, s []byte) []byte {
	if bytes.IndexByte(s, '\\') < 0 {
		return append(dst, s...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			dst = append(dst, c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case '0':
			dst = append(dst, 0)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		default:
			dst = append(dst, s[i])
		}
	}
	return dst
}

// csvWriter writes RFC 4180 CSV (CRLF line ends, fields quoted only when
// they need it) or, with excel set, the profile for spreadsheets in Spanish
// locales: UTF-8 with BOM, ';' between fields, decimal comma in numeric
// columns, and text that a spreadsheet would run as a formula neutralized.
type csvWriter struct {
	w     io.Writer
	excel bool
	kinds []typeKind
	nulls []bool
	buf   []byte
	tmp   []byte
}

func newCSVWriter(w io.Writer, excel bool) *csvWriter {
	return &csvWriter{w: w, excel: excel, buf: make([]byte, 0, 64<<10)}
}

func (c *csvWriter) sep() byte {
	if c.excel {
		return ';'
	}
	return ','
}

func (c *csvWriter) header(cols []Column) error {
	c.kinds = make([]typeKind, len(cols))
	c.nulls = make([]bool, len(cols))
	if c.excel {
		c.buf = append(c.buf, 0xEF, 0xBB, 0xBF)
	}
	for i, col := range cols {
		c.kinds[i] = kindOf(col.Type)
		c.nulls[i] = nullable(col.Type)
		if i > 0 {
			c.buf = append(c.buf, c.sep())
		}
		c.buf = c.appendText(c.buf, []byte(col.Name), false)
	}
	c.buf = append(c.buf, '\r', '\n')
	return nil
}

// formulaStart reports whether a spreadsheet would take text starting with
// b as a formula (or as a command: tab and carriage return are the OWASP
// list's other two).
func formulaStart(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	switch b[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// appendText appends a text field, quoted when needed. In the Excel
// profile, text that would run as a formula gets a leading apostrophe and
// is quoted (OWASP's CSV injection advice): it shows as text and never
// runs.
func (c *csvWriter) appendText(dst, s []byte, neutralize bool) []byte {
	sep := c.sep()
	quote := false
	if neutralize && formulaStart(s) {
		quote = true
		dst = append(dst, '"', '\'')
	} else {
		for _, ch := range s {
			if ch == sep || ch == '"' || ch == '\n' || ch == '\r' {
				quote = true
				break
			}
		}
		if quote {
			dst = append(dst, '"')
		}
	}
	if !quote {
		return append(dst, s...)
	}
	for _, ch := range s {
		if ch == '"' {
			dst = append(dst, '"', '"')
		} else {
			dst = append(dst, ch)
		}
	}
	return append(dst, '"')
}

func (c *csvWriter) row(fields [][]byte) error {
	sep := c.sep()
	for i, f := range fields {
		if i > 0 {
			c.buf = append(c.buf, sep)
		}
		if c.nulls[i] && bytes.Equal(f, nullField) {
			continue // NULL: empty field
		}
		switch c.kinds[i] {
		case kindText:
			if c.plain(f) { // most fields: copy as they are
				c.buf = append(c.buf, f...)
				continue
			}
			c.tmp = unescapeTSV(c.tmp[:0], f)
			c.buf = c.appendText(c.buf, c.tmp, c.excel)
		case kindDecimal:
			if c.excel {
				for _, ch := range f {
					if ch == '.' {
						ch = ','
					}
					c.buf = append(c.buf, ch)
				}
			} else {
				c.buf = append(c.buf, f...)
			}
		default: // integers, dates and date-times need no escaping
			c.buf = append(c.buf, f...)
		}
	}
	c.buf = append(c.buf, '\r', '\n')
	if len(c.buf) >= 60<<10 {
		return c.flush()
	}
	return nil
}

// plain reports whether a raw TabSeparated text field needs neither
// unescaping nor quoting nor neutralizing.
func (c *csvWriter) plain(f []byte) bool {
	if c.excel && formulaStart(f) {
		return false
	}
	sep := c.sep()
	for _, ch := range f {
		if ch == '\\' || ch == sep || ch == '"' || ch == '\n' || ch == '\r' {
			return false
		}
	}
	return true
}

func (c *csvWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.w.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}

func (c *csvWriter) close() error { return c.flush() }

// jsonWriter writes a JSON array of objects, one per line: numbers as JSON
// numbers (decimals exactly as the engine prints them), NULL as null,
// dates and text as strings.
type jsonWriter struct {
	w     io.Writer
	names [][]byte
	kinds []typeKind
	nulls []bool
	buf   []byte
	tmp   []byte
	n     int64
	// wrap writes the surrounding [ ]; off for the API, which embeds rows.
	wrap bool
}

func newJSONWriter(w io.Writer, wrap bool) *jsonWriter {
	return &jsonWriter{w: w, wrap: wrap, buf: make([]byte, 0, 64<<10)}
}

func (j *jsonWriter) header(cols []Column) error {
	j.names = make([][]byte, len(cols))
	j.kinds = make([]typeKind, len(cols))
	j.nulls = make([]bool, len(cols))
	for i, c := range cols {
		j.names[i] = jsontext.AppendString(nil, c.Name)
		j.kinds[i] = kindOf(c.Type)
		j.nulls[i] = nullable(c.Type)
	}
	if j.wrap {
		j.buf = append(j.buf, '[')
	}
	return nil
}

func (j *jsonWriter) row(fields [][]byte) error {
	if j.n > 0 {
		j.buf = append(j.buf, ',')
	}
	j.buf = append(j.buf, '\n', '{')
	j.n++
	for i, f := range fields {
		if i > 0 {
			j.buf = append(j.buf, ',')
		}
		j.buf = append(j.buf, j.names[i]...)
		j.buf = append(j.buf, ':')
		switch {
		case j.nulls[i] && bytes.Equal(f, nullField):
			j.buf = append(j.buf, "null"...)
		case j.kinds[i] == kindInt || j.kinds[i] == kindDecimal:
			if isJSONNumber(f) {
				j.buf = append(j.buf, f...)
			} else { // nan, inf: not JSON numbers
				j.buf = jsontext.AppendString(j.buf, f)
			}
		default:
			j.tmp = unescapeTSV(j.tmp[:0], f)
			j.buf = jsontext.AppendString(j.buf, j.tmp)
		}
	}
	j.buf = append(j.buf, '}')
	if len(j.buf) >= 60<<10 {
		return j.flush()
	}
	return nil
}

func (j *jsonWriter) flush() error {
	if len(j.buf) == 0 {
		return nil
	}
	_, err := j.w.Write(j.buf)
	j.buf = j.buf[:0]
	return err
}

func (j *jsonWriter) close() error {
	if j.wrap {
		j.buf = append(j.buf, '\n', ']', '\n')
	}
	return j.flush()
}

func isJSONNumber(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	_, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return false
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == 'e' || c == 'E' || c == '+') {
			return false
		}
	}
	return true
}
