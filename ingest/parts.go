package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// rawRow is one row of a part, its cells aligned to the schema's fields.
// It is owned by the part and valid until the next call to next.
type rawRow struct {
	cells []string
	line  int // CSV physical line
	page  int // Socrata page
	index int // JSON index within the page or document
	pos   int // position remembered by the duplicate check
	blank bool
	issue *Issue // a structural problem: the row is rejected
}

// part is one file, document or page.
type part interface {
	next() (*rawRow, error) // io.EOF at the end
	raw() string            // raw text of the last row, capped
	info() *PartInfo
	scope() string // rows of parts with the same scope share the duplicate check
	close() error
}

// PartInfo describes one file, document or Socrata dataset as read.
type PartInfo struct {
	Name      string            // file path or URL
	Encoding  string            // encoding used
	Delimiter string            // CSV delimiter used
	Columns   []string          // source columns: the CSV header, or Socrata's X-SODA2-Fields
	Types     []string          // Socrata's X-SODA2-Types
	Mapped    map[string]string // source column -> field
	Ignored   []string          // source columns (or JSON keys) not used
	Absent    []string          // fields no column provides (and with no default)
	Rows      int64             // data rows, blank lines excluded
	Blank     int64             // blank lines skipped
	Rejects   int64             // rows rejected
	Bytes     int64             // bytes read (compressed size for .gz)
	Pages     int               // Socrata pages read
	Warnings  []Issue           // file-level findings (e.g. not UTF-8 as declared)
}

// --- CSV ---------------------------------------------------------------

type csvPart struct {
	name    string
	rt      *compiled
	counter *countingReader
	closer  io.Closer
	sc      *csvScanner
	colMap  []int // source column -> canonical index, -1 ignored
	header  []string
	nCols   int
	row     rawRow
	inf     *PartInfo
}

func openCSVPart(rt *compiled, name string, rc io.ReadCloser) (*csvPart, error) {
	p := &csvPart{name: name, rt: rt, closer: rc, counter: &countingReader{r: rc},
		inf: &PartInfo{Name: name}}
	fail := func(code, reason string, err error) (*csvPart, error) {
		_ = rc.Close()
		return nil, &SourceError{Source: rt.cfg.Name, File: name, Code: code, Reason: reason, Err: err}
	}
	br, enc, warn, err := textReader(p.counter, rt.encoding)
	if err != nil {
		return fail(CodeEncoding, "no se pudo leer el archivo", err)
	}
	p.inf.Encoding = enc
	if warn != nil {
		p.inf.Warnings = append(p.inf.Warnings, *warn)
	}
	if empty, err := onlySpace(br); err != nil {
		return fail(CodeEmptyFile, "no se pudo leer el archivo", err)
	} else if empty {
		return fail(CodeEmptyFile, "el archivo está vacío: no tiene encabezado ni filas", ErrEmptyFile)
	}
	delim := rt.delimiter
	if delim == 0 {
		delim = sniffDelimiter(firstLine(br, rt.cfg.SkipLines))
	}
	p.inf.Delimiter = string(delim)
	p.sc = newCSVScanner(br, delim)
	p.sc.lazy, p.sc.multiline, p.sc.maxRecord = rt.cfg.LazyQuotes, rt.cfg.Multiline, rt.maxRecord
	for i := 0; i < rt.cfg.SkipLines; i++ {
		if _, _, _, err := p.sc.readLine(); err != nil {
			return fail(CodeEmptyFile, fmt.Sprintf("el archivo termina antes de las %d líneas que se deben saltar", rt.cfg.SkipLines), err)
		}
	}
	p.row.cells = make([]string, len(rt.schema.Fields))
	if !rt.header {
		p.colMap = rt.columns
		p.nCols = len(rt.columns)
		if err := p.checkFields(rc); err != nil {
			return nil, err
		}
		return p, nil
	}
	rec, err := p.sc.scan()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fail(CodeEmptyFile, "el archivo no tiene encabezado", ErrEmptyFile)
		}
		return fail(CodeEmptyFile, "no se pudo leer el encabezado", err)
	}
	if rec.problem != probNone {
		return fail(CodeMissingColumn, fmt.Sprintf("el encabezado (línea %d) está mal formado", rec.start), nil)
	}
	p.header = append([]string(nil), rec.fields...)
	p.nCols = len(p.header)
	p.inf.Columns = p.header
	p.inf.Mapped = map[string]string{}
	used := map[int]string{}
	for _, h := range p.header {
		k := -1
		i, ok := rt.mapping[foldHeader(h)]
		if !ok && detectMojibake(h) == mojibakeRepairable {
			// a header damaged by double encoding ("AÃ±o") still matches
			if fixed, good := repairMojibake(h); good {
				i, ok = rt.mapping[foldHeader(fixed)]
			}
		}
		if ok && strings.TrimSpace(h) != "" {
			if prev, dup := used[i]; dup {
				return fail(CodeDuplicateColumn, fmt.Sprintf("las columnas «%s» y «%s» corresponden ambas al campo %s", prev, h, rt.schema.Fields[i].Name), nil)
			}
			used[i] = h
			k = i
			p.inf.Mapped[h] = rt.schema.Fields[i].Name
		} else if strings.TrimSpace(h) != "" {
			p.inf.Ignored = append(p.inf.Ignored, h)
		}
		p.colMap = append(p.colMap, k)
	}
	if err := p.checkFields(rc); err != nil {
		return nil, err
	}
	return p, nil
}

