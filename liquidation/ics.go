package liquidation

import (
	"bufio"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// icsNow is the DTSTAMP clock (overridable in tests).
var icsNow = time.Now

// WriteICS writes events as an RFC 5545 iCalendar: CRLF line endings, content lines
// folded at 75 octets (never inside a UTF-8 sequence), a UID and DTSTAMP per event,
// all-day events with VALUE=DATE (DTEND is exclusive), and TEXT values escaped
// (backslash, semicolon, comma, newline).
func WriteICS(w io.Writer, events []CalendarEvent, calName string) error {
	bw := bufio.NewWriter(w)
	stamp := icsNow().UTC().Format("20060102T150405Z")
	line := func(s string) { writeFolded(bw, s) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Observatorio Civico//Calendario tributario//ES")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	if calName != "" {
		line("X-WR-CALNAME:" + escapeText(calName))
	}
	for _, e := range events {
		line("BEGIN:VEVENT")
		line("UID:" + escapeText(e.UID))
		line("DTSTAMP:" + stamp)
		line("DTSTART;VALUE=DATE:" + e.Date.Time().Format("20060102"))
		end := e.Date
		if !e.End.IsZero() && e.End.After(e.Date) {
			end = e.End
		}
		line("DTEND;VALUE=DATE:" + end.AddDays(1).Time().Format("20060102"))
		line("SUMMARY;LANGUAGE=es-CO:" + escapeText(e.Title))
		desc := e.Description
		if e.Reference != "" {
			desc += "\nFundamento: " + e.Reference
		}
		line("DESCRIPTION;LANGUAGE=es-CO:" + escapeText(desc))
		line("CATEGORIES:" + escapeText(strings.ToUpper(e.Tax)))
		line("TRANSP:TRANSPARENT")
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return bw.Flush()
}

func escapeText(s string) string {
	var sb strings.Builder
	for _, r := range s {
		switch r {
		case '\\':
			sb.WriteString(`\\`)
		case ';':
			sb.WriteString(`\;`)
		case ',':
			sb.WriteString(`\,`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// writeFolded writes one content line, folding it so that no physical line exceeds 75
// octets (excluding CRLF); continuation lines start with a space.
func writeFolded(w *bufio.Writer, s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		w.WriteString(s[:cut])
		w.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	w.WriteString(s)
	w.WriteString("\r\n")
}
