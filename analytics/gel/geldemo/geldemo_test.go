package geldemo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/analytics/gel"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

func date(s string) time.Time {
	t, _ := time.Parse("2006-01-02", s)
	return t
}

// TestLoad loads the demo set through the ETL and checks what the seeds
// say and what the synthetic set was built to show.
func TestLoad(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		if _, err := warehouse.SeedEntities(ctx, e); err != nil {
			t.Fatal(err)
		}
		rep, err := Load(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Read != rep.Loaded || len(rep.Sources) != 6 {
			t.Fatalf("%s", rep.Summary())
		}
		// Seed 002: Cáqueza, August 2009.
		ph, err := gel.Phases(ctx, e, "gel2008", "25151", date("2009-08-31"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range ph {
			got = append(got, p.Progress.String()+":"+string(p.Status))
		}
		if strings.Join(got, " ") != "90:vencida 70:pendiente 5:pendiente 0:pendiente 0:pendiente" {
			t.Errorf("diagnóstico de Cáqueza: %v", got)
		}
		// Seed 001: Bucaramanga's 2020 self-assessment.
		gd, err := gel.Phases(ctx, e, "gd2018", "68001", date("2020-12-31"))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"servicios-digitales": "97.2", "estado-abierto": "96.6", "arquitectura": "89.4",
			"seguridad-privacidad": "85", "decisiones-basadas-en-datos": "71.5", "procesos-seguros": "64.1",
			"territorios-inteligentes": "51.9", "servicios-ciudadanos-digitales": "42.8"}
		if len(gd) != len(want) {
			t.Errorf("Bucaramanga: %d componentes", len(gd))
		}
		for _, p := range gd {
			if w, ok := want[p.Phase]; !ok || !p.Progress.Equal(decimal.RequireFromString(w)) || p.Synthetic || p.Status != gel.StatusNoDeadline {
				t.Errorf("Bucaramanga %s: %s %s (se esperaba %s)", p.Phase, p.Progress, p.Status, w)
			}
		}
		// Slide 24: the most advanced in Información in 2009, with a tie.
		rank, err := gel.Ranking(ctx, e, "gel2008", "informacion", date("2009-08-31"), "")
		if err != nil {
			t.Fatal(err)
		}
		all, err := gel.Phases(ctx, e, "gel2008", "", date("2009-08-31"))
		if err != nil {
			t.Fatal(err)
		}
		for _, ph := range []string{"informacion", ""} {
			sql, err := gel.Ranking(ctx, e, "gel2008", ph, date("2009-08-31"), "")
			if err != nil {
				t.Fatal(err)
			}
			goRank := gel.RankFrom(all, gel.Default().Framework("gel2008"), ph)
			if len(sql) != len(goRank) {
				t.Fatalf("%q: SQL %d, Go %d", ph, len(sql), len(goRank))
			}
			for i := range sql {
				if sql[i].Entity.Code != goRank[i].Entity.Code || sql[i].Rank != goRank[i].Rank || !sql[i].Score.Equal(goRank[i].Score) ||
					sql[i].DeptRank != goRank[i].DeptRank || !sql[i].DeptAvg.Equal(goRank[i].DeptAvg) || !sql[i].NationalAvg.Equal(goRank[i].NationalAvg) {
					t.Errorf("%q fila %d: SQL %+v, Go %+v", ph, i, sql[i], goRank[i])
				}
			}
		}
		var top []string
		for _, r := range rank[:5] {
			top = append(top, r.Entity.Code+":"+itoa(r.Rank))
		}
		if strings.Join(top, " ") != "68689:1 15176:2 85430:2 54239:4 85230:5" || rank[len(rank)-1].Entity.Code != "86760" {
			t.Errorf("clasificación 2009: %v … %s", top, rank[len(rank)-1].Entity.Code)
		}
		// The index file: Latin-1, decimal commas, alcaldías resolved.
		igd, err := gel.IGD(ctx, e, "25151", 2020)
		if err != nil {
			t.Fatal(err)
		}
		if len(igd) != 6 || igd[0].EntityName != "ALCALDÍA DE CÁQUEZA" || igd[0].PeerAverage == nil || !igd[0].Synthetic {
			t.Errorf("IGD de Cáqueza: %+v", igd)
		}
		res, err := e.Query(ctx, "SELECT count(), countIf(entity_code = '') FROM gel_index_scores FINAL")
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows[0][0].(uint64) != 33*2*6+1 || res.Rows[0][1].(uint64) != 1 {
			t.Errorf("gel_index_scores: %v", res.Rows)
		}
		ip, err := gel.Phases(ctx, e, "igd", "25151", date("2020-12-31"))
		if err != nil || len(ip) != 6 {
			t.Errorf("índice como marco: %v %+v", err, ip)
		}
		// The action plan: statuses on two dates.
		acts := func(at string) map[string]gel.Status {
			as, err := gel.Actions(ctx, e, "25151", date(at))
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]gel.Status{}
			for _, a := range as {
				m[a.Item] = a.Status
				if g := gel.ActionStatus(a.Reported, a.CompletedOn, a.Deadline, date(at)); g != a.Status {
					t.Errorf("%s el %s: SQL %s, Go %s", a.Item, at, a.Status, g)
				}
			}
			return m
		}
		m := acts("2010-01-15")
		for item, w := range map[string]gel.Status{"int-01": gel.StatusOnTime, "int-02": gel.StatusOverdue, "int-03": gel.StatusOverdue,
			"int-04": gel.StatusPending, "int-09": gel.StatusOnTime, "op-01": gel.StatusOngoing, "tra-01": gel.StatusPending} {
			if m[item] != w {
				t.Errorf("%s el 15 de enero de 2010: %s, se esperaba %s", item, m[item], w)
			}
		}
		if m := acts("2010-06-01"); m["int-03"] != gel.StatusLate || len(m) != len(caquezaPlan) {
			t.Errorf("int-03 el 1 de junio de 2010: %s (%d acciones)", m["int-03"], len(m))
		}
	})
}

func itoa(n int) string { return decimal.NewFromInt(int64(n)).String() }