// checkFields fails when a required field has neither a column nor a
// default, and lists the optional fields that are absent.
func (p *csvPart) checkFields(rc io.Closer) error {
	have := make([]bool, len(p.rt.schema.Fields))
	for _, k := range p.colMap {
		if k >= 0 {
			have[k] = true
		}
	}
	var missing []string
	for i, f := range p.rt.schema.Fields {
		if have[i] || p.rt.defaults[i] != "" {
			continue
		}
		if f.Required {
			missing = append(missing, f.Name)
		} else {
			p.inf.Absent = append(p.inf.Absent, f.Name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if rc != nil {
		_ = rc.Close()
	}
	return &SourceError{Source: p.rt.cfg.Name, File: p.name, Code: CodeMissingColumn,
		Reason: fmt.Sprintf("faltan columnas obligatorias: %s (encabezado: %s); agréguelas al mapping o a defaults",
			strings.Join(missing, ", "), strings.Join(p.header, " | "))}
}

// onlySpace reports whether the text has nothing but white space.
func onlySpace(br *bufio.Reader) (bool, error) {
	for n := 512; ; n *= 2 {
		b, err := br.Peek(n)
		if len(bytes.TrimSpace(b)) > 0 {
			return false, nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return true, nil
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				return false, nil // a buffer full of spaces: let the scanner count blank lines
			}
			return false, err
		}
		if n >= sniffSize {
			return false, nil
		}
	}
}

// firstLine returns the first line after skip lines, from the buffer.
func firstLine(br *bufio.Reader, skip int) []byte {
	b, _ := br.Peek(sniffSize)
	for i := 0; i < skip; i++ {
		j := bytes.IndexByte(b, '\n')
		if j < 0 {
			return nil
		}
		b = b[j+1:]
	}
	if j := bytes.IndexByte(b, '\n'); j >= 0 {
		b = b[:j]
	}
	return b
}

func (p *csvPart) colName(j int) string {
	if j < len(p.colMap) && p.colMap[j] >= 0 {
		return p.rt.schema.Fields[p.colMap[j]].Name
	}
	if j < len(p.header) && strings.TrimSpace(p.header[j]) != "" {
		return p.header[j]
	}
	return fmt.Sprintf("(columna %d)", j+1)
}

func (p *csvPart) next() (*rawRow, error) {
	rec, err := p.sc.scan()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			err = &SourceError{Source: p.rt.cfg.Name, File: p.name, Code: CodeTruncated,
				Reason: fmt.Sprintf("error de lectura después de la línea %d", p.sc.line), Err: err}
		}
		return nil, err
	}
	r := &p.row
	r.line, r.pos, r.blank, r.issue = rec.start, rec.start, false, nil
	clear(r.cells)
	set := func(is Issue) (*rawRow, error) {
		r.issue = &is
		return r, nil
	}
	switch rec.problem {
	case probTooLarge:
		return set(issue("(registro)", capText(p.sc.rawText(), rawCap), CodeRecordTooLarge,
			"el registro mide %d bytes; el máximo es %d (max_record_bytes)", rec.size, p.sc.maxRecord))
	}
	if isBlank(rec.fields) {
		r.blank = true
		return r, nil
	}
	switch rec.problem {
	case probQuoteStray:
		return set(issue(p.colName(rec.field), fieldAt(rec.fields, rec.field), CodeQuoteStray,
			"comilla suelta dentro de un campo entre comillas (use comillas dobles \"\" o lazy_quotes)"))
	case probQuoteUnterminated:
		reason := "comilla sin cerrar: el campo entre comillas no termina en esta línea"
		if rec.noEOL {
			reason = "comilla sin cerrar al final del archivo: ¿archivo truncado?"
		}
		return set(issue(p.colName(rec.field), fieldAt(rec.fields, rec.field), CodeQuoteUnterm, "%s", reason))
	}
	n := len(rec.fields)
	switch {
	case n < p.nCols && rec.noEOL:
		return set(issue(p.colName(n), "", CodeTruncated,
			"la última línea está incompleta (%d de %d columnas) y no termina en salto de línea: ¿archivo truncado?", n, p.nCols))
	case n < p.nCols:
		return set(issue(p.colName(n), "", CodeColumnsMissing,
			"la fila tiene %d columnas y el encabezado %d: falta «%s» y las siguientes", n, p.nCols, p.colName(n)))
	case n > p.nCols && !isBlank(rec.fields[p.nCols:]):
		return set(issue(p.colName(p.nCols), rec.fields[p.nCols], CodeColumnsExtra,
			"la fila tiene %d columnas y el encabezado %d: ¿un «%s» sin comillas dentro de un campo?", n, p.nCols, delimName(p.sc.comma)))
	}
	for j, v := range rec.fields[:min(n, p.nCols)] {
		if k := p.colMap[j]; k >= 0 {
			r.cells[k] = v
		}
	}
	return r, nil
}

