package dashboards

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/warehouse"
)

func decp(s string) *decimal.Decimal {
	d := decimal.RequireFromString(s)
	return &d
}

const evil = `</script><script>alert(1)</script>__f__function(){alert(2)}__f__`

func sampleChart() *xyChart {
	return &xyChart{
		ID: "prueba", Title: "Recaudo de " + evil, Subtitle: "Pesos",
		Caption: "Tabla", CatHeader: "Mes", CatColumn: "mes",
		Cats:     []string{"ene. 2024", "feb. 2024", evil},
		CatNames: []string{"enero de 2024", "febrero de 2024", evil},
		CatRaw:   []string{"2024-01", "2024-02", "=HYPERLINK(\"x\")"},
		Axes:     []valueAxis{{Name: "Pesos", Format: fmtPesos}, {Name: "%", Format: fmtPorcentaje}},
		Series: []serie{
			{Name: evil, Column: "recaudo", Format: fmtPesos, Values: []*decimal.Decimal{decp("2000000.5"), nil, decp("-25000")}},
			{Name: "Tasa", Column: "tasa", Kind: "line", Axis: 1, Format: fmtPorcentaje, Values: []*decimal.Decimal{decp("87.3"), decp("100"), nil}, Missing: "no calculable"},
			{Name: "Pagos", Column: "pagos", Format: fmtNumero, TableOnly: true, Values: []*decimal.Decimal{decp("6263"), decp("0"), decp("1")}},
		},
		Context: [][2]string{{"municipio", "@SUM(A1)"}},
	}
}

func TestChartOptionIsInertJSONWithAccessibility(t *testing.T) {
	c, err := sampleChart().build()
	if err != nil {
		t.Fatal(err)
	}
	assertInert(t, c.Option)
	var m map[string]any
	if err := json.Unmarshal(c.Option, &m); err != nil {
		t.Fatal(err)
	}
	aria := m["aria"].(map[string]any)
	if aria["enabled"] != true || aria["decal"].(map[string]any)["show"] != true {
		t.Fatalf("aria = %v", aria)
	}
	desc := aria["label"].(map[string]any)["description"].(string)
	if !strings.HasPrefix(desc, "Gráfico de barras: Recaudo de ") || !strings.Contains(desc, "3 categorías") {
		t.Errorf("description %q", desc)
	}
	// The "__f__" string stays a string: nothing turns it into a function.
	series := m["series"].([]any)
	if len(series) != 2 {
		t.Fatalf("%d series drawn, want 2 (the table-only one is not drawn)", len(series))
	}
	if name := series[0].(map[string]any)["name"]; name != evil {
		t.Errorf("series name = %q", name)
	}
	line := series[1].(map[string]any)
	if line["type"] != "line" || line["yAxisIndex"] != float64(1) || line["lineStyle"].(map[string]any)["type"] != "solid" || line["symbol"] != "circle" {
		t.Errorf("line series = %v", line)
	}
	data := series[0].(map[string]any)["data"].([]any)
	if v := data[0].(map[string]any)["value"]; v != 2000000.5 {
		t.Errorf("first value = %v (exact decimal as a JSON number)", v)
	}
	if v := data[1].(map[string]any)["value"]; v != "-" {
		t.Errorf("withheld value = %v, want \"-\"", v)
	}
	side := m["observatorio"].(map[string]any)
	if dump(side["series"]) != `["pesos","porcentaje"]` || dump(side["ejes"]) != `{"yAxis":["pesos","porcentaje"]}` {
		t.Errorf("formats = %v", side)
	}
	if m["title"].(map[string]any)["show"] != false {
		t.Error("the page shows the title; the canvas should not")
	}
	if _, ok := m["toolbox"]; ok {
		t.Error("saving is the page's button, not the toolbox")
	}
	if y := m["yAxis"].([]any); len(y) != 2 || y[1].(map[string]any)["position"] != "right" {
		t.Errorf("yAxis = %v", y)
	}

	// The table mirrors the chart, in Spanish formats.
	wantRows := [][]string{
		{"enero de 2024", "$ 2.000.000,50", "87,3 %", "6.263"},
		{"febrero de 2024", "reservado", "100,0 %", "0"},
		{evil, "-$ 25.000", "no calculable", "1"},
	}
	if sp(dump(c.Table.Rows)) != dump(wantRows) || dump(c.Table.Header) != dump([]string{"Mes", evil, "Tasa", "Pagos"}) {
		t.Errorf("table = %v %v", c.Table.Header, c.Table.Rows)
	}
	// The CSV has raw values; text a spreadsheet would run is defused.
	recs, err := csv.NewReader(strings.NewReader(string(c.csv))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"municipio", "mes", "recaudo", "tasa", "pagos"},
		{"'@SUM(A1)", "2024-01", "2000000.5", "87.3", "6263"},
		{"'@SUM(A1)", "2024-02", "", "100", "0"},
		{"'@SUM(A1)", `'=HYPERLINK("x")`, "-25000", "", "1"},
	}
	if dump(recs) != dump(want) {
		t.Errorf("CSV = %v", recs)
	}
}

