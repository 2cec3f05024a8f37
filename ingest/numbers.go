package ingest

import (
	"strings"
)

// NumberFormat gives the separators of a source's numbers. The zero value
// means "auto": each value is read by its own evidence (1.234.567,89 and
// 1,234,567.89 and 335680000.0 are all clear), and the decimal separator
// learned from the first clear value settles later ambiguous ones such as
// 1.234; an ambiguous value seen before any clear one is rejected.
type NumberFormat struct {
	Decimal   byte // '.' or ','; 0 = auto
	Thousands byte // '.', ',', ' ', '\'' or 0 = none (only with an explicit Decimal)
}

// numberParser parses numbers of one stream; it remembers what auto mode
// learned.
type numberParser struct {
	f       NumberFormat
	learned byte // decimal separator learned in auto mode
}

// ParseNumber parses s written with the format's separators and returns it
// in canonical form (optional '-', digits, optional '.' and digits, optional
// exponent), ready for decimal.NewFromString. Spaces, a leading '+', a "$"
// or "COP" currency mark and accounting parentheses "(1.234)" are accepted.
// code is "" on success, else CodeNumber or CodeNumberAmbiguous.
func ParseNumber(s string, f NumberFormat) (canonical string, code string) {
	p := numberParser{f: f}
	return p.parse(s)
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// trimSpaceNB trims ASCII spaces and the no-break spaces U+00A0 and U+202F.
func trimSpaceNB(s string) string {
	for {
		switch {
		case len(s) > 0 && isSpaceByte(s[0]):
			s = s[1:]
		case len(s) > 0 && isSpaceByte(s[len(s)-1]):
			s = s[:len(s)-1]
		case strings.HasPrefix(s, "\u00a0"):
			s = s[2:]
		case strings.HasSuffix(s, "\u00a0"):
			s = s[:len(s)-2]
		case strings.HasPrefix(s, "\u202f"):
			s = s[3:]
		case strings.HasSuffix(s, "\u202f"):
			s = s[:len(s)-3]
		default:
			return s
		}
	}
}

func (p *numberParser) parse(in string) (string, string) {
	s := trimSpaceNB(in)
	neg := false
	if len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' {
		neg = true
		s = trimSpaceNB(s[1 : len(s)-1])
	}
	// sign and currency in either order: "-$ 1.234", "$ -1.234"
	for i := 0; i < 2; i++ {
		if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
			if s[0] == '-' {
				if neg {
					return "", CodeNumber
				}
				neg = true
			}
			s = trimSpaceNB(s[1:])
		}
		if strings.HasPrefix(s, "$") {
			s = trimSpaceNB(s[1:])
		} else if len(s) > 3 && strings.EqualFold(s[:3], "cop") {
			s = trimSpaceNB(s[3:])
		}
	}
	if s == "" {
		return "", CodeNumber
	}
	// split off an exponent (only meaningful with '.' decimals)
	mant, exp := s, ""
	if i := indexExp(s); i >= 0 {
		mant, exp = s[:i], s[i+1:]
		if !validExponent(exp) {
			return "", CodeNumber
		}
	}
	dec, thou, code := p.separators(mant)
	if code != "" {
		return "", code
	}
	grouped := thou != 0 && strings.IndexByte(mant, thou) >= 0
	if exp != "" && (dec != '.' || grouped) {
		return "", CodeNumber
	}
	intPart, frac := mant, ""
	hasDec := false
	if i := strings.IndexByte(mant, dec); i >= 0 {
		intPart, frac, hasDec = mant[:i], mant[i+1:], true
	}
	if !allDigits(frac) || (intPart == "" && frac == "") {
		return "", CodeNumber
	}
	if !grouped {
		if !allDigits(intPart) {
			return "", CodeNumber
		}
		// Fast path: already canonical.
		if !neg && exp == "" && intPart != "" && (!hasDec || (dec == '.' && frac != "")) {
			return s, ""
		}
	}
	b := make([]byte, 0, len(mant)+len(exp)+3)
	if neg {
		b = append(b, '-')
	}
	if intPart == "" {
		b = append(b, '0')
	} else if grouped {
		var ok bool
		if b, ok = appendUngrouped(b, intPart, thou); !ok {
			return "", CodeNumber
		}
	} else {
		b = append(b, intPart...)
	}
	if frac != "" {
		b = append(b, '.')
		b = append(b, frac...)
	}
	if exp != "" {
		b = append(b, 'e')
		b = append(b, exp...)
	}
	return string(b), ""
}

