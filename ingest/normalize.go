package ingest

import (
	"encoding/csv"
	"fmt"
	"hash/maphash"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/reference"
)

// compiled is a SourceConfig compiled for one stream.
type compiled struct {
	cfg       SourceConfig
	schema    *Schema
	encoding  string
	delimiter byte // 0 = sniff
	header    bool
	columns   []int          // header-less: canonical index per column (-1 = ignored)
	mapping   map[string]int // folded source column name -> canonical index
	defaults  []string       // per canonical field, "" = none
	values    []map[string]string
	numbers   NumberFormat
	dates     *dateParser
	loc       *time.Location
	mojibake  string
	dedupe    bool
	maxKeys   int
	maxField  int
	maxRecord int
	divipola  bool

	idIdx, dvIdx, unitIdx, valueIdx int
}

func compileConfig(cfg SourceConfig) (*compiled, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	schema, _ := SchemaFor(cfg.Record)
	rt := &compiled{cfg: cfg, schema: schema, header: cfg.Header == nil || *cfg.Header,
		mojibake: cfg.Mojibake, dedupe: cfg.Duplicates != "off", maxKeys: cfg.MaxTrackedKeys,
		maxField: cfg.MaxFieldBytes, maxRecord: cfg.MaxRecordBytes,
		divipola: cfg.CheckDIVIPOLA == nil || *cfg.CheckDIVIPOLA}
	rt.encoding, _ = encodingByName(cfg.Encoding)
	rt.delimiter, _ = delimiterByName(cfg.Delimiter)
	rt.numbers, _ = cfg.Numbers.format()
	if rt.mojibake == "" {
		rt.mojibake = "warn"
	}
	if rt.maxKeys == 0 {
		rt.maxKeys = 2_000_000
	}
	if rt.maxField == 0 {
		rt.maxField = 64 << 10
	}
	if rt.maxRecord == 0 {
		rt.maxRecord = 1 << 20
	}
	if rt.maxRecord < rt.maxField {
		rt.maxRecord = rt.maxField
	}
	var err error
	if rt.loc, err = loadLocation(cfg.Dates.Timezone); err != nil {
		return nil, err
	}
	if rt.dates, err = newDateParser(cfg.Dates.Formats, rt.loc); err != nil {
		return nil, err
	}
	n := len(schema.Fields)
	rt.mapping = map[string]int{}
	for _, f := range schema.Fields {
		rt.mapping[foldHeader(f.Name)] = schema.index[f.Name]
	}
	for src, dst := range cfg.Mapping {
		rt.mapping[foldHeader(src)] = schema.index[dst]
	}
	for _, c := range cfg.Columns {
		i, ok := schema.index[c]
		if !ok {
			i = -1
		}
		rt.columns = append(rt.columns, i)
	}
	rt.defaults = make([]string, n)
	for f, v := range cfg.Defaults {
		rt.defaults[schema.index[f]] = v
	}
	rt.values = make([]map[string]string, n)
	for f, m := range cfg.Values {
		mm := map[string]string{}
		for k, v := range m {
			mm[foldValue(k)] = v
		}
		rt.values[schema.index[f]] = mm
	}
	idx := func(name string) int {
		if i, ok := schema.index[name]; ok {
			return i
		}
		return -1
	}
	rt.idIdx, rt.dvIdx, rt.unitIdx, rt.valueIdx = idx("taxpayer_id"), idx("taxpayer_id_dv"), -1, -1
	if schema.Kind == KindGEL {
		rt.unitIdx, rt.valueIdx = idx("unit"), idx("value")
	}
	return rt, nil
}

// normalizer turns the cells of a row (aligned to the schema) into the
// canonical text gocsv decodes, or into issues.
type normalizer struct {
	rt        *compiled
	enumCache []map[string]string // per field: raw value -> canonical, bounded
	dateCache map[string]string   // raw date -> 2006-01-02, bounded
	nums      numberParser
	keys      *keySet
	keyBuf    []byte
	warnings  map[string]int64
	idDV      string // check digit split off the row's taxpayer id
}

func newNormalizer(rt *compiled) *normalizer {
	return &normalizer{rt: rt, nums: numberParser{f: rt.numbers}, warnings: map[string]int64{},
		enumCache: make([]map[string]string, len(rt.schema.Fields)), dateCache: map[string]string{}}
}

