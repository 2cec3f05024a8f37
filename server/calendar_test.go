package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

func TestTaxCalendar(t *testing.T) {
	srv := httptest.NewServer(New(whtest.Embedded(t), Options{}).Handler())
	defer srv.Close()
	get := func(path string) (int, string, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	code, ctype, body := get("/calendario/68001/2025.ics")
	if code != 200 || !strings.HasPrefix(ctype, "text/calendar") {
		t.Fatalf("%d %s\n%s", code, ctype, body)
	}
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "END:VCALENDAR\r\n", "BEGIN:VEVENT\r\n", "DTSTART;VALUE=DATE:2025", "Bucaramanga"} {
		if !strings.Contains(body, want) {
			t.Errorf("ICS lacks %q", want)
		}
	}
	for _, line := range strings.Split(body, "\r\n") {
		if len(line) > 75 {
			t.Errorf("ICS line longer than 75 octets: %q", line)
		}
	}
	code, _, body = get("/calendario/25151/2025.json")
	if code != 200 || !strings.Contains(body, `"eventos"`) || !strings.Contains(body, `"municipio":"25151"`) {
		t.Fatalf("%d %s", code, body)
	}
	for _, bad := range []string{"/calendario/6800/2025.ics", "/calendario/68001/dosmil.ics", "/calendario/68001/1999.ics", "/calendario/68001%27%3B/2025.ics"} {
		if code, _, _ := get(bad); code != 400 {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
	if code, _, _ := get("/calendario/05001/2025.ics"); code != 404 {
		t.Errorf("municipality without rules: %d, want 404", code)
	}
	code, ctype, body = get("/calendario/68001/2025")
	if code != 200 || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, "Calendario tributario de Bucaramanga, 2025") ||
		!strings.Contains(body, `href="/calendario/68001/2025.ics"`) || !strings.Contains(body, "<caption>") || !strings.Contains(body, " de 2025") {
		t.Fatalf("calendar page: %d %s\n%.500s", code, ctype, body)
	}
	if code, _, _ := get("/calendario/68001/2025.pdf"); code != 404 {
		t.Errorf("unknown format: %d", code)
	}
}
