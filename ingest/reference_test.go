package ingest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func countDataLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n") - 1
}

func TestReferenceDIVIPOLA(t *testing.T) {
	cfg, err := ReferenceSource("divipola")
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(context.Background(), cfg, WithFS(ReferenceFS()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ents []Entity
	var rejects []Reject
	err = EachOf(context.Background(), st, func(recs []Entity, rj []Reject) error {
		ents = append(ents, recs...)
		rejects = append(rejects, rj...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rejects {
		t.Errorf("reject: %s", r)
	}
	if len(ents) != 1122 {
		t.Fatalf("got %d entities, want 1122", len(ents))
	}
	if want := countDataLines(t, "../reference/divipola.csv"); len(ents) != want {
		t.Fatalf("got %d entities, file has %d data lines", len(ents), want)
	}
	s := st.Stats()
	if s.Read != s.Records+s.Rejects+s.Blank || s.Records != 1122 || s.Rejects != 0 {
		t.Fatalf("stats %+v", s)
	}
	first := ents[0]
	if first.DepartmentCode != "05" || first.MunicipalityCode != "05001" || first.MunicipalityName != "MEDELLÍN" || first.UnitKind != "municipio" {
		t.Errorf("first entity %+v", first)
	}
	if first.Origin.Line != 2 || first.Origin.File != "divipola.csv" || first.Origin.Source != "divipola" {
		t.Errorf("first origin %+v", first.Origin)
	}
	kinds := map[string]int{}
	for _, e := range ents {
		kinds[e.UnitKind]++
	}
	if kinds["municipio"] != 1102 || kinds["area_no_municipalizada"] != 19 || kinds["isla"] != 1 {
		t.Errorf("kinds %v", kinds)
	}
	if len(s.Parts) != 1 || len(s.Parts[0].Ignored) != 0 || s.Parts[0].Bytes != 44039 {
		t.Errorf("part info %+v", s.Parts)
	}
}

func TestReferenceFUT(t *testing.T) {
	cfg, err := ReferenceSource("fut-ingresos-caqueta")
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(context.Background(), cfg, WithFS(ReferenceFS()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var lines []BudgetLine
	var rejects []Reject
	err = EachOf(context.Background(), st, func(recs []BudgetLine, rj []Reject) error {
		lines = append(lines, recs...)
		rejects = append(rejects, rj...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := countDataLines(t, "../reference/fut_presupuesto_ingresos_caqueta.csv")
	s := st.Stats()
	t.Logf("FUT: %d data lines, %d records, %d rejects, warnings %v", want, len(lines), len(rejects), s.WarningsByCode)
	for _, r := range rejects {
		t.Logf("reject: %s", r)
	}
	if len(lines)+len(rejects) != want || s.Read != s.Records+s.Rejects+s.Blank {
		t.Fatalf("records %d + rejects %d != %d data lines (stats %+v)", len(lines), len(rejects), want, s)
	}
	if len(rejects) != 0 {
		t.Fatalf("%d rejects", len(rejects))
	}
	l := lines[0]
	if l.DepartmentCode != "18" || l.EntityCode != "18000" || l.Rubro != "DEGÜELLO DE GANADO MAYOR" || l.Year != 2012 ||
		!l.FinalBudget.Equal(decimal.RequireFromString("335680000")) || l.Value2025 == nil ||
		l.Value2025.String() != "642420900.3254324" {
		t.Errorf("first line %+v", l)
	}
	// the 13 rows whose rubro lost its Ü ("DEGÃ?ELLO") are kept and flagged
	damaged := 0
	for _, l := range lines {
		if strings.Contains(l.Rubro, "Ã?") {
			damaged++
			if len(l.Origin.Warnings) == 0 || l.Origin.Warnings[0].Code != CodeIrreversible || l.Origin.Warnings[0].Field != "rubro" {
				t.Errorf("line %d: warnings %v", l.Origin.Line, l.Origin.Warnings)
			}
		}
	}
	if damaged != 13 || s.WarningsByCode[CodeIrreversible] != 13 {
		t.Errorf("damaged rubros %d, warnings %v", damaged, s.WarningsByCode)
	}
}