// row normalizes cells into out. pos is the position remembered for the
// duplicate check (line, or row number for JSON). It returns the problems
// (the row is rejected if there is any) and the warnings.
func (n *normalizer) row(cells, out []string, pos int) (errs, warns []Issue) {
	rt := n.rt
	n.idDV = ""
	for i := range rt.schema.Fields {
		f := &rt.schema.Fields[i]
		raw := cells[i]
		v := trimSpaceNB(raw)
		if v == "" && rt.defaults[i] != "" {
			v = rt.defaults[i]
		}
		out[i] = ""
		if v == "" {
			if f.Required {
				errs = append(errs, issue(f.Name, raw, CodeRequired, "falta el valor; el campo es obligatorio"))
			}
			continue
		}
		if len(v) > rt.maxField {
			errs = append(errs, issue(f.Name, v, CodeFieldTooLarge, "el campo mide %d bytes; el máximo es %d", len(v), rt.maxField))
			continue
		}
		if !utf8.ValidString(v) {
			errs = append(errs, issue(f.Name, strconv.Quote(capText(v, 60)), CodeEncoding,
				"el texto no es UTF-8 válido; ¿el archivo está en Latin-1 o Windows-1252? (configure encoding en la fuente)"))
			continue
		}
		val, is := n.field(f, i, v)
		if is != nil {
			if !n.isWarning(is.Code) {
				errs = append(errs, *is)
				continue
			}
			warns = append(warns, *is)
			n.warnings[is.Code]++
		}
		out[i] = val
	}
	if len(errs) == 0 {
		if is := n.checkDigit(out); is != nil {
			errs = append(errs, *is)
		}
		errs = n.crossChecks(out, errs)
	}
	if len(errs) == 0 && rt.dedupe && len(rt.schema.keyIndex) > 0 {
		if is := n.duplicate(out, pos); is != nil {
			errs = append(errs, *is)
		}
	}
	return errs, warns
}

// isWarning tells the codes that leave a usable value from the rejects.
func (n *normalizer) isWarning(code string) bool {
	switch code {
	case CodePadded, CodeMojibakeRepaired, CodeIrreversible:
		return true
	case CodeMojibake:
		return n.rt.mojibake != "reject"
	}
	return false
}

