package server

import (
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/dashboards"
	"github.com/observatorio-civico/observatorio/dashboards/dashtest"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

var dashNow = func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }

var (
	dashOnce sync.Once
	dashEng  warehouse.Engine
	dashErr  error
)

// dashServer starts the real server over the embedded warehouse with the
// dashboards' fixture (evil names included) and its aggregates computed.
// The warehouse is shared by the tests of the package that need it.
func dashServer(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(dashHandler(t, opts))
	t.Cleanup(srv.Close)
	return srv
}

// dashHandler is dashServer's handler, for tests that put something in
// front of it.
func dashHandler(t *testing.T, opts Options) http.Handler {
	t.Helper()
	eng := whtest.Embedded(t)
	ctx := context.Background()
	if err := dashtest.Load(ctx, eng, dashtest.Options{Evil: true, Now: dashNow()}); err != nil {
		t.Fatal(err)
	}
	if _, err := dashboards.Refresh(ctx, eng, dashboards.RefreshOptions{K: 5, Now: dashNow}); err != nil {
		t.Fatal(err)
	}
	opts.Demo, opts.Now = true, dashNow
	return New(eng, opts).Handler()
}

func dashGet(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestDashboardRoutes checks the HTTP side of the dashboards: every page
// and chart answers, selections redirect to canonical links, data
// responses carry ETags and honour If-None-Match, large responses go
// gzipped, the CSV is what the chart shows, embed mode relaxes only
// frame-ancestors, and static files are cached by content hash.
func TestDashboardRoutes(t *testing.T) {
	srv := dashServer(t, Options{EmbedFrameAncestors: []string{"https://www.periodico.example"}})
	base := srv.URL

	for _, id := range dashboards.DashboardIDs() {
		resp, body := dashGet(t, base+"/tableros/"+id, nil)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("/tableros/%s: %d %s", id, resp.StatusCode, body)
		}
		page := string(body)
		if strings.Contains(page, "<script>") || !strings.Contains(page, `lang="es-CO"`) || !strings.Contains(page, "Cómo se calcula") {
			t.Errorf("/tableros/%s: inline script or missing parts", id)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.HasSuffix(csp, "frame-ancestors 'self'") {
			t.Errorf("/tableros/%s: CSP %q", id, csp)
		}
		for _, cid := range dashboards.ChartIDs(id) {
			r, b := dashGet(t, base+"/graficos/"+id+"/"+cid+".json", nil)
			if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json; charset=utf-8" || r.Header.Get("ETag") == "" || !json.Valid(b) {
				t.Errorf("%s/%s.json: %d %v", id, cid, r.StatusCode, r.Header)
			}
		}
	}

	// A name redirects to the canonical link; the form's empty fields go.
	resp, _ := dashGet(t, base+"/tableros/canales?municipio=bucaramanga&anio=2020&impuesto=", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tableros/canales?municipio=68001&anio=2020" {
		t.Errorf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := dashGet(t, base+"/tableros/canales?municipio=santa+rosa&anio=2020", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Varios municipios coinciden") ||
		!strings.Contains(string(body), "/tableros/canales?municipio=13683&amp;anio=2020") || !strings.Contains(string(body), "municipio=19701") {
		t.Errorf("ambiguous name: %d", resp.StatusCode)
	}
	if resp, _ := dashGet(t, base+"/tableros/canales?anio=dos", nil); resp.StatusCode != 400 {
		t.Errorf("bad year: %d", resp.StatusCode)
	}
	if resp, _ := dashGet(t, base+"/tableros/nada", nil); resp.StatusCode != 404 {
		t.Errorf("unknown dashboard: %d", resp.StatusCode)
	}
	if resp, _ := dashGet(t, base+"/graficos/recaudo/nada.json", nil); resp.StatusCode != 404 {
		t.Errorf("unknown chart: %d", resp.StatusCode)
	}

	// ETag and 304; gzip.
	u := base + "/graficos/canales/pagos.json?municipio=68001&anio=2020"
	resp, body = dashGet(t, u, nil)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || etag == "" || !strings.Contains(string(body), `"Electrónicos · Predial"`) {
		t.Fatalf("chart: %d %q", resp.StatusCode, etag)
	}
	if resp, _ := dashGet(t, u, map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", resp.StatusCode)
	}
	resp, zbody := dashGet(t, base+"/tableros/canales?municipio=68001&anio=2020", map[string]string{"Accept-Encoding": "gzip"})
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("page not gzipped: %v", resp.Header)
	} else {
		zr, err := gzip.NewReader(strings.NewReader(string(zbody)))
		if err != nil {
			t.Fatal(err)
		}
		html, _ := io.ReadAll(zr)
		for _, want := range []string{"6.263", "1.727", "2.960", "1.576", "5.638", "250", "5.388", "3.er trimestre de 2020"} {
			if !strings.Contains(string(html), "<td>"+want+"</td>") && !strings.Contains(string(html), ">"+want+"<") {
				t.Errorf("Canales page lacks %s", want)
			}
		}
	}

	// The CSV behind the chart, with the filters as columns.
	resp, body = dashGet(t, base+"/graficos/canales/declaraciones.csv?municipio=68001&anio=2020", nil)
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || resp.Header.Get("Content-Disposition") != `attachment; filename="canales-declaraciones-68001-2020.csv"` {
		t.Fatalf("CSV: %v %v", err, resp.Header)
	}
	if last := recs[len(recs)-1]; len(recs) != 3 || last[3] != "2020-07-01" || last[4] != "250" || last[5] != "5388" || last[6] != "5638" || last[7] != "40" {
		t.Errorf("CSV = %v", recs)
	}

	// Embed mode: the configured newsroom may frame the page; nothing else
	// in the policy changes.
	resp, body = dashGet(t, base+"/tableros/recaudo?municipio=68001&embed=1", nil)
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.HasSuffix(csp, "frame-ancestors 'self' https://www.periodico.example") || !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("embed CSP %q", csp)
	}
	if !strings.Contains(string(body), `class="insertado"`) || strings.Contains(string(body), `class="tableros"`) {
		t.Error("embed page has the site's menu")
	}

	// The home page keeps its chart and its dataset link.
	resp, body = dashGet(t, base+"/", nil)
	for _, want := range []string{`data-grafico="/graficos/recaudo-mensual.json"`, "Recaudo mensual por municipio", "Bucaramanga (68001)", "/static/vendor/echarts/echarts.min.js?v="} {
		if !strings.Contains(string(body), want) {
			t.Errorf("home lacks %q", want)
		}
	}

	// Static files: versioned URL → a year of caching.
	resp, _ = dashGet(t, base+"/static/graficos.js", nil)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
		t.Errorf("static: %d %v", resp.StatusCode, resp.Header)
	}

	// Search over DIVIPOLA names, accents optional.
	resp, body = dashGet(t, base+"/tableros/municipios.json?q=caqueza", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"codigo":"25151"`) {
		t.Errorf("search: %d %s", resp.StatusCode, body)
	}
}
