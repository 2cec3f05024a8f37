package dashboards

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/dashboards/dashtest"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

var testNow = func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }

// row returns the table row whose first cell is first, keyed by header.
func row(t *testing.T, c *Chart, first string) map[string]string {
	t.Helper()
	for _, r := range c.Table.Rows {
		if r[0] == first {
			m := map[string]string{}
			for i, h := range c.Table.Header {
				m[h] = r[i]
			}
			return m
		}
	}
	var firsts []string
	for _, r := range c.Table.Rows {
		firsts = append(firsts, r[0])
	}
	t.Fatalf("%s: no row %q in %q", c.ID, first, firsts)
	return nil
}

func want(t *testing.T, what string, got map[string]string, col, value string) {
	t.Helper()
	if sp(got[col]) != value {
		t.Errorf("%s, %s = %q, want %q (row %v)", what, col, got[col], value, got)
	}
}

func chartFor(t *testing.T, s *Site, dash, id string, f Filters) *Chart {
	t.Helper()
	def := dashboardByID(dash)
	if def == nil || def.chart(id) == nil {
		t.Fatalf("no chart %s/%s", dash, id)
	}
	c, err := s.chart(context.Background(), def, def.chart(id), f)
	if err != nil {
		t.Fatalf("%s/%s: %v", dash, id, err)
	}
	return c
}

