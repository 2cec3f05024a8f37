package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/dashboards"
	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/datasets/datasetstest"
	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/etl/demo"
	"github.com/observatorio-civico/observatorio/server"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestAgainstTheObservatory discovers the routes of the real server (on
// the embedded engine, with a small demo loaded the way `serve` loads it;
// without the GEL demo, whose cold pages and feeds take seconds each)
// and loads it for a second with a few clients: every class has routes,
// every dataset is downloaded whole and filtered, and nothing fails. This
// keeps the tool in step with the routes; the measurements themselves are
// scripts/loadtest.sh's.
func TestAgainstTheObservatory(t *testing.T) {
	eng := whtest.Embedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	datasetstest.KeepCacheDir(t)
	datasets.CacheDir = t.TempDir()
	if _, err := warehouse.SeedEntities(ctx, eng); err != nil {
		t.Fatal(err)
	}
	p, err := etl.NewPseudonymizer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	o := demo.DefaultOptions()
	o.Scale, o.FirstYear = 0.05, 2023
	if _, err := etl.LoadDemo(ctx, eng, p, o); err != nil {
		t.Fatal(err)
	}
	if _, err := datasets.Publish(ctx, eng, datasets.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := dashboards.Refresh(ctx, eng, dashboards.RefreshOptions{K: datasets.DefaultK}); err != nil {
		t.Fatal(err)
	}
	// The default limits, with loopback a trusted proxy as in the default
	// configuration: each client, and discovery, name their own address.
	srv := httptest.NewServer(server.New(eng, server.Options{Demo: true, TrustedProxies: []string{"127.0.0.1", "::1"}}).Handler())
	defer srv.Close()

	pl, err := discover(ctx, &http.Client{Timeout: time.Minute}, srv.URL, discoverOptions{municipalities: []string{"18001", "68001", "25151"}, years: []int{2024}, workers: 4, apiPages: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range classOrder {
		if len(pl.targets[c]) == 0 {
			t.Errorf("clase %s sin rutas", c)
		}
	}
	has := func(class, path string) bool {
		for _, tg := range pl.targets[class] {
			if tg.path == path {
				return true
			}
		}
		return false
	}
	for _, ds := range datasets.Catalog {
		if !has(classFiles, "/datos/"+ds.ID+".csv") || !has(classPages, "/datos/"+ds.ID) {
			t.Errorf("%s: sin página o sin descarga completa", ds.ID)
		}
	}
	for _, want := range []struct{ class, path string }{
		{classExports, "/datos/liquidaciones.csv?codigo_municipio=68001&vigencia=2024"},
		{classExports, "/datos/pagos-diarios.json?codigo_municipio=18001&desde_fecha=2024-01-01&hasta_fecha=2024-12-31"},
		{classAPI, "/api/datos/liquidaciones?limite=100&codigo_municipio=25151"},
		{classPages, "/tableros/recaudo?municipio=68001&anio=2024"},
		{classPages, "/tableros/recaudo?municipio=68001&anio=2024&impuesto=ica"},
		{classPages, "/calendario/68001/2024"},
	} {
		if !has(want.class, want.path) {
			t.Errorf("%s: falta %s", want.class, want.path)
		}
	}
	if n := len(pl.targets[classCharts]); n < 10 {
		t.Errorf("solo %d gráficos descubiertos en las páginas", n)
	}

	mix, _ := parseMix(defaultMix)
	res := run(ctx, loadClient(3), pl, runOptions{base: srv.URL, clients: 3, duration: time.Second, timeout: time.Minute, mix: mix, seed: 3, ownAddress: true})
	// Three clients downloading for a second may pass the downloads
	// burst (30 a client) on a fast machine: a refusal that says when to
	// come back is the limit at work, not a broken route. Every other
	// failure counts, and every class must have answered.
	for c, r := range res.classes {
		s := summarize(c, r, res.elapsed)
		limited := 0
		for _, e := range s.ErrorList {
			if e.What == "HTTP 429 con Retry-After" {
				limited = e.Count
			}
		}
		if s.Errors > limited {
			t.Errorf("%s: %d errores: %+v", c, s.Errors, s.ErrorList)
		}
		if s.Requests == 0 || s.Requests == limited {
			t.Errorf("%s: %d solicitudes, %d limitadas: ninguna respondida", c, s.Requests, limited)
		}
	}
}