// field normalizes one non-empty, trimmed, valid UTF-8 value. A returned
// Issue with a warning code (code_padded, mojibake*) goes with a usable
// value.
func (n *normalizer) field(f *Field, i int, v string) (string, *Issue) {
	rt := n.rt
	bad := func(code, format string, a ...any) (string, *Issue) {
		is := issue(f.Name, v, code, format, a...)
		return "", &is
	}
	switch f.Type {
	case TypeText, TypeCode, TypeEmail, TypePhone:
		if strings.IndexByte(v, 0) >= 0 {
			return bad(CodeText, "el texto contiene caracteres nulos (¿archivo binario o dañado?)")
		}
		return n.mojibake(f, v)
	case TypeEnum:
		if c, ok := n.enumCache[i][v]; ok {
			return c, nil
		}
		k := foldValue(v)
		c, ok := rt.values[i][k]
		if !ok {
			c, ok = f.synonyms[k]
		}
		if ok {
			if n.enumCache[i] == nil {
				n.enumCache[i] = map[string]string{}
			}
			if len(n.enumCache[i]) < 256 {
				n.enumCache[i][v] = c
			}
			return c, nil
		}
		return bad(CodeNotAllowed, "«%s» no es un valor permitido; se espera uno de: %s", capText(v, 60), strings.Join(f.Allowed, ", "))
	case TypeMunicipality, TypeEntityCode:
		code, padded, ok := normDigits(v, 5)
		if !ok {
			return bad(CodeMunicipality, "«%s» no es un código DIVIPOLA: se esperan 5 dígitos (p. ej. 05001)", capText(v, 60))
		}
		if f.MustExist && rt.divipola && !divipolaKnown(code) {
			return bad(CodeMunicipalityUnk, "el código %s no está en la DIVIPOLA del DANE", code)
		}
		if padded {
			is := issue(f.Name, v, CodePadded, "código de 4 dígitos completado con un cero a la izquierda: %s → %s", v, code)
			return code, &is
		}
		return code, nil
	case TypeDepartment:
		code, padded, ok := normDigits(v, 2)
		if !ok {
			return bad(CodeDepartment, "«%s» no es un código de departamento: se esperan 2 dígitos (p. ej. 05)", capText(v, 60))
		}
		if padded {
			is := issue(f.Name, v, CodePadded, "código de 1 dígito completado con un cero a la izquierda: %s → %s", v, code)
			return code, &is
		}
		return code, nil
	case TypeCIIU:
		code, padded, ok := normDigits(v, 4)
		if !ok {
			return bad(CodeCIIU, "«%s» no es un código CIIU: se esperan 4 dígitos (p. ej. 4711)", capText(v, 60))
		}
		if padded {
			is := issue(f.Name, v, CodePadded, "código CIIU de 3 dígitos completado con un cero a la izquierda: %s → %s", v, code)
			return code, &is
		}
		return code, nil
	case TypeTaxpayerID:
		id, dv, ok := normTaxpayerID(v)
		n.idDV = dv
		if !ok {
			return bad(CodeTaxpayerID, "«%s» no es un número de identificación: se esperan de 3 a 20 dígitos o letras (sin contar puntos, guiones ni espacios)", capText(v, 60))
		}
		return id, nil
	case TypeCheckDigit:
		if len(v) != 1 || v[0] < '0' || v[0] > '9' {
			return bad(CodeCheckDigit, "«%s» no es un dígito de verificación (un dígito de 0 a 9)", capText(v, 60))
		}
		return v, nil
	case TypeInteger:
		c, code := n.nums.parse(v)
		if code != "" {
			return n.numberIssue(f, v, code)
		}
		iv, ok := integral(c)
		if !ok {
			return bad(CodeInteger, "«%s» no es un número entero", capText(v, 60))
		}
		if (f.min != nil && iv < f.min.IntPart()) || (f.max != nil && iv > f.max.IntPart()) {
			return bad(CodeRange, "%d está fuera del rango permitido (%s a %s)", iv, f.Min, f.Max)
		}
		if c == v && (len(v) == 1 || v[0] != '0') {
			return v, nil // already canonical: no allocation
		}
		return strconv.FormatInt(iv, 10), nil
	case TypeDecimal:
		c, code := n.nums.parse(v)
		if code != "" {
			return n.numberIssue(f, v, code)
		}
		if f.min != nil || f.max != nil {
			if !inRange(c, f) {
				lo, hi := f.Min, f.Max
				if lo == "" {
					lo = "−∞"
				}
				if hi == "" {
					hi = "∞"
				}
				return bad(CodeRange, "%s está fuera del rango permitido (%s a %s)", c, lo, hi)
			}
		}
		return c, nil
	case TypeDate:
		if c, ok := n.dateCache[v]; ok {
			return c, nil
		}
		p, ok := rt.dates.parse(v)
		if !ok {
			return bad(CodeDate, "«%s» no es una fecha válida en los formatos %s", capText(v, 60), rt.dates.names)
		}
		c := isoDate(p.y, p.mo, p.d)
		if len(n.dateCache) < 4096 { // exports repeat a few hundred dates
			n.dateCache[v] = c
		}
		return c, nil
	case TypeDateTime:
		p, ok := rt.dates.parse(v)
		if !ok {
			return bad(CodeDateTime, "«%s» no es una fecha y hora válida en los formatos %s", capText(v, 60), rt.dates.names)
		}
		return p.time(rt.loc).Format(time.RFC3339Nano), nil
	case TypeBool:
		switch foldValue(v) {
		case "true", "verdadero", "si", "s", "1", "x", "yes", "y":
			return "true", nil
		case "false", "falso", "no", "n", "0":
			return "false", nil
		}
		return bad(CodeBool, "«%s» no es un valor sí/no", capText(v, 60))
	case TypeURL:
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad(CodeURL, "«%s» no es una dirección web válida (http o https)", capText(v, 60))
		}
		return v, nil
	}
	return bad(CodeDecode, "tipo de campo desconocido %q", f.Type)
}

func (n *normalizer) numberIssue(f *Field, v, code string) (string, *Issue) {
	var is Issue
	if code == CodeNumberAmbiguous {
		is = issue(f.Name, v, code, "no se sabe si el separador de «%s» es de miles o decimal; indique numbers.decimal en la fuente", capText(v, 60))
	} else {
		is = issue(f.Name, v, code, "«%s» no es un número válido (%s)", capText(v, 60), describeNumbers(n.nums.f))
	}
	return "", &is
}