// TestDashboardQueries runs every dashboard query on both engines over the
// fixture, through the live queries and through the precomputed
// aggregates, and checks the figures a person can compute by hand from
// dashtest: among them Bucaramanga's third quarter of 2020 as its 2020 ICT
// report states it (6.263 electronic payments, 5.638 online declarations).
func TestDashboardQueries(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		if err := dashtest.Load(ctx, e, dashtest.Options{Evil: true}); err != nil {
			t.Fatal(err)
		}
		live := NewSite(e, SiteOptions{Now: testNow, Live: true, StampEvery: -1})
		if _, err := Refresh(ctx, e, RefreshOptions{K: 5, Now: testNow}); err != nil {
			t.Fatal(err)
		}
		// A second refresh keeps two versions and drops none of the newest.
		rep, err := Refresh(ctx, e, RefreshOptions{K: 5, Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		etlStamp, state, err := readState(ctx, e)
		if err != nil || etlStamp != "1@2026-11-21T11:00:00Z" || state.Version != rep.Version || !state.Cutoff.Equal(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)) || state.Stamp != etlStamp {
			t.Errorf("state = %q %+v %v", etlStamp, state, err)
		}
		snap := NewSite(e, SiteOptions{Now: testNow, StampEvery: -1, RefreshEvery: -1})
		st, err := snap.aggState(ctx)
		if err != nil || st.Version != rep.Version {
			t.Fatalf("aggregates version = %+v, %v; want %d", st, err, rep.Version)
		}

		t.Run("live and precomputed agree", func(t *testing.T) {
			for name, load := range map[string]func(*Site) (any, error){
				"meses":         func(s *Site) (any, error) { return s.months(ctx) },
				"vigencias":     func(s *Site) (any, error) { return s.vigencias(ctx) },
				"canales":       func(s *Site) (any, error) { return s.channels(ctx) },
				"declaraciones": func(s *Site) (any, error) { return s.filings(ctx) },
				"verificacion":  func(s *Site) (any, error) { return s.verification(ctx) },
				"cartera":       func(s *Site) (any, error) { c, _, err := s.arrears(ctx); return c, err },
			} {
				a, err := load(live)
				if err != nil {
					t.Fatalf("%s live: %v", name, err)
				}
				b, err := load(snap)
				if err != nil {
					t.Fatalf("%s precomputed: %v", name, err)
				}
				if sa, sb := dump(a), dump(b); sa != sb {
					t.Errorf("%s: live and precomputed differ:\n%s\n%s", name, sa, sb)
				}
				if dump(a) == "[]" {
					t.Errorf("%s: empty", name)
				}
			}
		})

		// Old versions are dropped: keep only the newest.
		if _, err := Refresh(ctx, e, RefreshOptions{K: 5, Now: testNow, Keep: 1}); err != nil {
			t.Fatal(err)
		}
		res, err := e.Query(ctx, "SELECT uniqExact(version) FROM dash_agg_meses")
		if err != nil || res.Rows[0][0].(uint64) != 1 {
			t.Errorf("versions left after a refresh with Keep 1: %v %v", res, err)
		}
		snap.Invalidate()

		t.Run("usage and observatory page", func(t *testing.T) {
			snap.count("recaudo", 3, 1)
			snap.CountDownload("canales")
			if err := snap.FlushStats(ctx); err != nil {
				t.Fatal(err)
			}
			snap.Invalidate()
			c := chartFor(t, snap, "observatorio", "uso", Filters{})
			r := row(t, c, "noviembre de 2026")
			want(t, "uso", r, "Visitas a los tableros", "3")
			want(t, "uso", r, "Descargas de datos de gráficos", "2")
			body, err := snap.renderDashboard(ctx, dashboardByID("observatorio"), Filters{}, mustDir(t, snap))
			if err != nil {
				t.Fatal(err)
			}
			page := string(body.Data)
			for _, w := range []string{"Estado de las cargas (ETL)", "archivo ilegible", "fallida", "Todavía no se ha publicado ninguna versión"} {
				if !strings.Contains(page, w) {
					t.Errorf("observatory page lacks %q", w)
				}
			}
		})

		for _, s := range []*Site{live, snap} {
			mode := "precomputed"
			if s.o.Live {
				mode = "live"
			}
			t.Run(mode, func(t *testing.T) { checkFigures(t, s) })
		}
	})
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func checkFigures(t *testing.T, s *Site) {
	bga2020 := Filters{Municipio: dashtest.Bucaramanga, Anio: 2020}

	c := chartFor(t, s, "canales", "pagos", bga2020)
	r := row(t, c, "3.er trimestre de 2020")
	want(t, "pagos T3 2020", r, "Electrónicos · Predial", "2.960")
	want(t, "pagos T3 2020", r, "Electrónicos · ICA", "1.727")
	want(t, "pagos T3 2020", r, "Electrónicos · ReteICA", "1.576")
	want(t, "pagos T3 2020", r, "Total electrónicos", "6.263")
	want(t, "pagos T3 2020", r, "Presenciales", "700")
	want(t, "pagos T3 2020", r, "% electrónicos", "89,9 %")
	recs, err := csv.NewReader(strings.NewReader(string(c.csv))).ReadAll()
	if err != nil || len(recs) != len(c.Table.Rows)+1 {
		t.Fatalf("CSV: %v, %d records for %d rows", err, len(recs), len(c.Table.Rows))
	}
	if got := strings.Join(recs[0], ","); got != "codigo_municipio,municipio,anio,trimestre,electronicos_predial,electronicos_ica,electronicos_reteica,electronicos_total,presenciales,electronicos_pct" {
		t.Errorf("CSV header %s", got)
	}
	if got := strings.Join(recs[len(recs)-1], ","); !strings.HasPrefix(got, "68001,BUCARAMANGA,2020,2020-07-01,2960,1727,1576,6263,700,89.9") {
		t.Errorf("CSV row %s", got)
	}

	c = chartFor(t, s, "canales", "declaraciones", bga2020)
	r = row(t, c, "3.er trimestre de 2020")
	want(t, "declaraciones T3 2020", r, "En línea · ICA", "250")
	want(t, "declaraciones T3 2020", r, "En línea · ReteICA", "5.388")
	want(t, "declaraciones T3 2020", r, "Total en línea", "5.638")
	want(t, "declaraciones T3 2020", r, "Presenciales", "40")
	want(t, "declaraciones T3 2020", r, "% en línea", "99,3 %")
	if c := chartFor(t, s, "canales", "declaraciones", Filters{Impuesto: "predial"}); c.Empty == "" {
		t.Error("predial declarations should explain that predial is billed, not declared")
	}

	// Rows of the uncommitted run (999.999.999 each) never count.
	c = chartFor(t, s, "recaudo", "vigencias", Filters{Municipio: dashtest.Bucaramanga})
	r = row(t, c, "2020")
	want(t, "vigencia 2020", r, "Facturado", "$ 1.272.800.000")
	want(t, "vigencia 2020", r, "Recaudado", "$ 973.200.000")
	want(t, "vigencia 2020", r, "Tasa de recaudo", "76,5 %")
	want(t, "vigencia 2020", r, "Liquidaciones", "11.405")
	want(t, "vigencia 2020", r, "Pagos", "6.963")

	// Cáqueza: three taxpayers, so amounts are withheld, counts are not.
	c = chartFor(t, s, "recaudo", "vigencias", Filters{Municipio: "25151"})
	r = row(t, c, "2021")
	want(t, "Cáqueza 2021", r, "Facturado", "reservado")
	want(t, "Cáqueza 2021", r, "Recaudado", "reservado")
	want(t, "Cáqueza 2021", r, "Liquidaciones", "6")
	if len(c.Table.Notes) == 0 || !strings.Contains(c.Table.Notes[0], "menos de 5 contribuyentes") {
		t.Errorf("withheld note: %q", c.Table.Notes)
	}
	c = chartFor(t, s, "recaudo", "mensual", Filters{Municipio: "25151"})
	want(t, "Cáqueza marzo 2021", row(t, c, "marzo de 2021"), "Predial", "reservado")

	c = chartFor(t, s, "recaudo", "municipios", Filters{Anio: 2020, Impuesto: "predial"})
	want(t, "tasa por municipio", row(t, c, "Bucaramanga"), "Tasa de recaudo", "91,5 %")
	want(t, "tasa por municipio", row(t, c, "Florencia"), "Tasa de recaudo", "100,0 %")

	c = chartFor(t, s, "cartera", "edades", Filters{Municipio: dashtest.Bucaramanga})
	r = row(t, c, "2020")
	want(t, "cartera 2020", r, "más de 5 años (prescrita)", "$ 299.600.000")
	want(t, "cartera 2020", r, "1 a 90 días", "$ 0")
	want(t, "cartera 2020", r, "Liquidaciones con saldo", "4.442")
	c = chartFor(t, s, "cartera", "impuestos", Filters{Municipio: dashtest.Bucaramanga})
	r = row(t, c, "2020")
	want(t, "cartera por impuesto", r, "ReteICA", "$ 190.600.000")

	c = chartFor(t, s, "verificacion", "estado", bga2020)
	r = row(t, c, "Predial")
	want(t, "verificación predial", r, "Coincide con la norma", "72,0 %")
	want(t, "verificación predial", r, "Discrepancia (número)", "80")
	want(t, "verificación predial", r, "Pendiente de verificar (número)", "1.000")
	c = chartFor(t, s, "verificacion", "discrepancias", Filters{Municipio: dashtest.Bucaramanga})
	r = row(t, c, "Bucaramanga · Predial")
	want(t, "discrepancias", r, "Cobrado de más", "$ 40.000")
	want(t, "discrepancias", r, "Cobrado de menos", "$ 120.000")
	want(t, "discrepancias", r, "% de las verificadas", "2,7 %")

	_, figs, err := summaryFigures(context.Background(), s, newView(bga2020, mustDir(t, s)))
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range []string{"$ 973.200.000", "89,9 %", "98,4 %", "76,5 %"} {
		if sp(figs[i].Value) != w {
			t.Errorf("figure %q = %q, want %q", figs[i].Label, figs[i].Value, w)
		}
	}

	c = chartFor(t, s, "presupuesto", "anual", Filters{Municipio: "18001"})
	r = row(t, c, "2020")
	want(t, "presupuesto Florencia", r, "Presupuesto definitivo", "$ 25.000.000")
	want(t, "presupuesto Florencia", r, "Recaudado", "$ 10.000.000")
	want(t, "presupuesto Florencia", r, "Ejecución", "40,0 %")

	c = chartFor(t, s, "gobierno-en-linea", "fases", Filters{Municipio: "25151"})
	r = row(t, c, "Información")
	want(t, "GEL Cáqueza", r, "Avance en la última medición", "100,0 %")
	want(t, "GEL Cáqueza", r, "Estado", "cumplida tarde (1 de marzo de 2010)")
	r = row(t, c, "Interacción")
	want(t, "GEL Cáqueza", r, "Avance en la última medición", "70,0 %")
	want(t, "GEL Cáqueza", r, "Avance al vencer el plazo", "70,0 %")
	want(t, "GEL Cáqueza", r, "Estado", "vencida sin completar")
	want(t, "GEL Cáqueza", row(t, c, "Transacción"), "Avance en la última medición", "5,0 %")
	c = chartFor(t, s, "gobierno-en-linea", "fases", Filters{Municipio: dashtest.Bucaramanga})
	want(t, "GEL Bucaramanga", row(t, c, "Información"), "Estado", "cumplida a tiempo")
	c = chartFor(t, s, "gobierno-en-linea", "evolucion", Filters{Municipio: "25151"})
	want(t, "GEL evolución", row(t, c, "1 de agosto de 2009"), "Información", "90,0 %")
	if !strings.Contains(string(c.Option), `"markLine"`) || !strings.Contains(string(c.Option), "Plazo: Interacción") {
		t.Errorf("GEL evolution has no deadline lines: %.300s", c.Option)
	}

	c = chartFor(t, s, "observatorio", "ejecuciones", Filters{})
	if len(c.Table.Rows) == 0 {
		t.Error("no ETL runs in the observatory's chart")
	}

	// The evil names are data in the JSON, never markup or code.
	c = chartFor(t, s, "recaudo", "municipios", Filters{Anio: 2020})
	assertInert(t, c.Option)
	var opt map[string]any
	json.Unmarshal(c.Option, &opt)
	if !strings.Contains(dump(opt["yAxis"]), `Muni \u003c/script\u003e\u003cscript\u003ewindow.__xss=1`) {
		t.Errorf("evil municipality not among the categories: %s", dump(opt["yAxis"]))
	}
}

