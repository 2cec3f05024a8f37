package gel

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// handWorked are measurements whose statuses and ranks are worked out by
// hand in TestStatusAndRank.
const handWorked = `framework,phase,criterion,entity_code,measured_on,value,unit,synthetic
gel2008,informacion,total,05001,2008-10-15,100,percent,true
gel2008,interaccion,total,05001,2009-12-01,100,percent,true
gel2008,transaccion,total,05001,2010-06-01,60,percent,true
gel2008,transaccion,total,05001,2011-03-01,100,percent,true
gel2008,informacion,total,05002,2008-10-01,80,percent,true
gel2008,informacion,total,05002,2009-02-01,100,percent,true
gel2008,informacion,total,25151,2009-08-31,100,percent,false
gel2008,interaccion,total,25151,2009-08-31,100,percent,false
gel2008,transaccion,total,25151,2010-11-30,100,percent,false
gel2008,informacion,total,68001,2009-01-01,100,percent,true
gel2008,interaccion,total,68001,2009-01-01,50,percent,true
gel2008,interaccion,Encuestas de opinión,68001,2009-01-01,0,percent,true
gel2008,interaccion,"Buzón de peticiones, quejas y reclamos",68001,2010-01-15,100,percent,true
`

func TestStatusAndRank(t *testing.T) {
	files := fstest.MapFS{"casos.csv": {Data: []byte(handWorked)}}
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		seedEntities(t, e)
		load(t, e, "gel-casos", files, source("casos", ingest.KindGEL, "casos.csv", nil))
		at := date("2011-12-31")
		phases, err := Phases(ctx, e, "gel2008", "", at)
		if err != nil {
			t.Fatal(err)
		}
		type want struct {
			progress string
			status   Status
			metOn    string
		}
		wants := map[string]want{
			"05001/informacion": {"100", StatusOnTime, "2008-10-15"},
			"05001/interaccion": {"100", StatusOnTime, "2009-12-01"}, // on the deadline day
			"05001/transaccion": {"100", StatusLate, "2011-03-01"},   // 60 at the deadline, 100 after it
			"05002/informacion": {"100", StatusLate, "2009-02-01"},   // a measurement after the deadline
			"25151/informacion": {"100", StatusLate, "2009-08-31"},
			"25151/interaccion": {"100", StatusOnTime, "2009-08-31"},
			"25151/transaccion": {"100", StatusOnTime, "2010-11-30"},
			"68001/informacion": {"100", StatusLate, "2009-01-01"},
			"68001/interaccion": {"50", StatusOverdue, ""}, // criteria newer than the phase's figure: (100 + 0) / 2
		}
		if len(phases) != len(wants) {
			t.Errorf("%d filas, se esperaban %d", len(phases), len(wants))
		}
		for _, p := range phases {
			k := p.Entity.Code + "/" + p.Phase
			w, ok := wants[k]
			if !ok {
				t.Errorf("fila inesperada %s", k)
				continue
			}
			metOn := ""
			if p.MetOn != nil {
				metOn = p.MetOn.Format("2006-01-02")
			}
			if !p.Progress.Equal(dec(w.progress)) || p.Status != w.status || metOn != w.metOn {
				t.Errorf("%s: %s %s %q, se esperaba %s %s %q", k, p.Progress, p.Status, metOn, w.progress, w.status, w.metOn)
			}
			// The Go rule agrees with the SQL.
			if g := PhaseStatus(p.MetOn, p.Deadline, at); g != p.Status {
				t.Errorf("%s: SQL %s, Go %s", k, p.Status, g)
			}
		}
		// Before 05002 caught up: overdue at 80 %.
		early, err := Phases(ctx, e, "gel2008", "05002", date("2008-12-31"))
		if err != nil {
			t.Fatal(err)
		}
		if len(early) != 1 || early[0].Status != StatusOverdue || !early[0].Progress.Equal(dec("80")) {
			t.Errorf("05002 el 31 de diciembre de 2008: %+v", early)
		}

		// General ranking: mean of the five phases, unmeasured ones count 0.
		rank, err := Ranking(ctx, e, "gel2008", "", at, "")
		if err != nil {
			t.Fatal(err)
		}
		got := rankString(rank)
		if want := "05001:60:1:1/2 25151:60:1:1/1 68001:30:3:1/1 05002:20:4:2/2"; got != want {
			t.Errorf("clasificación general\n got %s\nwant %s", got, want)
		}
		if !rank[0].NationalAvg.Equal(dec("42.5")) || !rank[0].DeptAvg.Equal(dec("40")) || !rank[1].DeptAvg.Equal(dec("60")) {
			t.Errorf("promedios: nacional %s, Antioquia %s, Cundinamarca %s", rank[0].NationalAvg, rank[0].DeptAvg, rank[1].DeptAvg)
		}
		scores := make([]decimal.Decimal, len(rank))
		for i, r := range rank {
			scores[i] = r.Score
		}
		for i, r := range CompetitionRanks(scores) {
			if r != rank[i].Rank {
				t.Errorf("%s: SQL puesto %d, Go %d", rank[i].Entity.Code, rank[i].Rank, r)
			}
		}
		// The ranking computed in Go from the phases is the same.
		sameRanking(t, rank, RankFrom(phases, Default().Framework("gel2008"), ""))
		// A four-way tie in Información; Interacción ranks only those measured.
		info, err := Ranking(ctx, e, "gel2008", "informacion", at, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := rankString(info); got != "05001:100:1:1/2 05002:100:1:1/2 25151:100:1:1/1 68001:100:1:1/1" {
			t.Errorf("clasificación en información: %s", got)
		}
		sameRanking(t, info, RankFrom(phases, Default().Framework("gel2008"), "informacion"))
		inter, err := Ranking(ctx, e, "gel2008", "interaccion", at, "05")
		if err != nil {
			t.Fatal(err)
		}
		if got := rankString(inter); got != "05001:100:1:1/1" || inter[0].Entities != 3 {
			t.Errorf("clasificación en interacción, solo Antioquia: %s (de %d)", got, inter[0].Entities)
		}
		// A criterion met after its deadline, another overdue.
		crit, err := Criteria(ctx, e, "gel2008", "68001", at)
		if err != nil {
			t.Fatal(err)
		}
		var cs []string
		for _, c := range crit {
			if c.Phase == "interaccion" {
				cs = append(cs, c.Criterion+":"+string(c.Status))
				if g := PhaseStatus(c.MetOn, c.Deadline, at); g != c.Status {
					t.Errorf("%s: SQL %s, Go %s", c.Criterion, c.Status, g)
				}
			}
		}
		if got := strings.Join(cs, " "); got != "total:vencida buzon-pqr:cumplida_tarde encuestas-de-opinion:vencida" {
			t.Errorf("criterios de Bucaramanga: %s", got)
		}
	})
}