func indexExp(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == 'e' || s[i] == 'E' {
			return i
		}
	}
	return -1
}

func validExponent(e string) bool {
	if e != "" && (e[0] == '+' || e[0] == '-') {
		e = e[1:]
	}
	return e != "" && len(e) <= 4 && allDigits(e)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// appendUngrouped appends an integer part without its thousands
// separators, checking that groups after the first have exactly three
// digits.
func appendUngrouped(b []byte, s string, thou byte) ([]byte, bool) {
	first := true
	for len(s) > 0 {
		g := s
		if i := strings.IndexByte(s, thou); i >= 0 {
			g, s = s[:i], s[i+1:]
			if s == "" { // trailing separator
				return b, false
			}
		} else {
			s = ""
		}
		if !allDigits(g) || (first && (len(g) < 1 || len(g) > 3)) || (!first && len(g) != 3) {
			return b, false
		}
		first = false
		b = append(b, g...)
	}
	return b, true
}

// separators decides the decimal and thousands separators for one value.
func (p *numberParser) separators(m string) (dec, thou byte, code string) {
	if p.f.Decimal != 0 {
		return p.f.Decimal, p.f.Thousands, ""
	}
	nd, nc := strings.Count(m, "."), strings.Count(m, ",")
	ns := strings.Count(m, " ") + strings.Count(m, "'")
	switch {
	case ns > 0:
		// "1 234 567,89" or "1'234'567.89": space or apostrophe groups
		sep := byte(' ')
		if strings.IndexByte(m, '\'') >= 0 {
			sep = '\''
		}
		switch {
		case nd+nc == 0:
			return p.decimalOr('.'), sep, ""
		case nd == 1 && nc == 0:
			return '.', sep, ""
		case nc == 1 && nd == 0:
			return ',', sep, ""
		}
		return 0, 0, CodeNumber
	case nd > 0 && nc > 0:
		// both: the last one is the decimal separator and occurs once
		if strings.LastIndexByte(m, '.') > strings.LastIndexByte(m, ',') {
			if nd != 1 {
				return 0, 0, CodeNumber
			}
			p.learn('.')
			return '.', ',', ""
		}
		if nc != 1 {
			return 0, 0, CodeNumber
		}
		p.learn(',')
		return ',', '.', ""
	case nd+nc == 0:
		return p.decimalOr('.'), 0, ""
	}
	sep := byte('.')
	other := byte(',')
	n := nd
	if nc > 0 {
		sep, other, n = ',', '.', nc
	}
	if n > 1 { // "1.234.567": only thousands separators
		p.learn(other)
		return other, sep, ""
	}
	i := strings.IndexByte(m, sep)
	intPart, frac := m[:i], m[i+1:]
	intPart = strings.TrimLeft(intPart, "+-")
	if len(frac) != 3 || len(intPart) > 3 || intPart == "" || intPart == "0" {
		// "335680000.0", "0,125", "1234.567": only a decimal reading fits
		p.learn(sep)
		return sep, other, ""
	}
	switch p.learned {
	case sep:
		return sep, other, ""
	case other:
		return other, sep, ""
	}
	return 0, 0, CodeNumberAmbiguous
}

func (p *numberParser) decimalOr(d byte) byte {
	if p.learned != 0 {
		return p.learned
	}
	return d
}

func (p *numberParser) learn(dec byte) {
	if p.learned == 0 {
		p.learned = dec
	}
}
