package demo

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/ingest"
)

// A layout is the shape of one kind of export of one municipality: its
// columns (Spanish headers mapped to canonical ingest fields), separator,
// character set, number and date formats. The same layout writes the file
// and declares the ingest source that reads it back, so the two cannot
// drift apart.
type layout struct {
	kind      ingest.Kind
	charset   string // "utf-8", "utf-8-bom" or "windows-1252"
	delim     byte
	decimal   byte // '.' or ','
	thousands byte // 0 or '.'
	places    int  // decimals written for amounts
	dates     dateStyle
	preamble  []string
	cols      []col
	// ingest declaration
	dateFormats []string
	defaults    map[string]string
	values      map[string]map[string]string
	mojibake    string
}

// col is one column: its header and the canonical field it holds.
type col struct {
	header string
	field  int // index in the kind's schema
}

// cells are a row's values as text, indexed like the kind's schema fields.
type cells []string

// Field indexes of the three kinds the demo writes, looked up by name so a
// change in the schemas shows up as a panic at start-up, not as shifted
// columns.
var (
	liqSchema = mustSchema(ingest.KindLiquidation)
	paySchema = mustSchema(ingest.KindPayment)
	gelSchema = mustSchema(ingest.KindGEL)
)

func mustSchema(k ingest.Kind) *ingest.Schema {
	s, err := ingest.SchemaFor(k)
	if err != nil {
		panic(err)
	}
	return s
}

func fieldIndex(s *ingest.Schema, name string) int {
	for i, n := range s.Names() {
		if n == name {
			return i
		}
	}
	panic(fmt.Sprintf("demo: %s has no field %q", s.Kind, name))
}

var (
	lID, lMuni, lTax, lYear, lPeriod                  = li("liquidation_id"), li("municipality_code"), li("tax"), li("tax_year"), li("period")
	lTID, lDV, lIDType, lKind, lName                  = li("taxpayer_id"), li("taxpayer_id_dv"), li("taxpayer_id_type"), li("taxpayer_kind"), li("taxpayer_name")
	lAddr, lPhone, lEmail, lProp                      = li("taxpayer_address"), li("taxpayer_phone"), li("taxpayer_email"), li("property_id")
	lIssue, lDue, lChannel                            = li("issue_date"), li("due_date"), li("filing_channel")
	lAvaluo, lDestino, lEstrato, lSector, lArea       = li("avaluo"), li("destino"), li("estrato"), li("sector"), li("area_m2")
	lBuilt, lPrior, lRate                             = li("built_area_m2"), li("prior_year_tax"), li("rate_per_mille")
	lGross, lOutside, lDeduct, lTaxable, lCIIU        = li("gross_income"), li("income_outside"), li("deductions"), li("taxable_income"), li("ciiu")
	lTaxAmt, lAvisos, lBomberil, lAmbiental           = li("tax_amount"), li("avisos_tableros"), li("sobretasa_bomberil"), li("sobretasa_ambiental")
	lDiscount, lInterest, lSanctions, lWithh, lTotal  = li("discount"), li("interest"), li("sanctions"), li("withholdings"), li("total_amount")
	pID, pLiq, pMuni, pTax, pYear, pTID, pDV, pPaidAt = pi("payment_id"), pi("liquidation_id"), pi("municipality_code"), pi("tax"), pi("tax_year"), pi("taxpayer_id"), pi("taxpayer_id_dv"), pi("paid_at")
	pAmount, pChannel, pBank                          = pi("amount"), pi("channel"), pi("bank")
	gFramework, gPhase, gCriterion, gEntity, gDate    = gi("framework"), gi("phase"), gi("criterion"), gi("entity_code"), gi("measured_on")
	gValue, gUnit, gEvidence, gSource, gSynthetic     = gi("value"), gi("unit"), gi("evidence_url"), gi("source"), gi("synthetic")
)

