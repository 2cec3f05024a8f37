package dashboards

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/observatorio-civico/observatorio/dashboards/dashtest"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkCachedChartData is the work of one request for cached chart
// data (no HTTP server, no network): the hot path of the 64-client
// benchmark in BENCHMARKS.md.
func BenchmarkCachedChartData(b *testing.B) {
	eng := whtest.Embedded(b)
	ctx := context.Background()
	if err := dashtest.Load(ctx, eng, dashtest.Options{}); err != nil {
		b.Fatal(err)
	}
	s := NewSite(eng, SiteOptions{Now: testNow, StampEvery: -1, RefreshEvery: -1, Live: true})
	req := httptest.NewRequest("GET", "/graficos/canales/pagos.json?municipio=68001&anio=2020", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	if r := s.ChartFile(ctx, "canales", "pagos.json", req.URL.RawQuery); r.Status != 200 {
		b.Fatalf("status %d", r.Status)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discard{h: http.Header{}}
		for pb.Next() {
			s.ChartFile(ctx, "canales", "pagos.json", req.URL.RawQuery).Write(w, req)
		}
	})
}