// sameRanking compares the SQL ranking with RankFrom's, field by field.
func sameRanking(t *testing.T, sql, goRank []RankRow) {
	t.Helper()
	if len(sql) != len(goRank) {
		t.Fatalf("SQL %d filas, Go %d", len(sql), len(goRank))
	}
	for i := range sql {
		a, b := sql[i], goRank[i]
		if a.Entity != b.Entity || !a.Score.Equal(b.Score) || a.Rank != b.Rank || a.Entities != b.Entities || a.DeptRank != b.DeptRank ||
			a.DeptEntities != b.DeptEntities || !a.NationalAvg.Equal(b.NationalAvg) || !a.DeptAvg.Equal(b.DeptAvg) ||
			a.PhasesMeasured != b.PhasesMeasured || !a.LastMeasured.Equal(b.LastMeasured) || a.Synthetic != b.Synthetic {
			t.Errorf("fila %d:\n SQL %+v\n Go  %+v", i, a, b)
		}
	}
}

func rankString(rs []RankRow) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, r.Entity.Code+":"+r.Score.String()+":"+itoa(r.Rank)+":"+itoa(r.DeptRank)+"/"+itoa(r.DeptEntities))
	}
	return strings.Join(parts, " ")
}

func itoa(n int) string { return decimal.NewFromInt(int64(n)).String() }

// TestSync writes the catalog for SQL readers, once.
func TestSync(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		for i := 0; i < 2; i++ {
			if err := Default().Sync(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		res, err := e.Query(ctx, `SELECT count(), countIf(deadline = toDate('2009-12-01') AND phase = 'interaccion'), uniqExact(updated_at)
			FROM gel_phases FINAL WHERE catalog = (SELECT argMax(catalog, updated_at) FROM gel_frameworks)`)
		if err != nil {
			t.Fatal(err)
		}
		if r := res.Rows[0]; r[0].(uint64) != 24 || r[1].(uint64) != 1 || r[2].(uint64) != 1 {
			t.Errorf("gel_phases: %v", r)
		}
		res, err = e.Query(ctx, "SELECT count() FROM gel_criteria FINAL")
		if err != nil {
			t.Fatal(err)
		}
		if n := res.Rows[0][0].(uint64); n != 45 {
			t.Errorf("gel_criteria: %d filas", n)
		}
	})
}
