package liquidation

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCalendarBucaramanga2024(t *testing.T) {
	r := MustEmbeddedRules()
	ev, err := r.Calendar("68001", 2024)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ev {
		if e.Date.Year() != 2024 {
			t.Fatalf("event outside 2024: %+v", e)
		}
		if e.Title == "" || e.Description == "" || e.Reference == "" || e.UID == "" {
			t.Fatalf("incomplete event %+v", e)
		}
		got = append(got, e.Tax+"/"+e.Kind+"/"+e.Date.String())
	}
	joined := strings.Join(got, " ")
	for _, want := range []string{
		"predial/descuento/2024-01-01",   // window 15 % (1 Jan - 29 Mar)
		"predial/vencimiento/2024-06-28", // 30 Jun 2024 is a Sunday -> Friday 28
		"ica/declaracion/2024-04-30",     // año gravable 2023
		"ica/descuento/2024-03-29",       // ICA 10 % window
		"reteica/declaracion/2024-01-19", // bimestre 6 of 2023 (20 Jan 2024 is a Saturday)
		"reteica/declaracion/2024-03-20", // bimestre 1 of 2024
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing %s in %s", want, joined)
		}
	}
	for i := 1; i < len(ev); i++ {
		if ev[i].Date.Before(ev[i-1].Date) {
			t.Fatal("events not sorted")
		}
	}
	if _, err := r.Calendar("00000", 2024); err == nil {
		t.Fatal("expected error for unknown municipality")
	}
}

func TestWriteICS(t *testing.T) {
	icsNow = func() time.Time { return time.Date(2026, 11, 21, 15, 4, 5, 0, time.UTC) }
	defer func() { icsNow = time.Now }()
	ev := []CalendarEvent{{
		UID: "x-1@observatorio-civico", Municipality: "68001", Tax: "predial", Kind: "descuento",
		Date: NewDate(2024, 1, 1), End: NewDate(2024, 3, 29),
		Title:       "Bucaramanga: predial 2024 con 15 % de descuento; pague a tiempo, ahorre",
		Description: "Línea uno, con coma; y punto y coma\\barra invertida\nlínea dos: " + strings.Repeat("ñandú ", 30),
		Reference:   "Acuerdo 044 de 2008, art. X",
	}}
	var buf bytes.Buffer
	if err := WriteICS(&buf, ev, "Calendario tributario, Bucaramanga"); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	if !strings.HasPrefix(s, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") || !strings.HasSuffix(s, "END:VCALENDAR\r\n") {
		t.Fatalf("bad envelope: %q", s[:40])
	}
	if strings.Contains(strings.ReplaceAll(s, "\r\n", ""), "\n") {
		t.Fatal("bare LF found")
	}
	for _, l := range strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Fatalf("line longer than 75 octets: %q", l)
		}
		if !utf8.ValidString(l) {
			t.Fatalf("fold split a UTF-8 sequence: %q", l)
		}
	}
	unfolded := strings.ReplaceAll(s, "\r\n ", "")
	for _, want := range []string{
		"UID:x-1@observatorio-civico\r\n",
		"DTSTAMP:20261121T150405Z\r\n",
		"DTSTART;VALUE=DATE:20240101\r\n",
		"DTEND;VALUE=DATE:20240330\r\n", // exclusive end
		`SUMMARY;LANGUAGE=es-CO:Bucaramanga: predial 2024 con 15 % de descuento\; pague a tiempo\, ahorre`,
		`Línea uno\, con coma\; y punto y coma\\barra invertida\nlínea dos: ñandú`,
		"X-WR-CALNAME:Calendario tributario\\, Bucaramanga\r\n",
	} {
		if !strings.Contains(unfolded, want) {
			t.Errorf("missing %q in\n%s", want, unfolded)
		}
	}
}
