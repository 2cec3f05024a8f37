package ingest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Date formats
//
// A source lists its date formats (tried in order). Each one is either
//   - a keyword: "iso" (2006-01-02, optionally followed by T or a space and
//     15:04[:05[.000]] and a zone), "excel" (serial day number, 1900 system);
//   - a Go layout (any string containing "2006"), e.g. "02/01/2006 15:04";
//   - a friendly pattern with these tokens:
//     yyyy yy   year (yy: 00-69 → 20xx, 70-99 → 19xx)
//     mm m      month number (1 or 2 digits; exactly 2 when glued to another number)
//     dd d      day of month (same rule)
//     mmmm mmm  month name or abbreviation, Spanish or English ("noviembre", "nov", "sept.")
//     HH H      hour 0-23;  hh h: hour 1-12 with tt
//     MI        minutes;  SS: seconds;  fff: fraction of a second (1-9 digits)
//     tt        a. m. / p. m. (also am, pm, a.m., p.m.)
//     Z         zone: Z, +05:00, -0500 or -05
//     [ ... ]   optional part;  'text': literal text;  T matches T or a space;
//     a space matches one or more spaces; any other character matches itself.
//     Examples: "dd/mm/yyyy", "yyyy-mm-dd[ HH:MI[:SS]]", "yyyymmdd",
//     "d 'de' mmmm 'de' yyyy", "dd/mm/yyyy hh:MI:SS tt".
//
// Values without a zone are read in the source's time zone
// (default America/Bogota, UTC-5, no daylight saving time).

// DefaultDateFormats are used when a source lists none.
var DefaultDateFormats = []string{"iso", "dd/mm/yyyy[ HH:MI[:SS]]", "d 'de' mmmm 'de' yyyy"}

type dtKind uint8

const (
	tkLit dtKind = iota
	tkSpace
	tkT
	tkYear4
	tkYear2
	tkMonth
	tkMonthName
	tkDay
	tkHour24
	tkHour12
	tkMinute
	tkSecond
	tkFrac
	tkAMPM
	tkZone
	tkOptional
)

type dtok struct {
	kind  dtKind
	lit   string
	fixed bool // numeric token glued to another numeric token: exact width
	opt   []dtok
}

// dateFormat is a compiled date format.
type dateFormat struct {
	src      string
	toks     []dtok
	goLayout string
	excel    bool
}

// dtParts are the parts read from a value.
type dtParts struct {
	y, mo, d, h, mi, s, ns int
	hasTime, hasZone       bool
	ampm                   int // 0 none, 1 a. m., 2 p. m.
	off                    int // zone offset in seconds
}

var friendlyTokens = []struct {
	name string
	kind dtKind
}{
	{"mmmm", tkMonthName}, {"month", tkMonthName}, {"yyyy", tkYear4}, {"mmm", tkMonthName}, {"mon", tkMonthName},
	{"fff", tkFrac}, {"yy", tkYear2}, {"mm", tkMonth}, {"dd", tkDay}, {"HH", tkHour24}, {"hh", tkHour12},
	{"MI", tkMinute}, {"SS", tkSecond}, {"tt", tkAMPM}, {"m", tkMonth}, {"d", tkDay}, {"H", tkHour24},
	{"h", tkHour12}, {"Z", tkZone}, {"T", tkT},
}

// compileDateFormat compiles one format string.
func compileDateFormat(src string) (*dateFormat, error) {
	switch strings.ToLower(strings.TrimSpace(src)) {
	case "":
		return nil, fmt.Errorf("empty date format")
	case "iso":
		f, err := compileDateFormat("yyyy-mm-dd[THH:MI[:SS[.fff]][Z]]")
		if err == nil {
			f.src = "iso"
		}
		return f, err
	case "excel":
		return &dateFormat{src: src, excel: true}, nil
	}
	if strings.Contains(src, "2006") {
		return &dateFormat{src: src, goLayout: src}, nil
	}
	toks, rest, err := compileTokens(src, false)
	if err != nil {
		return nil, fmt.Errorf("date format %q: %v", src, err)
	}
	if rest != "" {
		return nil, fmt.Errorf("date format %q: unbalanced ']'", src)
	}
	markFixed(toks)
	return &dateFormat{src: src, toks: toks}, nil
}

