package ingest

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// foldRune maps a rune to lower case without accents (á→a, Ñ→n, ü→u).
func foldRune(r rune) rune {
	switch r {
	case 'á', 'à', 'â', 'ä', 'ã', 'Á', 'À', 'Â', 'Ä', 'Ã':
		return 'a'
	case 'é', 'è', 'ê', 'ë', 'É', 'È', 'Ê', 'Ë':
		return 'e'
	case 'í', 'ì', 'î', 'ï', 'Í', 'Ì', 'Î', 'Ï':
		return 'i'
	case 'ó', 'ò', 'ô', 'ö', 'õ', 'Ó', 'Ò', 'Ô', 'Ö', 'Õ':
		return 'o'
	case 'ú', 'ù', 'û', 'ü', 'Ú', 'Ù', 'Û', 'Ü':
		return 'u'
	case 'ñ', 'Ñ':
		return 'n'
	case 'ç', 'Ç':
		return 'c'
	}
	return unicode.ToLower(r)
}

// foldValue normalizes a value for matching enum synonyms: lower case, no
// accents, '.', '_', '-' and '/' as spaces, spaces collapsed, trimmed.
// "Tarjeta de Crédito" → "tarjeta de credito"; "C.C." → "c c".
func foldValue(s string) string {
	return fold(s, true)
}

// foldHeader normalizes a column name for matching: lower case, no accents,
// no zero-width characters, spaces collapsed, trimmed ("Cód. DANE
// Departamento" → "cod. dane departamento").
func foldHeader(s string) string {
	return fold(s, false)
}

func fold(s string, punct bool) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == '\uFEFF' || r == '\u200B' || r == '\u200C' || r == '\u200D':
			continue
		case unicode.IsSpace(r) || (punct && (r == '.' || r == '_' || r == '-' || r == '/')):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// Mojibake: UTF-8 text that was decoded as Latin-1 / Windows-1252 and
// encoded again ("DEGÃœELLO" for "DEGÜELLO"), or whose damaged bytes were
// replaced by '?' or U+FFFD on the way ("DEGÃ?ELLO", irreversible).

const (
	mojibakeNone = iota
	mojibakeRepairable
	mojibakeIrreversible
)

// cp1252High maps the Windows-1252 characters of bytes 0x80-0x9F to their
// bytes.
var cp1252High = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88, '‰': 0x89,
	'Š': 0x8A, '‹': 0x8B, 'Œ': 0x8C, 'Ž': 0x8E, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95,
	'–': 0x96, '—': 0x97, '˜': 0x98, '™': 0x99, 'š': 0x9A, '›': 0x9B, 'œ': 0x9C, 'ž': 0x9E, 'Ÿ': 0x9F,
}

// cp1252Byte returns the Windows-1252 (or Latin-1) byte of r.
func cp1252Byte(r rune) (byte, bool) {
	if r < 0x100 {
		return byte(r), true
	}
	b, ok := cp1252High[r]
	return b, ok
}

// isContinuationLook reports whether r is how a UTF-8 continuation byte
// (0x80-0xBF) looks once decoded as Windows-1252 or Latin-1.
func isContinuationLook(r rune) bool {
	b, ok := cp1252Byte(r)
	return ok && b >= 0x80 && b <= 0xBF
}

// detectMojibake classifies s.
func detectMojibake(s string) int {
	if !mayBeMojibake(s) {
		return mojibakeNone
	}
	if strings.ContainsRune(s, '\uFFFD') {
		return mojibakeIrreversible
	}
	status := mojibakeNone
	prev := rune(0)
	for _, r := range s {
		if prev == 'Ã' || prev == 'Â' {
			switch {
			case isContinuationLook(r):
				if status == mojibakeNone {
					status = mojibakeRepairable
				}
			case r == '?':
				return mojibakeIrreversible
			}
		}
		prev = r
	}
	if status == mojibakeRepairable {
		if _, ok := repairMojibake(s); !ok {
			return mojibakeIrreversible
		}
	}
	return status
}

// mayBeMojibake is a fast byte scan for 'Â' (C3 82), 'Ã' (C3 83) and
// U+FFFD (EF BF BD), the marks of double encoding.
func mayBeMojibake(s string) bool {
	for i := strings.IndexByte(s, 0xC3); i >= 0 && i+1 < len(s); {
		if c := s[i+1]; c == 0x82 || c == 0x83 {
			return true
		}
		j := strings.IndexByte(s[i+1:], 0xC3)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return strings.Contains(s, "\uFFFD")
}

// repairMojibake re-encodes s as Windows-1252 and reads the bytes as UTF-8.
func repairMojibake(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		c, ok := cp1252Byte(r)
		if !ok {
			return "", false
		}
		b = append(b, c)
	}
	if !utf8.Valid(b) {
		return "", false
	}
	return string(b), true
}