func li(n string) int { return fieldIndex(liqSchema, n) }
func pi(n string) int { return fieldIndex(paySchema, n) }
func gi(n string) int { return fieldIndex(gelSchema, n) }

func (l *layout) schema() *ingest.Schema {
	switch l.kind {
	case ingest.KindLiquidation:
		return liqSchema
	case ingest.KindPayment:
		return paySchema
	}
	return gelSchema
}

// newCells returns empty cells for the layout's kind.
func (l *layout) newCells() cells { return make(cells, len(l.schema().Fields)) }

// header returns the file's first bytes: BOM, preamble lines and header.
func (l *layout) header(dst []byte) []byte {
	if l.charset == "utf-8-bom" {
		dst = append(dst, 0xEF, 0xBB, 0xBF)
	}
	for _, p := range l.preamble {
		dst = l.appendText(dst, p)
		dst = append(dst, '\r', '\n')
	}
	for i, c := range l.cols {
		if i > 0 {
			dst = append(dst, l.delim)
		}
		dst = l.appendField(dst, c.header)
	}
	return append(dst, '\r', '\n')
}

// row appends one record. raw, when >= 0, is a field index written exactly
// as given, without quoting (used for the deliberately broken quote).
func (l *layout) row(dst []byte, c cells, raw int) []byte {
	for i, col := range l.cols {
		if i > 0 {
			dst = append(dst, l.delim)
		}
		if col.field == raw {
			dst = l.appendText(dst, c[col.field])
			continue
		}
		dst = l.appendField(dst, c[col.field])
	}
	return append(dst, '\r', '\n')
}

// appendField writes s, quoted (RFC 4180) when it holds the delimiter, a
// quote or a line break.
func (l *layout) appendField(dst []byte, s string) []byte {
	needs := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == l.delim || c == '"' || c == '\n' || c == '\r' {
			needs = true
			break
		}
	}
	if !needs {
		return l.appendText(dst, s)
	}
	dst = append(dst, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		dst = l.appendText(dst, s[:i+1])
		dst = append(dst, '"')
		s = s[i+1:]
	}
	dst = l.appendText(dst, s)
	return append(dst, '"')
}

// appendText writes s in the layout's character set.
func (l *layout) appendText(dst []byte, s string) []byte {
	if l.charset != "windows-1252" {
		return append(dst, s...)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		dst = append(dst, cp1252(r))
	}
	return dst
}

// cp1252 maps a rune to Windows-1252 ('?' when it has no code there).
func cp1252(r rune) byte {
	switch {
	case r >= 0xA0 && r <= 0xFF:
		return byte(r)
	case r == '€':
		return 0x80
	case r == '‚':
		return 0x82
	case r == '„':
		return 0x84
	case r == '…':
		return 0x85
	case r == '‘':
		return 0x91
	case r == '’':
		return 0x92
	case r == '“':
		return 0x93
	case r == '”':
		return 0x94
	case r == '•':
		return 0x95
	case r == '–':
		return 0x96
	case r == '—':
		return 0x97
	}
	return '?'
}

// money formats an amount with the layout's separators and decimals.
func (l *layout) money(d decimal.Decimal) string { return l.number(d, l.places) }