func mustDir(t *testing.T, s *Site) *Directory {
	d, err := s.directory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// assertInert checks that an option is valid JSON with no raw markup:
// encoding/json writes <, > and & as \u003c, \u003e and \u0026.
func assertInert(t *testing.T, option []byte) {
	t.Helper()
	if strings.ContainsAny(string(option), "<>") {
		t.Errorf("option carries raw markup characters")
	}
	if !json.Valid(option) {
		t.Errorf("option is not JSON")
	}
}

// sp turns the no-break spaces of "$ 1.234" and "87,3 %" into spaces.
func sp(s string) string { return strings.ReplaceAll(s, "\u00a0", " ") }

// TestCommitsSeenFromAnotherProcess: data committed by an ETL in another
// process (which cannot call this process's Invalidate) reaches the charts.
// First the ETL refreshes the aggregates itself (its commit hook): the site
// sees the new version and empties its cache. Then a commit without a
// refresh: the site sees the new run, refreshes the aggregates in the
// background and shows the new data. The ETag changes with the data.
func TestCommitsSeenFromAnotherProcess(t *testing.T) {
	e := whtest.Embedded(t)
	ctx := context.Background()
	if err := dashtest.Load(ctx, e, dashtest.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Refresh(ctx, e, RefreshOptions{K: 5, Now: testNow}); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	get := func(s *Site) *Response {
		r := s.ChartFile(ctx, "canales", "pagos.json", "municipio=68001&anio=2020")
		if r.Status != 200 {
			t.Fatalf("status %d: %s", r.Status, r.Body.Data)
		}
		return r
	}
	commit := func(run string, n int) {
		var rows [][]any
		for i := 0; i < n; i++ {
			at := time.Date(2020, 8, 3, 10, 0, 0, 0, time.UTC)
			id := fmt.Sprintf("%s-%d", run, i)
			rows = append(rows, []any{"P" + id, id, "68001", "predial", 2020, id, at, at, "150000", "pse", "otro", "otro.csv", i + 1, run, testNow()})
		}
		if err := e.Insert(ctx, "payments", []string{"payment_id", "liquidation_id", "municipality_code", "tax", "tax_year", "taxpayer_pseudonym",
			"paid_at", "paid_date", "amount", "channel", "source", "source_file", "source_line", "run_id", "loaded_at"}, rows); err != nil {
			t.Fatal(err)
		}
		if err := e.Insert(ctx, "etl_runs", []string{"run_id", "job", "started_at", "finished_at", "status", "rows_read", "rows_loaded", "rows_quarantined", "rows_skipped", "rows_unchanged", "error"},
			[][]any{{run, "pagos", testNow(), testNow().Add(time.Duration(n) * time.Minute), "committed", n, n, 0, 0, 0, ""}}); err != nil {
			t.Fatal(err)
		}
	}

	// The ETL refreshes; this site never does.
	s := NewSite(e, SiteOptions{Now: testNow, StampEvery: 10 * time.Millisecond, RefreshEvery: -1})
	first := get(s)
	if !strings.Contains(string(first.Body.Data), `"value":2960`) {
		t.Fatalf("first answer: %s", first.Body.Data)
	}
	commit("fx-a", 10)
	time.Sleep(50 * time.Millisecond)
	if r := get(s); !strings.Contains(string(r.Body.Data), `"value":2960`) {
		t.Fatalf("before the refresh the aggregates still say 2960: %s", r.Body.Data)
	}
	if _, err := Refresh(ctx, e, RefreshOptions{K: 5, Now: testNow}); err != nil {
		t.Fatal(err)
	}
	var last *Response
	waitFor("the ETL's refresh in the chart", func() bool {
		last = get(s)
		return strings.Contains(string(last.Body.Data), `"value":2970`)
	})
	if last.Body.ETag == first.Body.ETag {
		t.Error("the ETag did not change with the data")
	}

	// A commit nobody refreshed: the site refreshes after its grace.
	s2 := NewSite(e, SiteOptions{Now: testNow, StampEvery: 10 * time.Millisecond, RefreshEvery: 10 * time.Millisecond, RefreshGrace: 10 * time.Millisecond})
	get(s2)
	commit("fx-b", 5)
	waitFor("the site's own refresh in the chart", func() bool {
		return strings.Contains(string(get(s2).Body.Data), `"value":2975`)
	})
}