func describeNumbers(f NumberFormat) string {
	if f.Decimal == 0 {
		return "separadores detectados automáticamente"
	}
	th := "sin separador de miles"
	if f.Thousands != 0 {
		th = fmt.Sprintf("miles «%c»", f.Thousands)
	}
	return fmt.Sprintf("decimal «%c», %s", f.Decimal, th)
}

// mojibake applies the source's policy to text damaged by a double
// encoding.
func (n *normalizer) mojibake(f *Field, v string) (string, *Issue) {
	switch detectMojibake(v) {
	case mojibakeNone:
		return v, nil
	case mojibakeRepairable:
		if n.rt.mojibake == "repair" {
			fixed, _ := repairMojibake(v)
			is := issue(f.Name, v, CodeMojibakeRepaired, "texto reparado de una doble codificación: «%s» → «%s»", capText(v, 60), capText(fixed, 60))
			return fixed, &is
		}
		is := issue(f.Name, v, CodeMojibake, "el texto parece dañado por una doble codificación (UTF-8 leído como Latin-1): «%s»", capText(v, 60))
		return v, &is
	default:
		is := issue(f.Name, v, CodeIrreversible, "el texto tiene caracteres perdidos por una doble codificación que no se pueden recuperar: «%s»", capText(v, 60))
		if n.rt.mojibake == "reject" {
			is.Code = CodeMojibake
		}
		return v, &is
	}
}

// crossChecks are the rules between fields of a row.
func (n *normalizer) crossChecks(out []string, errs []Issue) []Issue {
	rt := n.rt
	if rt.unitIdx >= 0 {
		if out[rt.unitIdx] == "" {
			out[rt.unitIdx] = "percent"
		}
		if out[rt.unitIdx] == "percent" && out[rt.valueIdx] != "" {
			d, err := decimal.NewFromString(out[rt.valueIdx])
			if err == nil && d.GreaterThan(decimal.NewFromInt(100)) {
				errs = append(errs, issue("value", out[rt.valueIdx], CodeRange, "un porcentaje no puede pasar de 100 (use unit: score para puntajes)"))
			}
		}
	}
	return errs
}

// checkDigit reconciles the check digit written with the taxpayer id
// ("900.123.456-8") with the check-digit column, and verifies it.
func (n *normalizer) checkDigit(out []string) *Issue {
	rt := n.rt
	if rt.idIdx < 0 || rt.dvIdx < 0 || out[rt.idIdx] == "" {
		return nil
	}
	id, dv := out[rt.idIdx], n.idDV
	col := out[rt.dvIdx]
	switch {
	case dv != "" && col != "" && dv != col:
		is := issue("taxpayer_id_dv", col, CodeCheckDigit, "el dígito de verificación de la columna (%s) no coincide con el escrito en la identificación (%s)", col, dv)
		return &is
	case dv == "":
		dv = col
	}
	if dv != "" && allDigits(id) {
		if want := nitCheckDigit(id); strconv.Itoa(want) != dv {
			is := issue("taxpayer_id_dv", dv, CodeCheckDigit, "el dígito de verificación %s no corresponde al NIT %s (el correcto es %d)", dv, id, want)
			return &is
		}
	}
	out[rt.dvIdx] = dv
	return nil
}

// isoDate formats 2006-01-02 without fmt (hot path).
func isoDate(y, m, d int) string {
	b := [10]byte{byte('0' + y/1000%10), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + m/10), byte('0' + m%10), '-', byte('0' + d/10), byte('0' + d%10)}
	return string(b[:])
}

// normTaxpayerID normalizes a cédula or NIT: upper case, without dots,
// commas, spaces or dashes, leading zeros of numeric ids dropped, and a
// check digit written after a final dash ("900.123.456-7") split off.
func normTaxpayerID(v string) (id, dv string, ok bool) {
	s := strings.ToUpper(trimSpaceNB(v))
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		tail := strings.TrimSpace(s[i+1:])
		head := strings.TrimSpace(s[:i])
		if len(tail) == 1 && tail[0] >= '0' && tail[0] <= '9' && len(head) > 1 {
			dv, s = tail, head
		}
	}
	id = s
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			id = ""
			break
		}
	}
	if id == "" { // separators or letters: rebuild
		b := make([]byte, 0, len(s))
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '.' || c == ',' || c == ' ' || c == '-':
			case (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'):
				b = append(b, c)
			default:
				return "", "", false
			}
		}
		id = string(b)
	}
	if allDigits(id) {
		id = strings.TrimLeft(id, "0")
	}
	if len(id) < 3 || len(id) > 20 {
		return "", "", false
	}
	return id, dv, true
}

