package geldemo

import (
	"context"
	"testing"

	"github.com/observatorio-civico/observatorio/analytics/gel"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// BenchmarkReport is what an entity page costs without the page cache,
// on the embedded engine, over the demo set (33 municipalities, 1,563
// rows): the phases of every entity, the entity's criteria, series,
// actions and the lookups. go test -run '^$' -bench . ./analytics/gel/geldemo
func BenchmarkReport(b *testing.B) {
	e := whtest.Embedded(b)
	ctx := context.Background()
	if _, err := warehouse.SeedEntities(ctx, e); err != nil {
		b.Fatal(err)
	}
	if _, err := Load(ctx, e); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := gel.Report(ctx, e, "25151", "gel2008", date("2012-12-31")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvents is what an entity's feed costs without the cache.
func BenchmarkEvents(b *testing.B) {
	e := whtest.Embedded(b)
	ctx := context.Background()
	if _, err := warehouse.SeedEntities(ctx, e); err != nil {
		b.Fatal(err)
	}
	if _, err := Load(ctx, e); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := gel.Events(ctx, e, "25151", date("2026-11-21")); err != nil {
			b.Fatal(err)
		}
	}
}