func fieldAt(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return ""
}

func delimName(c byte) string {
	if c == '\t' {
		return "tabulador"
	}
	return string(c)
}

func isBlank(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func (p *csvPart) raw() string     { return p.sc.rawText() }
func (p *csvPart) info() *PartInfo { p.inf.Bytes = p.counter.n; return p.inf }
func (p *csvPart) scope() string   { return p.name }
func (p *csvPart) close() error    { return p.closer.Close() }

// --- JSON --------------------------------------------------------------

// jsonPart reads an array of objects, or newline-delimited objects, one
// object at a time.
type jsonPart struct {
	name     string
	rt       *compiled
	closer   io.Closer
	counter  *countingReader
	dec      *json.Decoder
	array    bool
	page     int
	base     int // rows before this page (Socrata), for positions
	keys     map[string]int
	obj      map[string]json.RawMessage
	last     json.RawMessage
	index    int
	row      rawRow
	inf      *PartInfo
	scp      string
	ignored  map[string]bool
	watch    string // key whose largest string value is kept (Socrata :updated_at)
	watchMax string
}

func openJSONPart(rt *compiled, name string, rc io.ReadCloser, inf *PartInfo) (*jsonPart, error) {
	p := &jsonPart{name: name, rt: rt, closer: rc, counter: &countingReader{r: rc}, inf: inf, scp: name,
		keys: map[string]int{}, obj: map[string]json.RawMessage{}}
	if p.inf == nil {
		p.inf = &PartInfo{Name: name}
	}
	fail := func(code, reason string, err error) (*jsonPart, error) {
		_ = rc.Close()
		return nil, &SourceError{Source: rt.cfg.Name, File: name, Code: code, Reason: reason, Err: err}
	}
	br, enc, warn, err := textReader(p.counter, rt.encoding)
	if err != nil {
		return fail(CodeEncoding, "no se pudo leer el documento", err)
	}
	p.inf.Encoding = enc
	if warn != nil {
		p.inf.Warnings = append(p.inf.Warnings, *warn)
	}
	first := byte(0)
	for {
		c, err := br.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fail(CodeEmptyFile, "el documento JSON está vacío", ErrEmptyFile)
			}
			return fail(CodeMalformedJSON, "no se pudo leer el documento", err)
		}
		if !isSpaceByte(c) {
			first = c
			_ = br.UnreadByte()
			break
		}
	}
	switch first {
	case '[':
		p.array = true
	case '{':
	default:
		return fail(CodeMalformedJSON, "el documento no es un arreglo JSON de objetos ni objetos JSON por línea", nil)
	}
	p.dec = json.NewDecoder(br)
	p.dec.UseNumber()
	if p.array {
		if _, err := p.dec.Token(); err != nil {
			return fail(CodeMalformedJSON, "JSON mal formado", err)
		}
	}
	p.row.cells = make([]string, len(rt.schema.Fields))
	return p, nil
}