func TestHorizontalChartAndMismatch(t *testing.T) {
	x := &xyChart{ID: "h", Title: "T", CatHeader: "M", CatColumn: "m", Cats: []string{"a", "b"}, Horizontal: true,
		Axes:   []valueAxis{{Format: fmtPorcentaje, Max: 100}},
		Series: []serie{{Name: "s", Column: "s", Format: fmtPorcentaje, Values: []*decimal.Decimal{decp("1"), decp("2")}}}}
	c, err := x.build()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(c.Option, &m)
	xa := m["xAxis"].([]any)[0].(map[string]any)
	ya := m["yAxis"].([]any)[0].(map[string]any)
	if xa["type"] != "value" || xa["max"] != float64(100) || ya["type"] != "category" || ya["inverse"] != true {
		t.Errorf("axes: x %v, y %v", xa, ya)
	}
	if dump(m["observatorio"].(map[string]any)["ejes"]) != `{"xAxis":["porcentaje"]}` {
		t.Errorf("formats %v", m["observatorio"])
	}
	x.Series[0].Values = x.Series[0].Values[:1]
	if _, err := x.build(); err == nil {
		t.Error("a series shorter than the categories must be an error")
	}
}

// relative luminance and contrast ratio, WCAG 2.x.
func contrast(hex1, hex2 string) float64 {
	lum := func(h string) float64 {
		var c [3]float64
		for i := range c {
			v, _ := strconv.ParseUint(h[1+2*i:3+2*i], 16, 8)
			s := float64(v) / 255
			if s <= 0.03928 {
				c[i] = s / 12.92
			} else {
				c[i] = math.Pow((s+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
	}
	a, b := lum(hex1), lum(hex2)
	if a < b {
		a, b = b, a
	}
	return (a + 0.05) / (b + 0.05)
}

func TestPaletteContrast(t *testing.T) {
	if len(Palette) < 6 {
		t.Fatalf("palette of %d colours; charts use up to 6 series", len(Palette))
	}
	for _, c := range Palette {
		if r := contrast(c, "#ffffff"); r < 3 {
			t.Errorf("%s on white: contrast %.2f < 3", c, r)
		}
	}
	if r := contrast("#595959", "#ffffff"); r < 4.5 {
		t.Errorf("notes text contrast %.2f", r)
	}
}

func TestSpanishFormats(t *testing.T) {
	cases := map[string]string{
		"0": "$ 0", "999": "$ 999", "1000": "$ 1.000", "1234567": "$ 1.234.567",
		"1234.5": "$ 1.234,50", "-25000": "-$ 25.000", "100000000000": "$ 100.000.000.000",
	}
	for in, want := range cases {
		if got := sp(Pesos(decimal.RequireFromString(in))); got != want {
			t.Errorf("Pesos(%s) = %q, want %q", in, got, want)
		}
	}
	if got := Number(6263); got != "6.263" {
		t.Errorf("Number = %q", got)
	}
	if got := Date(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)); got != "21 de noviembre de 2026" {
		t.Errorf("Date = %q", got)
	}
	sep := time.Date(2020, 9, 1, 0, 0, 0, 0, time.UTC)
	if got := ShortMonth(sep); got != "sep. 2020" {
		t.Errorf("ShortMonth = %q", got)
	}
	for in, want := range map[string]string{"89.947": "89,9 %", "100": "100,0 %", "1234.56": "1.234,6 %", "-0.04": "0,0 %", "-2.5": "-2,5 %"} {
		if got := sp(Percent(decimal.RequireFromString(in))); got != want {
			t.Errorf("Percent(%s) = %q, want %q", in, got, want)
		}
	}
	if got := Quarter(sep); got != "3.er trimestre de 2020" {
		t.Errorf("Quarter = %q", got)
	}
	if got := Quarter(time.Date(2020, 12, 1, 0, 0, 0, 0, time.UTC)); got != "4.º trimestre de 2020" {
		t.Errorf("Quarter = %q", got)
	}
	if got := ShortQuarter(sep); got != "T3 2020" {
		t.Errorf("ShortQuarter = %q", got)
	}
	for in, want := range map[string]string{"SAN JOSÉ DE LA FRAGUA": "San José de la Fragua", "BOGOTÁ. D.C.": "Bogotá. D.C.", "CÁQUEZA": "Cáqueza", "EL CARMEN DE VIBORAL": "El Carmen de Viboral"} {
		if got := PlaceName(in); got != want {
			t.Errorf("PlaceName(%q) = %q, want %q", in, got, want)
		}
	}
}

func testDirectory() *Directory {
	res := &warehouse.Result{Columns: []warehouse.Column{{Name: "codigo"}, {Name: "nombre"}, {Name: "departamento"}, {Name: "tipo"}}, Rows: [][]any{
		{"11001", "BOGOTÁ. D.C.", "BOGOTÁ. D.C.", "Municipio"},
		{"68001", "BUCARAMANGA", "SANTANDER", "Municipio"},
		{"25151", "CÁQUEZA", "CUNDINAMARCA", "Municipio"},
		{"05001", "MEDELLÍN", "ANTIOQUIA", "Municipio"},
		{"15001", "TUNJA", "BOYACÁ", "Municipio"},
		{"54001", "SAN JOSÉ DE CÚCUTA", "NORTE DE SANTANDER", "Municipio"},
		{"25754", "SOACHA", "CUNDINAMARCA", "Municipio"},
		{"68679", "SAN GIL", "SANTANDER", "Municipio"},
		{"05656", "SAN JERÓNIMO", "ANTIOQUIA", "Municipio"},
	}}
	return newDirectory(res)
}

func TestSearchAndFilters(t *testing.T) {
	d := testDirectory()
	if got := d.Search("bogota", 5); len(got) != 1 || got[0].Code != "11001" {
		t.Errorf("bogota → %v", got)
	}
	if got := d.Search("caqueza", 5); len(got) != 1 || got[0].Label != "Cáqueza, Cundinamarca (25151)" {
		t.Errorf("caqueza → %+v", got)
	}
	if got := d.Search("san", 10); len(got) != 4 || got[3].Code != "68001" {
		t.Errorf("san → names that start with it before Bucaramanga (Santander): %v", got)
	}
	parse := func(q string) (Filters, *filterProblem) {
		v, _ := url.ParseQuery(q)
		return parseFilters(v, d, "/tableros/recaudo")
	}
	if f, p := parse("municipio=68001&anio=2020&impuesto=ica"); p != nil || f.values() != "municipio=68001&anio=2020&impuesto=ica" {
		t.Errorf("canonical: %+v %+v", f, p)
	}
	if _, p := parse("municipio=bucaramanga&anio=2020"); p == nil || p.Redirect != "/tableros/recaudo?municipio=68001&anio=2020" {
		t.Errorf("a name redirects to the code: %+v", p)
	}
	if _, p := parse("municipio=" + url.QueryEscape("Cáqueza, Cundinamarca (25151)")); p == nil || p.Redirect != "/tableros/recaudo?municipio=25151" {
		t.Errorf("the search label redirects: %+v", p)
	}
	if _, p := parse("municipio=san"); p == nil || p.Status != 200 || len(p.Candidates) != 4 {
		t.Errorf("ambiguous: %+v", p)
	}
	if _, p := parse("municipio=zzzz"); p == nil || p.Status != 404 {
		t.Errorf("unknown name: %+v", p)
	}
	if _, p := parse("municipio=99999"); p == nil || p.Status != 404 {
		t.Errorf("unknown code: %+v", p)
	}
	for _, q := range []string{"anio=20x", "anio=1500", "impuesto=iva"} {
		if _, p := parse(q); p == nil || p.Status != 400 {
			t.Errorf("%s: %+v", q, p)
		}
	}
	if f, _ := parse("embed=1&grafico=mensual"); !f.Embed || f.Grafico != "mensual" || f.values() != "embed=1&grafico=mensual" {
		t.Errorf("embed: %+v", f)
	}
}

func TestCacheSingleFlightInvalidationAndEviction(t *testing.T) {
	c := NewCache(8)
	ctx := context.Background()
	var calls atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.Get(ctx, "k", func(context.Context) (any, error) {
				calls.Add(1)
				<-release
				return "v", nil
			})
			if err != nil || v != "v" {
				t.Errorf("Get = %v, %v", v, err)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if calls.Load() != 1 {
		t.Errorf("%d computations for 10 concurrent misses", calls.Load())
	}
	build := func(v string) func(context.Context) (any, error) {
		return func(context.Context) (any, error) { calls.Add(1); return v, nil }
	}
	if v, _ := c.Get(ctx, "k", build("otro")); v != "v" {
		t.Errorf("hit = %v", v)
	}
	Invalidate() // the process-wide call the ETL makes
	if v, _ := c.Get(ctx, "k", build("nuevo")); v != "nuevo" {
		t.Errorf("after Invalidate = %v", v)
	}
	c.Invalidate()
	if c.Len() != 0 {
		t.Errorf("%d entries after Invalidate", c.Len())
	}
	// Errors are not kept.
	if _, err := c.Get(ctx, "e", func(context.Context) (any, error) { return nil, errors.New("x") }); err == nil {
		t.Error("error lost")
	}
	if v, err := c.Get(ctx, "e", build("ok")); err != nil || v != "ok" {
		t.Errorf("after error: %v %v", v, err)
	}
	// A value computed while the cache was invalidated is not kept.
	c.Get(ctx, "tarde", func(context.Context) (any, error) { c.Invalidate(); return "viejo", nil })
	if v, _ := c.Get(ctx, "tarde", build("fresco")); v != "fresco" {
		t.Errorf("stale value kept: %v", v)
	}
	for i := 0; i < 20; i++ {
		c.Get(ctx, "x"+strconv.Itoa(i), build("x"))
	}
	if c.Len() > 8 {
		t.Errorf("%d entries, bound 8", c.Len())
	}
}

func TestResponseETagAndGzip(t *testing.T) {
	body := NewBody("application/json; charset=utf-8", []byte(strings.Repeat(`{"a":1},`, 500)))
	r := &Response{Status: 200, Body: body, Header: http.Header{}}
	get := func(h map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/x", nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		r.Write(w, req)
		return w
	}
	w := get(nil)
	if w.Code != 200 || w.Header().Get("ETag") == "" || w.Body.Len() != len(body.Data) || w.Header().Get("Content-Encoding") != "" {
		t.Fatalf("plain: %d %v %d", w.Code, w.Header(), w.Body.Len())
	}
	if w := get(map[string]string{"If-None-Match": body.ETag}); w.Code != 304 || w.Body.Len() != 0 {
		t.Errorf("conditional: %d", w.Code)
	}
	if w := get(map[string]string{"If-None-Match": `"otro"`}); w.Code != 200 {
		t.Errorf("other etag: %d", w.Code)
	}
	w = get(map[string]string{"Accept-Encoding": "br, gzip"})
	if w.Header().Get("Content-Encoding") != "gzip" || w.Body.Len() >= len(body.Data)/4 || w.Header().Get("Vary") != "Accept-Encoding" {
		t.Errorf("gzip: %v, %d bytes", w.Header(), w.Body.Len())
	}
}

func TestAssetsAreVersionedAndCompressed(t *testing.T) {
	u := assetURL("vendor/echarts/echarts.min.js")
	if !strings.HasPrefix(u, "/static/vendor/echarts/echarts.min.js?v=") {
		t.Fatalf("asset URL %q", u)
	}
	h := AssetHandler()
	req := httptest.NewRequest("GET", u, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 200 || w.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(w.Header().Get("Cache-Control"), "immutable") {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	if w.Body.Len() > 450_000 {
		t.Errorf("echarts.min.js gzipped is %d bytes", w.Body.Len())
	}
	for _, p := range []string{"/static/../templates/base.html", "/static/nada.js"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != 404 {
			t.Errorf("%s: %d", p, w.Code)
		}
	}
}

func TestEmbedFramePolicy(t *testing.T) {
	s := &Site{o: SiteOptions{FrameAncestors: []string{"https://www.eltiempo.com", "https://x.com; script-src *"}}}
	if got := s.CSP(true); !strings.HasSuffix(got, "frame-ancestors 'self' https://www.eltiempo.com") {
		t.Errorf("embed CSP %q", got)
	}
	if got := s.CSP(false); !strings.HasSuffix(got, "frame-ancestors 'self'") || strings.Contains(got, "unsafe") {
		t.Errorf("page CSP %q", got)
	}
	s.o.FrameAncestors = nil
	if got := s.CSP(true); !strings.HasSuffix(got, "frame-ancestors *") {
		t.Errorf("default embed CSP %q", got)
	}
}
