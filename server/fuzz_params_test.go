package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/datasets/datasetstest"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// fuzzRoutes are the public routes that read filters and paging from the
// query string: dataset exports and the JSON API, the CKAN actions, the
// diff, the dashboards and their chart data, the GEL ranking and the tax
// calendar.
var fuzzRoutes = []string{
	"/api/datos/liquidaciones",
	"/api/datos/pagos-diarios",
	"/datos/liquidaciones.csv",
	"/datos/recaudo-mensual.json",
	"/datos/liquidaciones/diferencias",
	"/api/3/action/datastore_search",
	"/api/3/action/package_search",
	"/datos",
	"/tableros/recaudo",
	"/graficos/recaudo/mensual.json",
	"/graficos/canales/pagos.csv",
	"/gobierno-en-linea/clasificacion",
	"/calendario/68001/2025",
}

// FuzzQueryParameters sends arbitrary query strings to the routes that
// parse filters and paging, on the embedded warehouse with the dataset
// fixture published: whatever the input, no panic and no 500. Bad input is
// a 400 with a message (or a 404 for an unknown release or page); the
// query text never reaches the SQL except as bound values (warehouse.Bind,
// fuzzed on its own in warehouse/bind_test.go), so a ClickHouse syntax
// error here would show as a 500.
//
//	go test -run '^$' -fuzz FuzzQueryParameters -fuzztime 2m ./server/
func FuzzQueryParameters(f *testing.F) {
	datasetstest.KeepCacheDir(f)
	datasets.CacheDir = f.TempDir()
	e := whtest.Embedded(f)
	datasetstest.Load(f, e)
	if _, err := datasets.Publish(datasetstest.Ctx(f), e, datasets.PublishOptions{}); err != nil {
		f.Fatal(err)
	}
	srv := httptest.NewServer(New(e, Options{Demo: true, RateLimits: &RateLimits{}}).Handler())
	f.Cleanup(srv.Close)

	for i := range fuzzRoutes {
		for _, q := range []string{
			"", "codigo_municipio=68001", "codigo_municipio=68001&vigencia=2024", "limite=100&despues=0",
			"limite=-1", "limite=99999999999999999999", "despues=abc", "version=0", "version=999999", "version=-3",
			"vigencia=2024'%20OR%201=1--", "codigo_municipio={x:String}", "codigo_municipio=%00", "desde=1&hasta=2",
			"municipio=68001&anio=2020&impuesto=predial", "anio=99999", "impuesto=<script>", "q=" + strings.Repeat("a", 3000),
			"filters=" + url.QueryEscape(`{"codigo_municipio":"68001"}`), "filters=" + url.QueryEscape(`{"x":`), "resource_id=liquidaciones&limit=5&offset=-5",
			"desde_fecha=2024-13-45&hasta_fecha=ayer", "vigencia=2024&vigencia=2025", "%zz=1", "perfil=excel&desde=1&hasta=1",
		} {
			f.Add(uint8(i), q)
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, rawQuery string) {
		path := fuzzRoutes[int(route)%len(fuzzRoutes)]
		resp, err := http.Get(srv.URL + path + "?" + rawQuery)
		if err != nil {
			// A query the client cannot even send (control characters)
			// never reaches the server.
			return
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		switch {
		case resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable:
			t.Fatalf("GET %s?%s: %d %s", path, rawQuery, resp.StatusCode, body)
		case resp.StatusCode == http.StatusBadRequest && len(strings.TrimSpace(string(body))) == 0:
			t.Fatalf("GET %s?%s: 400 without a message", path, rawQuery)
		}
	})
}