func compileTokens(s string, inOpt bool) ([]dtok, string, error) {
	var out []dtok
	for len(s) > 0 {
		switch c := s[0]; {
		case c == '[':
			sub, rest, err := compileTokens(s[1:], true)
			if err != nil {
				return nil, "", err
			}
			if !strings.HasPrefix(rest, "]") {
				return nil, "", fmt.Errorf("unclosed '['")
			}
			out = append(out, dtok{kind: tkOptional, opt: sub})
			s = rest[1:]
			continue
		case c == ']':
			if !inOpt {
				return nil, "", fmt.Errorf("unexpected ']'")
			}
			return out, s, nil
		case c == '\'':
			j := strings.IndexByte(s[1:], '\'')
			if j < 0 {
				return nil, "", fmt.Errorf("unclosed quote")
			}
			out = append(out, dtok{kind: tkLit, lit: s[1 : 1+j]})
			s = s[j+2:]
			continue
		case c == ' ':
			out = append(out, dtok{kind: tkSpace})
			s = strings.TrimLeft(s, " ")
			continue
		}
		matched := false
		for _, t := range friendlyTokens {
			if strings.HasPrefix(s, t.name) {
				out = append(out, dtok{kind: t.kind})
				s = s[len(t.name):]
				matched = true
				break
			}
		}
		if !matched {
			out = append(out, dtok{kind: tkLit, lit: s[:1]})
			s = s[1:]
		}
	}
	if inOpt {
		return nil, "", fmt.Errorf("unclosed '['")
	}
	return out, "", nil
}

func isNumericTok(k dtKind) bool {
	switch k {
	case tkYear4, tkYear2, tkMonth, tkDay, tkHour24, tkHour12, tkMinute, tkSecond:
		return true
	}
	return false
}

func markFixed(toks []dtok) {
	for i := range toks {
		if toks[i].kind == tkOptional {
			markFixed(toks[i].opt)
			continue
		}
		if !isNumericTok(toks[i].kind) {
			continue
		}
		if (i+1 < len(toks) && isNumericTok(toks[i+1].kind)) || (i > 0 && isNumericTok(toks[i-1].kind)) {
			toks[i].fixed = true
		}
	}
}

// match reads s completely with the format.
func (f *dateFormat) match(s string, loc *time.Location) (dtParts, bool) {
	var p dtParts
	switch {
	case f.excel:
		return excelSerial(s)
	case f.goLayout != "":
		t, err := time.ParseInLocation(f.goLayout, s, loc)
		if err != nil {
			return p, false
		}
		_, off := t.Zone()
		p = dtParts{y: t.Year(), mo: int(t.Month()), d: t.Day(), h: t.Hour(), mi: t.Minute(), s: t.Second(), ns: t.Nanosecond(),
			hasTime: t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 || t.Nanosecond() != 0,
			hasZone: strings.Contains(f.goLayout, "Z07") || strings.Contains(f.goLayout, "-07") || strings.Contains(f.goLayout, "MST"),
			off:     off}
		return p, true
	}
	i, ok := matchToks(f.toks, s, 0, &p)
	if !ok || i != len(s) {
		return p, false
	}
	if p.ampm != 0 {
		if p.h < 1 || p.h > 12 {
			return p, false
		}
		if p.ampm == 2 && p.h != 12 {
			p.h += 12
		} else if p.ampm == 1 && p.h == 12 {
			p.h = 0
		}
	}
	return p, true
}

func excelSerial(s string) (dtParts, bool) {
	var p dtParts
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 1 || v > 2958465 || strings.ContainsAny(s, "eEinfINFaA") {
		return p, false
	}
	base := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	days := int(v)
	secs := int((v-float64(days))*86400 + 0.5)
	t := base.AddDate(0, 0, days).Add(time.Duration(secs) * time.Second)
	p = dtParts{y: t.Year(), mo: int(t.Month()), d: t.Day(), h: t.Hour(), mi: t.Minute(), s: t.Second(), hasTime: secs != 0}
	return p, true
}

