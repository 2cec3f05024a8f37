package datasets_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/datasets/datasetstest"
	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/etl/demo"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestPublish: the first publication makes one release of every dataset;
// publishing again without new data makes none; new data makes releases of
// the datasets it changes only, with new numbers, and the old releases stay.
func TestPublish(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := datasetstest.Ctx(t)
		f := datasetstest.Load(t, e)
		if len(f.Releases) != len(datasets.Catalog) {
			t.Fatalf("primera publicación: %d versiones, se esperaban %d", len(f.Releases), len(datasets.Catalog))
		}
		for _, r := range f.Releases {
			if r.Number != 1 || r.Rows == 0 {
				t.Errorf("%s: versión %d con %d filas", r.Dataset, r.Number, r.Rows)
			}
			for _, want := range []string{datasets.FormatCSV, datasets.FormatExcel, "datapackage"} {
				if !r.HasFormat(want) {
					t.Errorf("%s: falta el archivo %s", r.Dataset, want)
				}
			}
			if r.HasFormat(datasets.FormatParquet) != datasets.ParquetSupported(ctx, e) {
				t.Errorf("%s: Parquet %v, el motor lo escribe: %v", r.Dataset, r.HasFormat(datasets.FormatParquet), datasets.ParquetSupported(ctx, e))
			}
			t.Logf("%s v%d: %d filas, %d/%d celdas suprimidas %v, %d filas suprimidas", r.Dataset, r.Number, r.Rows,
				r.Disclosure.CellsSuppressed, r.Disclosure.Cells, r.Disclosure.ByReason, r.Disclosure.RowsSuppressed)
		}
		again, err := datasets.Publish(ctx, e, datasets.PublishOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != 0 {
			t.Fatalf("sin datos nuevos se publicaron %d versiones (%s…)", len(again), again[0].Dataset)
		}
		// A second ETL run: more payments and liquidations.
		p, _ := etl.NewPseudonymizer(datasetstest.Key)
		o := demo.DefaultOptions()
		o.Seed, o.Scale, o.FirstYear = 7, 0.05, 2024
		if _, err := etl.LoadDemo(ctx, e, p, o); err != nil {
			t.Fatal(err)
		}
		next, err := datasets.Publish(ctx, e, datasets.PublishOptions{})
		if err != nil {
			t.Fatal(err)
		}
		changed := map[string]uint32{}
		for _, r := range next {
			changed[r.Dataset] = r.Number
		}
		for _, id := range []string{"liquidaciones", "pagos-diarios", "recaudo-mensual", "ejecuciones-etl"} {
			if changed[id] != 2 {
				t.Errorf("%s: tras la segunda carga, versión %d (se esperaba la 2)", id, changed[id])
			}
		}
		for _, id := range []string{"entidades", "avance-gel"} {
			if _, ok := changed[id]; ok {
				t.Errorf("%s no cambió y se publicó otra versión", id)
			}
		}
		all, err := datasets.Releases(ctx, e, "liquidaciones")
		if err != nil || len(all) != 2 || all[0].Number != 2 || all[1].Number != 1 {
			t.Fatalf("historial de liquidaciones: %+v, %v", all, err)
		}
	})
}

// TestReleaseRecheckedForKAnonymity: the classes of a record-level release
// are counted by a statement of their own before the build; if what the
// build stored still had a class with fewer than k taxpayers (here the
// withheld classes are forgotten on purpose), the release is refused
// before it is recorded, and the latest release stays the one before.
func TestReleaseRecheckedForKAnonymity(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := datasetstest.Ctx(t)
		datasetstest.Load(t, e)
		before, err := datasets.Latest(ctx, e, "liquidaciones")
		if err != nil {
			t.Fatal(err)
		}
		if before.Disclosure.RowsSuppressed == 0 {
			t.Fatal("la prueba necesita una versión con filas retenidas por k-anonimato")
		}
		restore := datasets.ForgetWithheldClasses()
		defer restore()
		// k = 4: a new fingerprint, so a new release is built.
		_, err = datasets.Publish(ctx, e, datasets.PublishOptions{Datasets: []string{"liquidaciones"}, K: datasets.DefaultK - 1})
		if err == nil || !strings.Contains(err.Error(), "con menos de") {
			t.Fatalf("se publicó sin retener las clases pequeñas (error %v)", err)
		}
		after, err := datasets.Latest(ctx, e, "liquidaciones")
		if err != nil {
			t.Fatal(err)
		}
		if after.Number != before.Number {
			t.Fatalf("la versión rechazada quedó visible: última %d, antes %d", after.Number, before.Number)
		}
		restore()
		if _, err := datasets.Publish(ctx, e, datasets.PublishOptions{Datasets: []string{"liquidaciones"}, K: datasets.DefaultK - 1}); err != nil {
			t.Fatalf("con las clases retenidas: %v", err)
		}
	})
}

// TestFailedReleaseWithholdsNoOther: a dataset whose release fails does not
// keep the others of the same publication from being released; the error
// names it, and the next publication releases it. Before, the first failure
// ended the publication: at 1.1M liquidations with their payments the
// arrears failed, and no dataset got a release.
func TestFailedReleaseWithholdsNoOther(t *testing.T) {
	e := whtest.Embedded(t)
	ctx := datasetstest.Ctx(t)
	datasetstest.Load(t, e)
	p, _ := etl.NewPseudonymizer(datasetstest.Key)
	o := demo.DefaultOptions()
	o.Seed, o.Scale, o.FirstYear = 7, 0.05, 2024
	if _, err := etl.LoadDemo(ctx, e, p, o); err != nil {
		t.Fatal(err)
	}
	restore := datasets.FailPublishing("liquidaciones", errors.New("falla de prueba"))
	next, err := datasets.Publish(ctx, e, datasets.PublishOptions{})
	restore()
	if err == nil || !strings.Contains(err.Error(), "publicando liquidaciones: falla de prueba") {
		t.Fatalf("error de la publicación: %v", err)
	}
	got := map[string]uint32{}
	for _, r := range next {
		got[r.Dataset] = r.Number
	}
	for _, id := range []string{"pagos-diarios", "recaudo-mensual", "ejecuciones-etl"} {
		if got[id] != 2 {
			t.Errorf("%s: versión %d con la falla de liquidaciones (se esperaba la 2)", id, got[id])
		}
	}
	if _, ok := got["liquidaciones"]; ok {
		t.Error("liquidaciones falló y se registró una versión")
	}
	again, err := datasets.Publish(ctx, e, datasets.PublishOptions{})
	if err != nil || len(again) != 1 || again[0].Dataset != "liquidaciones" || again[0].Number != 2 {
		t.Fatalf("la publicación siguiente: %+v, %v; se esperaba liquidaciones v2 sola", again, err)
	}
}
