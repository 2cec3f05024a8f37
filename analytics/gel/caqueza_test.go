package gel

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// diagnosis is Cáqueza's August 2009 diagnosis (seed 002, "3.
// Diagnóstico") and what Decreto 1151 de 2008's territorial deadlines make
// of it on that date: only Información (due 1 November 2008) had passed.
var diagnosis = []struct {
	phase, progress string
	status          Status
}{
	{"informacion", "90", StatusOverdue},
	{"interaccion", "70", StatusPending},
	{"transaccion", "5", StatusPending},
	{"transformacion", "0", StatusPending},
	{"democracia", "0", StatusPending},
}

func checkDiagnosis(t *testing.T, got []PhaseRow, source string) {
	t.Helper()
	if len(got) != len(diagnosis) {
		t.Fatalf("%d fases, se esperaban %d: %+v", len(got), len(diagnosis), got)
	}
	for i, want := range diagnosis {
		g := got[i]
		if g.Phase != want.phase || !g.Progress.Equal(dec(want.progress)) || g.Status != want.status || g.Source != source {
			t.Errorf("fase %d: %s %s%% %s (%s), se esperaba %s %s%% %s (%s)", i+1, g.Phase, g.Progress, g.Status, g.Source,
				want.phase, want.progress, want.status, source)
		}
		if g.Entity.Name != "CÁQUEZA" || g.Entity.DepartmentName != "CUNDINAMARCA" {
			t.Errorf("entidad %+v", g.Entity)
		}
	}
}

// TestCaquezaDiagnosis loads the seed's figures as measurements (one
// measurement per phase, plus the interaction criteria the diagnosis says
// the site meets) through the ETL and asks the warehouse for Cáqueza's
// phases on 31 August 2009.
func TestCaquezaDiagnosis(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		seedEntities(t, e)
		load(t, e, "gel-caqueza", testdata(t, "caqueza_diagnostico_2009.csv"),
			source("caqueza-diagnostico", ingest.KindGEL, "caqueza_diagnostico_2009.csv", measurementMapping))
		got, err := Phases(ctx, e, "gel2008", "25151", date("2009-08-31"))
		if err != nil {
			t.Fatal(err)
		}
		checkDiagnosis(t, got, "global")
		// Decreto 1151's deadlines, from the catalog.
		for i, d := range []string{"2008-11-01", "2009-12-01", "2010-12-01", "2011-12-01", "2012-12-01"} {
			if got[i].Deadline == nil || !got[i].Deadline.Equal(date(d)) {
				t.Errorf("%s: plazo %v, se esperaba %s", got[i].Phase, got[i].Deadline, d)
			}
		}
		// A release cut before the load does not see it.
		res, err := Run(ctx, e, QFases, warehouse.P("marco", "gel2008"), warehouse.P("entidad", "25151"),
			warehouse.P("fecha", date("2009-08-31")), warehouse.P("corte", date("2000-01-01")))
		if err != nil || len(res.Rows) != 0 {
			t.Errorf("con corte anterior a la carga: %v %v", err, res)
		}
		// The same figures a day before the deadline of Información: pending.
		early, err := Phases(ctx, e, "gel2008", "25151", date("2008-10-31"))
		if err != nil {
			t.Fatal(err)
		}
		if len(early) != 0 {
			t.Errorf("antes de la medición no debería haber avance: %+v", early)
		}
		// On 2 December 2009 Interacción is overdue too, still at 70 %.
		later, err := Phases(ctx, e, "gel2008", "25151", date("2009-12-02"))
		if err != nil {
			t.Fatal(err)
		}
		if later[1].Status != StatusOverdue || !later[1].Progress.Equal(dec("70")) {
			t.Errorf("interacción el 2 de diciembre de 2009: %s %s", later[1].Status, later[1].Progress)
		}
		// The interaction criteria the diagnosis lists are resolved to the
		// catalog's ids (one, contratación, is the catalog's consulta a
		// bases de datos).
		crit, err := Criteria(ctx, e, "gel2008", "25151", date("2009-08-31"))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range crit {
			if c.Phase == "interaccion" && c.Criterion != TotalCriterion {
				if !c.InCatalog {
					t.Errorf("criterio no catalogado: %q", c.SourceText)
				}
				ids = append(ids, c.Criterion)
			}
		}
		if got := strings.Join(ids, ","); got != "buzon-contactenos,buzon-pqr,busqueda-y-ayudas,descarga-de-documentos,mecanismos-de-participacion,consulta-bases-de-datos" {
			t.Errorf("criterios de interacción: %s", got)
		}
	})
}

// TestCaquezaDiagnosisFromCriteria reconstructs the same diagnosis from
// criteria met or not (9 of 10, 7 of 10, 1 of 20, 0 of 11, 0 of 5, as the
// demo data set does) and gets the same figures as the mean of the
// criteria, with the share of criteria met.
func TestCaquezaDiagnosisFromCriteria(t *testing.T) {
	counts := []struct {
		phase    string
		met, all int
	}{{"Información", 9, 10}, {"Interacción", 7, 10}, {"Transacción", 1, 20}, {"Transformación", 0, 11}, {"E-democracia", 0, 5}}
	var b strings.Builder
	b.WriteString("Marco,Fase,Criterio,Código DANE,Fecha de medición,Valor,Unidad,Evidencia,Fuente,Sintético\n")
	for _, c := range counts {
		for i := 0; i < c.all; i++ {
			v := 0
			if i < c.met {
				v = 100
			}
			fmt.Fprintf(&b, "gel2008,%s,Criterio %d de %s,25151,31/08/2009,%d,%%,,reconstrucción,No\n", c.phase, i+1, c.phase, v)
		}
	}
	files := fstest.MapFS{"criterios.csv": {Data: []byte(b.String())}}
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		seedEntities(t, e)
		load(t, e, "gel-caqueza-criterios", files, source("criterios", ingest.KindGEL, "criterios.csv", measurementMapping))
		got, err := Phases(context.Background(), e, "gel2008", "25151", date("2009-08-31"))
		if err != nil {
			t.Fatal(err)
		}
		checkDiagnosis(t, got, "criterios")
		for i, c := range counts {
			if got[i].Met != c.met || got[i].Criteria != c.all {
				t.Errorf("%s: %d de %d criterios, se esperaban %d de %d", got[i].Phase, got[i].Met, got[i].Criteria, c.met, c.all)
			}
		}
	})
}