func readDigits(s string, i, minw, maxw int) (int, int, bool) {
	n, j := 0, i
	for j < len(s) && j-i < maxw && s[j] >= '0' && s[j] <= '9' {
		n = n*10 + int(s[j]-'0')
		j++
	}
	if j-i < minw {
		return 0, i, false
	}
	return n, j, true
}

func matchToks(toks []dtok, s string, i int, p *dtParts) (int, bool) {
	for _, t := range toks {
		var ok bool
		minw := 1
		if t.fixed {
			minw = 2
		}
		switch t.kind {
		case tkOptional:
			save := *p
			if j, ok2 := matchToks(t.opt, s, i, p); ok2 {
				i = j
			} else {
				*p = save
			}
			continue
		case tkLit:
			if !strings.HasPrefix(s[i:], t.lit) {
				return i, false
			}
			i += len(t.lit)
			continue
		case tkSpace:
			j := i
			for j < len(s) && s[j] == ' ' {
				j++
			}
			if j == i {
				return i, false
			}
			i = j
			continue
		case tkT:
			if i >= len(s) || (s[i] != 'T' && s[i] != 't' && s[i] != ' ') {
				return i, false
			}
			i++
			continue
		case tkYear4:
			p.y, i, ok = readDigits(s, i, 4, 4)
		case tkYear2:
			p.y, i, ok = readDigits(s, i, 2, 2)
			if p.y < 70 {
				p.y += 2000
			} else {
				p.y += 1900
			}
		case tkMonth:
			p.mo, i, ok = readDigits(s, i, minw, 2)
		case tkDay:
			p.d, i, ok = readDigits(s, i, minw, 2)
		case tkHour24, tkHour12:
			p.h, i, ok = readDigits(s, i, minw, 2)
			p.hasTime = true
		case tkMinute:
			p.mi, i, ok = readDigits(s, i, 2, 2)
			p.hasTime = true
		case tkSecond:
			p.s, i, ok = readDigits(s, i, 2, 2)
		case tkFrac:
			j := i
			for j < len(s) && j-i < 9 && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i {
				return i, false
			}
			frac := s[i:j]
			ns, _ := strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
			p.ns, i, ok = ns, j, true
		case tkMonthName:
			j := i
			for j < len(s) && (isLetterByte(s[j]) || s[j] == '.' || s[j] >= 0x80) {
				j++
			}
			p.mo = monthByName(s[i:j])
			i, ok = j, p.mo != 0
		case tkAMPM:
			j := i
			for j < len(s) && j-i < 6 && strings.IndexByte("aApPmM. ", s[j]) >= 0 {
				j++
			}
			w := strings.ToLower(strings.NewReplacer(".", "", " ", "").Replace(s[i:j]))
			switch w {
			case "am", "a":
				p.ampm = 1
			case "pm", "p":
				p.ampm = 2
			default:
				return i, false
			}
			i, ok = j, true
		case tkZone:
			i, ok = readZone(s, i, p)
		}
		if !ok {
			return i, false
		}
	}
	return i, true
}

