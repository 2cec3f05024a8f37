package datasets_test

import (
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/datasets/datasetstest"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestAggregatesSameInSlices: the aggregate queries that group by taxpayer
// give the same cells, to the last digit of every measure, contributor
// count and top contribution, whether the taxpayers go in one statement
// or are split into slices whose cells are added up (slices.go).
func TestAggregatesSameInSlices(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := datasetstest.Ctx(t)
		datasetstest.Load(t, e)
		cutoff := time.Now().Add(time.Hour)
		whole, err := datasets.SlicedQueries(ctx, e, cutoff, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(whole) < 6 {
			t.Fatalf("%d consultas divididas por contribuyente, se esperaban 6", len(whole))
		}
		for _, slices := range []uint64{2, 7} {
			sliced, err := datasets.SlicedQueries(ctx, e, cutoff, slices)
			if err != nil {
				t.Fatal(err)
			}
			for name, w := range whole {
				want, got := w, sliced[name]
				if len(w) < 10 {
					t.Fatalf("%s: %d celdas; la prueba necesita más", name, len(w))
				}
				if len(got) != len(want) {
					t.Errorf("%s en %d tajadas: %d celdas, sin dividir %d", name, slices, len(got), len(want))
					continue
				}
				for i := range want {
					if got[i] != want[i] {
						t.Errorf("%s en %d tajadas:\n  %s\nsin dividir:\n  %s", name, slices, got[i], want[i])
						break
					}
				}
			}
		}
	})
}
