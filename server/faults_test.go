package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/observatorio-civico/observatorio/dashboards"
	"github.com/observatorio-civico/observatorio/dashboards/dashtest"
	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/datasets/datasetstest"
	"github.com/observatorio-civico/observatorio/formato"
	"github.com/observatorio-civico/observatorio/stale"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

var noticeRe = regexp.MustCompile(`<p class="aviso aviso-cache" role="status">[^<]*</p>`)

// TestWarehouseOutageAnswers kills the ClickHouse server under the real
// server twice and looks at each answer closely: first before anything
// was read (every route that needs the warehouse: a clean 503 in its own
// shape, with Retry-After), then after pages and downloads were served
// (the same bytes from memory, marked stale, no validator honoured), and
// after each return (fresh again, with no restart). The load test of the
// binary (cmd/observatory, TestWarehouseKilledUnderLoad) checks the same
// under concurrency; this one checks the details.
func TestWarehouseOutageAnswers(t *testing.T) {
	datasetstest.KeepCacheDir(t)
	datasets.CacheDir = t.TempDir()
	eng, ch := whtest.Server(t)
	ctx := context.Background()
	began := time.Now().Add(-time.Second)
	if err := dashtest.Load(ctx, eng, dashtest.Options{Now: dashNow()}); err != nil {
		t.Fatal(err)
	}
	if _, err := dashboards.Refresh(ctx, eng, dashboards.RefreshOptions{K: 5, Now: dashNow}); err != nil {
		t.Fatal(err)
	}
	if _, err := datasets.Publish(ctx, eng, datasets.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(New(eng, Options{Demo: true, Now: dashNow, Metrics: reg}).Handler())
	t.Cleanup(srv.Close)
	get := func(path string, hdr map[string]string) (*http.Response, []byte) {
		t.Helper()
		return dashGet(t, srv.URL+path, hdr)
	}
	metric := func(name string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				m := mf.GetMetric()[0]
				if m.GetCounter() != nil {
					return m.GetCounter().GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
		t.Fatalf("no metric %s", name)
		return 0
	}
	waitReady := func(want int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			if r, _ := get("/readyz", nil); r.StatusCode == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz never answered %d", want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	unavailable := func(path, wantType string) []byte {
		t.Helper()
		r, b := get(path, nil)
		if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != stale.RetryAfter ||
			r.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(r.Header.Get("Content-Type"), wantType) {
			t.Errorf("%s: %d, Retry-After %q, Cache-Control %q, %s: %.200s", path, r.StatusCode, r.Header.Get("Retry-After"),
				r.Header.Get("Cache-Control"), r.Header.Get("Content-Type"), b)
		}
		return b
	}

	// 1. Down before anything was read: no copy of anything.
	ch.Kill()
	waitReady(http.StatusServiceUnavailable)
	for _, p := range []string{"/", "/tableros/recaudo", "/datos", "/datos/liquidaciones", "/gobierno-en-linea"} {
		if b := unavailable(p, "text/html"); !bytes.Contains(b, []byte("Almacén de datos no disponible")) || !bytes.Contains(b, []byte("no hay una copia reciente")) {
			t.Errorf("%s: the 503 page does not say why: %.300s", p, b)
		}
	}
	for _, p := range []string{"/graficos/recaudo-mensual.json", "/datos/liquidaciones.csv", "/datos/liquidaciones.csv?codigo_municipio=68001", "/data.json"} {
		unavailable(p, "text/plain")
	}
	var apiErr struct{ Error string }
	if err := json.Unmarshal(unavailable("/api/datos/liquidaciones?limite=5", "application/json"), &apiErr); err != nil || apiErr.Error != stale.UnavailableMessage {
		t.Errorf("API 503: %v %+v", err, apiErr)
	}
	var ckan struct {
		Success bool
		Error   struct{ Message string }
	}
	if err := json.Unmarshal(unavailable("/api/3/action/datastore_search?resource_id=pagos-diarios", "application/json"), &ckan); err != nil || ckan.Success || ckan.Error.Message == "" {
		t.Errorf("CKAN 503: %v %+v", err, ckan)
	}
	if r, _ := get("/healthz", nil); r.StatusCode != http.StatusOK {
		t.Errorf("/healthz during the outage: %d", r.StatusCode)
	}
	if metric("observatorio_almacen_disponible") != 0 || metric("observatorio_respuestas_sin_almacen_total") == 0 {
		t.Error("metrics do not show the outage")
	}

	// 2. Back: pages and downloads served fresh, then kept.
	ch.Restart(t)
	waitReady(http.StatusOK)
	fresh := map[string][]byte{}
	etags := map[string]string{}
	paths := []string{"/tableros/recaudo", "/tableros/canales?municipio=68001&anio=2020", "/graficos/recaudo-mensual.json",
		"/datos", "/datos/liquidaciones", "/datos/liquidaciones.csv", "/data.json", "/gobierno-en-linea"}
	for _, p := range paths {
		r, b := get(p, nil)
		if r.StatusCode != http.StatusOK || r.Header.Get(stale.DataHeader) != "" || noticeRe.Match(b) {
			t.Fatalf("%s after the return: %d, %q", p, r.StatusCode, r.Header.Get(stale.DataHeader))
		}
		fresh[p], etags[p] = b, r.Header.Get("ETag")
	}

	// 3. Down again: the same bytes from memory, marked.
	ch.Kill()
	waitReady(http.StatusServiceUnavailable)
	for _, p := range paths {
		hdr := map[string]string{}
		if etags[p] != "" {
			hdr["If-None-Match"] = etags[p] // a client's fresh copy is not confirmed
		}
		r, b := get(p, hdr)
		if r.StatusCode != http.StatusOK {
			t.Errorf("%s during the outage: %d %.200s", p, r.StatusCode, b)
			continue
		}
		h := r.Header
		if h.Get(stale.DataHeader) != stale.Cached || h.Get("Warning") != stale.Warning || h.Get("Cache-Control") != "no-store" ||
			h.Get("ETag") != "" || h.Get("Last-Modified") != "" || h.Get(stale.DataAtHeader) == "" {
			t.Errorf("%s during the outage: headers %v", p, h)
		}
		// The figures' time: when they were read, after the test began.
		at, err := time.Parse(time.RFC3339, h.Get(stale.DataAtHeader))
		if err != nil || at.Before(began.Truncate(time.Second)) || at.After(time.Now()) {
			t.Errorf("%s: %s %q", p, stale.DataAtHeader, h.Get(stale.DataAtHeader))
		}
		if strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			n := noticeRe.Find(b)
			if n == nil || !bytes.Contains(n, []byte("cifras al "+formato.DateTime(at))) {
				t.Errorf("%s: no stale notice with the figures' time (%s): %s", p, formato.DateTime(at), n)
			}
			b = noticeRe.ReplaceAll(b, []byte(stale.Slot))
		}
		if !bytes.Equal(b, fresh[p]) {
			t.Errorf("%s during the outage: not the bytes served before (notice aside)", p)
		}
	}
	unavailable("/datos/liquidaciones.csv?codigo_municipio=68001", "text/plain") // an export reads the warehouse
	if metric("observatorio_respuestas_en_cache_total") < float64(len(paths)) {
		t.Errorf("stale responses counted: %v", metric("observatorio_respuestas_en_cache_total"))
	}

	// 4. Back again, nothing restarted: fresh, and validators work again.
	ch.Restart(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, b := get("/tableros/recaudo", nil)
		if r.StatusCode == http.StatusOK && r.Header.Get(stale.DataHeader) == "" {
			if !bytes.Equal(b, fresh["/tableros/recaudo"]) {
				t.Error("the page after the second return differs from the first")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still stale 20 s after ClickHouse came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r, _ := get("/graficos/recaudo-mensual.json", map[string]string{"If-None-Match": etags["/graficos/recaudo-mensual.json"]}); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match after the return: %d", r.StatusCode)
	}
	if r, _ := get("/datos/liquidaciones.csv?codigo_municipio=68001", nil); r.StatusCode != http.StatusOK {
		t.Errorf("export after the return: %d", r.StatusCode)
	}
	if metric("observatorio_almacen_disponible") != 1 || metric("observatorio_almacen_caidas_total") != 2 {
		t.Errorf("metrics after the return: disponible %v, caídas %v", metric("observatorio_almacen_disponible"), metric("observatorio_almacen_caidas_total"))
	}
}