func isLetterByte(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func readZone(s string, i int, p *dtParts) (int, bool) {
	if i < len(s) && (s[i] == 'Z' || s[i] == 'z') {
		p.hasZone, p.off = true, 0
		return i + 1, true
	}
	if i >= len(s) || (s[i] != '+' && s[i] != '-') {
		return i, false
	}
	sign := 1
	if s[i] == '-' {
		sign = -1
	}
	hh, j, ok := readDigits(s, i+1, 2, 2)
	if !ok || hh > 14 {
		return i, false
	}
	mm := 0
	if j < len(s) && s[j] == ':' {
		if mm, j, ok = readDigits(s, j+1, 2, 2); !ok {
			return i, false
		}
	} else if j+1 < len(s) && s[j] >= '0' && s[j] <= '9' {
		if mm, j, ok = readDigits(s, j, 2, 2); !ok {
			return i, false
		}
	}
	if mm > 59 {
		return i, false
	}
	p.hasZone, p.off = true, sign*(hh*3600+mm*60)
	return j, true
}

var monthNames = map[string]int{
	"enero": 1, "ene": 1, "january": 1, "jan": 1,
	"febrero": 2, "feb": 2, "february": 2,
	"marzo": 3, "mar": 3, "march": 3,
	"abril": 4, "abr": 4, "april": 4, "apr": 4,
	"mayo": 5, "may": 5,
	"junio": 6, "jun": 6, "june": 6,
	"julio": 7, "jul": 7, "july": 7,
	"agosto": 8, "ago": 8, "august": 8, "aug": 8,
	"septiembre": 9, "setiembre": 9, "sep": 9, "sept": 9, "set": 9, "september": 9,
	"octubre": 10, "oct": 10, "october": 10,
	"noviembre": 11, "nov": 11, "november": 11,
	"diciembre": 12, "dic": 12, "december": 12, "dec": 12,
}

func monthByName(s string) int {
	return monthNames[strings.TrimSuffix(foldValue(s), ".")]
}

// dateParser parses the dates of one source.
type dateParser struct {
	formats []*dateFormat
	loc     *time.Location
	names   string // for messages
}

func newDateParser(formats []string, loc *time.Location) (*dateParser, error) {
	if len(formats) == 0 {
		formats = DefaultDateFormats
	}
	dp := &dateParser{loc: loc, names: "«" + strings.Join(formats, "», «") + "»"}
	for _, f := range formats {
		c, err := compileDateFormat(f)
		if err != nil {
			return nil, err
		}
		dp.formats = append(dp.formats, c)
	}
	return dp, nil
}

// parse returns the parts of the first format that reads s and forms a
// valid calendar date and time.
func (dp *dateParser) parse(s string) (dtParts, bool) {
	for _, f := range dp.formats {
		p, ok := f.match(s, dp.loc)
		if ok && validDate(p.y, p.mo, p.d) && p.y >= 1800 && p.y <= 2200 && p.h < 24 && p.mi < 60 && p.s < 60 {
			return p, true
		}
	}
	return dtParts{}, false
}

// ParseDate parses s with the formats (see the package comment on date
// formats) and returns the canonical 2006-01-02.
func ParseDate(s string, formats []string) (string, error) {
	dp, err := newDateParser(formats, bogota())
	if err != nil {
		return "", err
	}
	p, ok := dp.parse(strings.TrimSpace(s))
	if !ok {
		return "", fmt.Errorf("ingest: %q does not match the date formats %s", s, dp.names)
	}
	return isoDate(p.y, p.mo, p.d), nil
}

// ParseDateTime parses s with the formats and returns the instant; values
// without a zone are read in loc (nil: America/Bogota).
func ParseDateTime(s string, formats []string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = bogota()
	}
	dp, err := newDateParser(formats, loc)
	if err != nil {
		return time.Time{}, err
	}
	p, ok := dp.parse(strings.TrimSpace(s))
	if !ok {
		return time.Time{}, fmt.Errorf("ingest: %q does not match the date formats %s", s, dp.names)
	}
	return p.time(loc), nil
}

func (p dtParts) time(loc *time.Location) time.Time {
	l := loc
	if p.hasZone {
		if p.off == 0 {
			l = time.UTC
		} else {
			l = time.FixedZone("", p.off)
		}
	}
	return time.Date(p.y, time.Month(p.mo), p.d, p.h, p.mi, p.s, p.ns, l)
}

var bogotaZone = time.FixedZone("COT", -5*3600)

// bogota returns Colombia's time zone. Colombia has kept UTC-5 without
// daylight saving time since 1993, so a fixed zone is exact for the data and
// does not need the tz database.
func bogota() *time.Location { return bogotaZone }

// loadLocation resolves a zone name from configuration.
func loadLocation(name string) (*time.Location, error) {
	switch name {
	case "", "America/Bogota", "COT", "-05:00":
		return bogota(), nil
	case "UTC", "Z":
		return time.UTC, nil
	}
	return time.LoadLocation(name)
}