// plain formats a number with as many decimals as it has (rates, areas).
func (l *layout) plain(d decimal.Decimal) string {
	s := d.String()
	if l.decimal == ',' {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

func (l *layout) number(d decimal.Decimal, places int) string {
	if s, ok := l.fastNumber(d, places); ok {
		return s
	}
	s := d.StringFixed(int32(places))
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	ip, fp := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		ip, fp = s[:i], s[i+1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if l.thousands != 0 {
		b.WriteString(strings.ReplaceAll(dotted(ip), ".", string(l.thousands)))
	} else {
		b.WriteString(ip)
	}
	if fp != "" {
		b.WriteByte(l.decimal)
		b.WriteString(fp)
	}
	return b.String()
}

var pow10 = [...]int64{1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
	10_000_000_000, 100_000_000_000, 1_000_000_000_000}

// fastNumber formats d without big-integer arithmetic when it already has
// at most places decimals and fits comfortably in an int64 (the common
// case: amounts are rounded before they are written).
func (l *layout) fastNumber(d decimal.Decimal, places int) (string, bool) {
	if d.NumDigits() > 15 {
		return "", false
	}
	c, e := d.CoefficientInt64(), int(d.Exponent())
	shift := e + places // c * 10^shift units of 10^-places
	if shift < 0 || shift >= len(pow10) {
		return "", false
	}
	v := c * pow10[shift]
	if v/pow10[shift] != c {
		return "", false
	}
	neg := v < 0
	if neg {
		v = -v
	}
	ip, fp := v/pow10[places], v%pow10[places]
	var buf [40]byte
	b := buf[:0]
	if neg {
		b = append(b, '-')
	}
	digits := strconv.AppendInt(nil, ip, 10)
	if l.thousands != 0 {
		first := len(digits) % 3
		if first == 0 {
			first = 3
		}
		b = append(b, digits[:first]...)
		for i := first; i < len(digits); i += 3 {
			b = append(b, l.thousands)
			b = append(b, digits[i:i+3]...)
		}
	} else {
		b = append(b, digits...)
	}
	if places > 0 {
		b = append(b, l.decimal)
		f := strconv.AppendInt(nil, fp, 10)
		for i := len(f); i < places; i++ {
			b = append(b, '0')
		}
		b = append(b, f...)
	}
	return string(b), true
}

func optMoney(l *layout, d *decimal.Decimal) string {
	if d == nil {
		return ""
	}
	return l.money(*d)
}

func itoa(n int) string { return strconv.Itoa(n) }

// Spanish month abbreviations as Excel writes them in es-CO.
var mesAbr = [...]string{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"}

// dateStyle names how a file writes dates (the ingest format that reads it
// is declared with the layout).
type dateStyle int

const (
	dmySlash   dateStyle = iota // 31/08/2009
	isoDash                     // 2009-08-31
	dMonAbbr                    // 31-ago-2009
	dmSlashNoZ                  // 31/8/2009
)

func fmtDate(st dateStyle, d day) string {
	var buf [24]byte
	return string(appendDate(buf[:0], st, d))
}

func appendDate(b []byte, st dateStyle, d day) []byte {
	y, m, dd := d.ymd()
	two := func(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
	switch st {
	case isoDash:
		b = strconv.AppendInt(b, int64(y), 10)
		b = append(b, '-')
		b = two(b, m)
		b = append(b, '-')
		return two(b, dd)
	case dMonAbbr:
		b = strconv.AppendInt(b, int64(dd), 10)
		b = append(b, '-')
		b = append(b, mesAbr[m-1]...)
		b = append(b, '-')
		return strconv.AppendInt(b, int64(y), 10)
	case dmSlashNoZ:
		b = strconv.AppendInt(b, int64(dd), 10)
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(m), 10)
		b = append(b, '/')
		return strconv.AppendInt(b, int64(y), 10)
	}
	b = two(b, dd)
	b = append(b, '/')
	b = two(b, m)
	b = append(b, '/')
	return strconv.AppendInt(b, int64(y), 10)
}

func fmtStamp(st dateStyle, s stamp) string {
	h, mi, se := s.sec/3600, s.sec/60%60, s.sec%60
	two := func(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
	var buf [32]byte
	b := appendDate(buf[:0], st, s.d)
	b = append(b, ' ')
	if st == dmSlashNoZ {
		b = strconv.AppendInt(b, int64(h), 10)
		b = append(b, ':')
		return string(two(b, mi))
	}
	b = two(b, h)
	b = append(b, ':')
	b = two(b, mi)
	b = append(b, ':')
	return string(two(b, se))
}