func (p *jsonPart) keyIndex(k string) int {
	if i, ok := p.keys[k]; ok {
		return i
	}
	i, ok := p.rt.mapping[foldHeader(k)]
	if !ok {
		i = -1
		if len(p.inf.Ignored) < 200 && !contains(p.inf.Ignored, k) {
			p.inf.Ignored = append(p.inf.Ignored, k)
			sort.Strings(p.inf.Ignored)
		}
	} else {
		if p.inf.Mapped == nil {
			p.inf.Mapped = map[string]string{}
		}
		p.inf.Mapped[k] = p.rt.schema.Fields[i].Name
	}
	if len(p.keys) < 10000 {
		p.keys[k] = i
	}
	return i
}

func (p *jsonPart) next() (*rawRow, error) {
	if p.array && !p.dec.More() {
		if _, err := p.dec.Token(); err != nil {
			return nil, p.malformed(err)
		}
		return nil, io.EOF
	}
	p.last = p.last[:0]
	if err := p.dec.Decode(&p.last); err != nil {
		if errors.Is(err, io.EOF) && !p.array {
			return nil, io.EOF
		}
		return nil, p.malformed(err)
	}
	p.index++
	r := &p.row
	r.page, r.index, r.pos, r.issue, r.blank = p.page, p.index, p.base+p.index, nil, false
	clear(r.cells)
	if len(p.last) == 0 || p.last[0] != '{' {
		is := issue("", capText(string(p.last), rawCap), CodeJSONElement, "el elemento %d no es un objeto JSON", p.index)
		r.issue = &is
		return r, nil
	}
	clear(p.obj)
	if err := json.Unmarshal(p.last, &p.obj); err != nil {
		return nil, p.malformed(err)
	}
	if p.watch != "" {
		if v, ok := p.obj[p.watch]; ok {
			if w := p.scalar(v, TypeText); w > p.watchMax {
				p.watchMax = w
			}
		}
	}
	for k, v := range p.obj {
		i := p.keyIndex(k)
		if i < 0 {
			continue
		}
		r.cells[i] = p.scalar(v, p.rt.schema.Fields[i].Type)
	}
	return r, nil
}

// scalar turns a JSON value into cell text: strings as they are, null as
// empty, numbers and booleans as written (numbers with the source's
// decimal separator, since the cell is then parsed like CSV text),
// objects and arrays as compact JSON, except a Socrata url object
// {"url": ...} for URL fields.
func (p *jsonPart) scalar(v json.RawMessage, t FieldType) string {
	if len(v) == 0 {
		return ""
	}
	switch v[0] {
	case '"':
		if bytes.IndexByte(v, '\\') < 0 {
			return string(v[1 : len(v)-1])
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		return string(v)
	case 'n':
		return ""
	case 't', 'f':
		return string(v)
	case '{', '[':
		if t == TypeURL && v[0] == '{' {
			var u struct {
				URL string `json:"url"`
			}
			if json.Unmarshal(v, &u) == nil && u.URL != "" {
				return u.URL
			}
		}
		var b bytes.Buffer
		if json.Compact(&b, v) == nil {
			return b.String()
		}
		return string(v)
	}
	s := string(v)
	if d := p.rt.numbers.Decimal; d != 0 && d != '.' && (t == TypeDecimal || t == TypeInteger) {
		s = strings.Replace(s, ".", string(d), 1)
	}
	return s
}

func (p *jsonPart) malformed(err error) error {
	where := fmt.Sprintf("después del registro %d", p.index)
	if p.page > 0 {
		where = fmt.Sprintf("página %d, después del registro %d", p.page, p.index)
	}
	return &SourceError{Source: p.rt.cfg.Name, File: p.name, Code: CodeMalformedJSON,
		Reason: "JSON mal formado o cortado " + where, Err: err}
}

func (p *jsonPart) raw() string     { return capText(string(p.last), rawRecordCap) }
func (p *jsonPart) info() *PartInfo { p.inf.Bytes += p.counter.n; p.counter.n = 0; return p.inf }
func (p *jsonPart) scope() string   { return p.scp }
func (p *jsonPart) close() error    { return p.closer.Close() }