// nitCheckDigit computes the DIAN check digit (módulo 11) of a NIT.
func nitCheckDigit(id string) int {
	weights := [...]int{3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71}
	sum := 0
	for i, j := len(id)-1, 0; i >= 0 && j < len(weights); i, j = i-1, j+1 {
		sum += int(id[i]-'0') * weights[j]
	}
	r := sum % 11
	if r > 1 {
		return 11 - r
	}
	return r
}

// normDigits accepts width digits, or width-1 digits that are left-padded
// with a zero (Excel drops the zero of 05001). A float-looking "5001.0" is
// accepted too.
func normDigits(v string, width int) (code string, padded, ok bool) {
	v = strings.TrimSuffix(v, ".0")
	if !allDigits(v) {
		return "", false, false
	}
	switch len(v) {
	case width:
		return v, false, true
	case width - 1:
		if width-1 == 0 {
			return "", false, false
		}
		return "0" + v, true, true
	}
	return "", false, false
}

// integral converts a canonical number to an integer if it has no
// fractional part ("2012.0" is 2012).
func integral(c string) (int64, bool) {
	if strings.ContainsAny(c, "eE") {
		return 0, false
	}
	if i := strings.IndexByte(c, '.'); i >= 0 {
		if strings.Trim(c[i+1:], "0") != "" {
			return 0, false
		}
		c = c[:i]
	}
	v, err := strconv.ParseInt(c, 10, 64)
	return v, err == nil
}

func inRange(c string, f *Field) bool {
	if f.max == nil && f.min != nil && f.min.IsZero() {
		// the common non-negative check without parsing
		return !(strings.HasPrefix(c, "-") && strings.ContainsAny(c[1:], "123456789"))
	}
	d, err := decimal.NewFromString(c)
	if err != nil {
		return false
	}
	return (f.min == nil || !d.LessThan(*f.min)) && (f.max == nil || !d.GreaterThan(*f.max))
}

// duplicate checks the row's key against the keys seen in this file.
func (n *normalizer) duplicate(out []string, pos int) *Issue {
	if n.keys == nil {
		n.keys = newKeySet(n.rt.maxKeys)
	}
	b := n.keyBuf[:0]
	for j, i := range n.rt.schema.keyIndex {
		if j > 0 {
			b = append(b, 0x1f)
		}
		b = append(b, out[i]...)
	}
	n.keyBuf = b
	h := maphash.Bytes(n.keys.seed, b)
	first, seen := n.keys.add(h, uint32(min(pos, 1<<32-1)))
	if !seen {
		return nil
	}
	var names, vals []string
	for _, i := range n.rt.schema.keyIndex {
		names = append(names, n.rt.schema.Fields[i].Name)
		vals = append(vals, out[i])
	}
	where := fmt.Sprintf("la línea %d", first)
	if n.rt.jsonPositions() {
		where = fmt.Sprintf("el registro %d", first)
	}
	is := issue(names[0], strings.Join(vals, " | "), CodeDuplicateKey, "clave repetida (%s = %s): ya apareció en %s",
		strings.Join(names, ", "), strings.Join(vals, " | "), where)
	return &is
}

func (rt *compiled) jsonPositions() bool {
	return rt.cfg.Kind == SourceSocrata || rt.cfg.Format == FormatJSON
}

// resetKeys starts the duplicate check of a new file.
func (n *normalizer) resetKeys() {
	if n.keys != nil {
		n.keys.reset()
	}
}

var divipolaSet struct {
	once sync.Once
	set  map[string]bool
}

// divipolaKnown reports whether code is in DANE's DIVIPOLA list shipped in
// package reference.
func divipolaKnown(code string) bool {
	divipolaSet.once.Do(func() {
		divipolaSet.set = map[string]bool{}
		r := csv.NewReader(strings.NewReader(string(reference.DIVIPOLA())))
		rows, err := r.ReadAll()
		if err != nil {
			panic(fmt.Sprintf("ingest: reference DIVIPOLA list unreadable: %v", err)) // embedded at build time
		}
		for _, row := range rows[1:] {
			divipolaSet.set[row[1]] = true
		}
	})
	return divipolaSet.set[code]
}
