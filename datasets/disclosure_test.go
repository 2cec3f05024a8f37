package datasets_test

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/datasets/datasetstest"
	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// published reads a release's CSV file as a journalist gets it: header and
// rows as strings.
func published(t *testing.T, e warehouse.Engine, id string) (*datasets.Release, []map[string]string) {
	t.Helper()
	ctx := datasetstest.Ctx(t)
	rel, err := datasets.Latest(ctx, e, id)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	r, err := datasets.OpenFile(ctx, e, rel, datasets.FileName(id, datasets.FormatCSV))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		t.Fatalf("%s: CSV ilegible: %v", id, err)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return rel, out
}

// contributions of one cell, recomputed from the raw demo records.
type rawCell struct {
	byTaxpayer map[string]decimal.Decimal
	count      int
	total      decimal.Decimal
}

func (c *rawCell) add(taxpayer string, amount decimal.Decimal) {
	if c.byTaxpayer == nil {
		c.byTaxpayer = map[string]decimal.Decimal{}
	}
	id := etl.NormalizeID(taxpayer)
	c.byTaxpayer[id] = c.byTaxpayer[id].Add(amount)
	c.count++
	c.total = c.total.Add(amount)
}

// sensitive applies the rules as the issue states them: fewer than k
// distinct taxpayers, or the two largest contributors above 85 % of the
// total.
func (c *rawCell) sensitive(k int) (bool, string) {
	if len(c.byTaxpayer) < k {
		return true, fmt.Sprintf("%d contribuyentes", len(c.byTaxpayer))
	}
	var vals []decimal.Decimal
	for _, v := range c.byTaxpayer {
		vals = append(vals, v.Abs())
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i].GreaterThan(vals[j]) })
	top := vals[0].Add(vals[1])
	sum := decimal.Zero
	for _, v := range vals {
		sum = sum.Add(v)
	}
	if sum.IsPositive() && top.GreaterThan(sum.Mul(decimal.NewFromFloat(0.85))) {
		return true, fmt.Sprintf("dominancia %s de %s", top, sum)
	}
	return false, ""
}

func day(t time.Time) string   { return t.UTC().Format("2006-01-02") }
func month(t time.Time) string { return t.UTC().Format("2006-01") + "-01" }

// TestDisclosure: every published aggregate cell meets k and (2, 85)
// dominance, recomputed here from the raw demo records (not from the
// warehouse), or is suppressed; published values are the true sums; no
// suppressed cell can be recomputed from the published totals (exact
// rational elimination over every published sum); the record-level file is
// k-anonymous over its quasi-identifiers.
func TestDisclosure(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		f := datasetstest.Load(t, e)
		checkDisclosure(t, e, f, datasets.DefaultK)
		// Again with k = 3: more cells published, more secondary
		// suppression needed.
		if _, err := datasets.Publish(datasetstest.Ctx(t), e, datasets.PublishOptions{K: 3}); err != nil {
			t.Fatal(err)
		}
		checkDisclosure(t, e, f, 3)
	})
}

func checkDisclosure(t *testing.T, e warehouse.Engine, f *datasetstest.Fixture, k int) {
	t.Helper()
	{

		// Raw cells of each published aggregate, from the demo records.
		daily, monthly, billed, yearly := map[string]*rawCell{}, map[string]*rawCell{}, map[string]*rawCell{}, map[string]*rawCell{}
		get := func(m map[string]*rawCell, key string) *rawCell {
			if m[key] == nil {
				m[key] = &rawCell{}
			}
			return m[key]
		}
		paidBy := map[string]decimal.Decimal{}
		for _, p := range f.Payments {
			get(daily, strings.Join([]string{day(p.PaidAt), p.Municipality, p.Tax, p.Channel}, "|")).add(p.TaxpayerID, p.Amount)
			get(monthly, strings.Join([]string{month(p.PaidAt), p.Municipality, p.Tax}, "|")).add(p.TaxpayerID, p.Amount)
			g := "ica"
			if p.Tax == "predial" {
				g = "predial"
			}
			get(yearly, fmt.Sprintf("%s|%d|%s", p.Municipality, p.PaidAt.UTC().Year(), g)).add(p.TaxpayerID, p.Amount)
			paidBy[p.LiquidationID] = paidBy[p.LiquidationID].Add(p.Amount)
		}
		for _, l := range f.Liquidations {
			get(billed, strings.Join([]string{month(l.IssueDate), l.Municipality, l.Tax}, "|")).add(l.TaxpayerID, l.BilledTotal)
		}

		type check struct {
			id, value, count, flag string
			key                    func(r map[string]string) string
			raw                    map[string]*rawCell
		}
		checks := []check{
			{"pagos-diarios", "recaudo", "pagos", "suprimido", func(r map[string]string) string {
				return strings.Join([]string{r["fecha"], r["codigo_municipio"], r["impuesto"], r["canal"]}, "|")
			}, daily},
			{"recaudo-mensual", "recaudo", "pagos", "recaudo_suprimido", func(r map[string]string) string {
				return strings.Join([]string{r["mes"], r["codigo_municipio"], r["impuesto"]}, "|")
			}, monthly},
			{"recaudo-mensual", "facturado", "liquidaciones", "facturado_suprimido", func(r map[string]string) string {
				return strings.Join([]string{r["mes"], r["codigo_municipio"], r["impuesto"]}, "|")
			}, billed},
			{"presupuesto-vs-recaudo", "recaudo", "", "recaudo_suprimido", func(r map[string]string) string {
				return strings.Join([]string{r["codigo_entidad"], r["anio"], r["impuesto"]}, "|")
			}, yearly},
		}
		rows := map[string][]map[string]string{}
		for _, c := range checks {
			if rows[c.id] == nil {
				_, rows[c.id] = published(t, e, c.id)
			}
			seen, shown, hidden := 0, 0, 0
			for _, r := range rows[c.id] {
				raw := c.raw[c.key(r)]
				if raw == nil {
					if r[c.value] != "" && r[c.value] != "0.00" && c.id != "presupuesto-vs-recaudo" {
						t.Errorf("%s %s: %s publicado sin datos de origen", c.id, c.key(r), r[c.value])
					}
					continue
				}
				seen++
				sens, why := raw.sensitive(k)
				switch {
				case r[c.flag] == "1":
					hidden++
					if r[c.value] != "" || (c.count != "" && r[c.count] != "") {
						t.Errorf("%s %s: celda suprimida con valores (%q, %q)", c.id, c.key(r), r[c.value], r[c.count])
					}
				case sens:
					t.Errorf("%s %s: celda sensible publicada (%s): %s", c.id, c.key(r), why, r[c.value])
				default:
					shown++
					v, err := decimal.NewFromString(r[c.value])
					if err != nil || !v.Equal(raw.total) {
						t.Errorf("%s %s: publicado %q, la suma de los registros es %s", c.id, c.key(r), r[c.value], raw.total)
					}
					if c.count != "" && r[c.count] != fmt.Sprint(raw.count) {
						t.Errorf("%s %s: %s = %q, se esperaba %d", c.id, c.key(r), c.count, r[c.count], raw.count)
					}
				}
			}
			if seen != len(c.raw) {
				t.Errorf("%s/%s: %d celdas publicadas para %d celdas con datos", c.id, c.value, seen, len(c.raw))
			}
			t.Logf("k=%d %s/%s: %d celdas, %d publicadas, %d suprimidas", k, c.id, c.value, seen, shown, hidden)
			if (shown == 0 || hidden == 0) && c.id != "pagos-diarios" {
				t.Errorf("%s/%s: la prueba necesita celdas publicadas y suprimidas (%d, %d)", c.id, c.value, shown, hidden)
			}
		}

		// Secondary suppression: the published daily cells sum to the
		// monthly ones, and those to the yearly ones. Check that the sums
		// hold where everything is published, then that no suppressed cell
		// is determined by the system of published sums.
		sys := &linearSystem{}
		monthOf := map[string][]string{}
		for _, r := range rows["pagos-diarios"] {
			m := r["fecha"][:8] + "01|" + r["codigo_municipio"] + "|" + r["impuesto"]
			monthOf[m] = append(monthOf[m], "d|"+strings.Join([]string{r["fecha"], r["codigo_municipio"], r["impuesto"], r["canal"]}, "|"))
			sys.value("d|"+strings.Join([]string{r["fecha"], r["codigo_municipio"], r["impuesto"], r["canal"]}, "|"), r["recaudo"])
		}
		yearOf := map[string][]string{}
		for _, r := range rows["recaudo-mensual"] {
			key := r["mes"] + "|" + r["codigo_municipio"] + "|" + r["impuesto"]
			if monthly[key] == nil {
				continue // billed only: no payments, a known zero
			}
			sys.value("m|"+key, r["recaudo"])
			sys.sum("m|"+key, monthOf[key])
			g := "ica"
			if r["impuesto"] == "predial" {
				g = "predial"
			}
			y := r["codigo_municipio"] + "|" + r["mes"][:4] + "|" + g
			yearOf[y] = append(yearOf[y], "m|"+key)
		}
		for _, r := range rows["presupuesto-vs-recaudo"] {
			key := r["codigo_entidad"] + "|" + r["anio"] + "|" + r["impuesto"]
			if yearly[key] == nil {
				continue
			}
			sys.value("y|"+key, r["recaudo"])
			sys.sum("y|"+key, yearOf[key])
		}
		if bad := sys.inconsistent(); len(bad) > 0 {
			t.Errorf("totales publicados que no son la suma de sus partes: %v", bad[:min(5, len(bad))])
		}
		if det := sys.determined(); len(det) > 0 {
			t.Errorf("%d celdas suprimidas se pueden recalcular de los totales publicados, p. ej. %v", len(det), det[:min(5, len(det))])
		}
		t.Logf("auditoría: %d incógnitas, %d ecuaciones", len(sys.unknown), len(sys.eqs))

		// Record level: k-anonymity over the declared quasi-identifiers.
		ds, _ := datasets.Get("liquidaciones")
		rel, recs := published(t, e, "liquidaciones")
		classes := map[string]map[string]bool{}
		for _, r := range recs {
			var qi []string
			for _, c := range ds.QuasiIdentifiers() {
				qi = append(qi, r[c])
			}
			key := strings.Join(qi, "|")
			if classes[key] == nil {
				classes[key] = map[string]bool{}
			}
			classes[key][r["contribuyente"]] = true
		}
		for key, people := range classes {
			if len(people) < k {
				t.Errorf("liquidaciones: la clase %s tiene %d contribuyentes (k = %d)", key, len(people), k)
			}
		}
		if rel.Disclosure.RowsSuppressed == 0 || len(recs) == 0 || uint64(len(recs))+rel.Disclosure.RowsSuppressed != uint64(len(f.Liquidations)) {
			t.Errorf("liquidaciones: %d publicadas + %d suprimidas ≠ %d de origen", len(recs), rel.Disclosure.RowsSuppressed, len(f.Liquidations))
		}
	}
}

// linearSystem is the published sums as linear equations over the
// suppressed cells, in exact rational arithmetic.
type linearSystem struct {
	known   map[string]*big.Rat
	unknown map[string]int
	names   []string
	eqs     []sumEq
}

type sumEq struct {
	total string
	parts []string
}

func (s *linearSystem) value(name, v string) {
	if s.known == nil {
		s.known, s.unknown = map[string]*big.Rat{}, map[string]int{}
	}
	if v == "" {
		s.unknown[name] = len(s.names)
		s.names = append(s.names, name)
		return
	}
	r, ok := new(big.Rat).SetString(v)
	if !ok {
		panic("valor no numérico " + v)
	}
	s.known[name] = r
}

func (s *linearSystem) sum(total string, parts []string) {
	s.eqs = append(s.eqs, sumEq{total, parts})
}

// inconsistent lists equations with every term published whose sum fails.
func (s *linearSystem) inconsistent() []string {
	var out []string
	for _, e := range s.eqs {
		tot, ok := s.known[e.total]
		if !ok {
			continue
		}
		sum := new(big.Rat)
		all := true
		for _, p := range e.parts {
			v, ok := s.known[p]
			if !ok {
				all = false
				break
			}
			sum.Add(sum, v)
		}
		if all && sum.Cmp(tot) != 0 {
			out = append(out, fmt.Sprintf("%s = %s ≠ %s", e.total, tot.FloatString(2), sum.FloatString(2)))
		}
	}
	return out
}

// determined returns the unknowns fixed by the equations: row-reduce the
// coefficient matrix over the unknowns; an unknown is determined when some
// reduced row has its only nonzero coefficient on it.
func (s *linearSystem) determined() []string {
	n := len(s.names)
	var rows [][]*big.Rat
	for _, e := range s.eqs {
		row := make([]*big.Rat, n)
		for i := range row {
			row[i] = new(big.Rat)
		}
		any := false
		coef := func(name string, c int64) {
			if j, ok := s.unknown[name]; ok {
				row[j].Add(row[j], big.NewRat(c, 1))
				any = true
			}
		}
		coef(e.total, 1)
		for _, p := range e.parts {
			coef(p, -1)
		}
		if any {
			rows = append(rows, row)
		}
	}
	r := 0
	var pivots []int
	for c := 0; c < n && r < len(rows); c++ {
		p := -1
		for i := r; i < len(rows); i++ {
			if rows[i][c].Sign() != 0 {
				p = i
				break
			}
		}
		if p < 0 {
			continue
		}
		rows[r], rows[p] = rows[p], rows[r]
		inv := new(big.Rat).Inv(rows[r][c])
		for j := range rows[r] {
			rows[r][j].Mul(rows[r][j], inv)
		}
		for i := range rows {
			if i != r && rows[i][c].Sign() != 0 {
				f := new(big.Rat).Set(rows[i][c])
				for j := range rows[i] {
					rows[i][j].Sub(rows[i][j], new(big.Rat).Mul(f, rows[r][j]))
				}
			}
		}
		pivots = append(pivots, c)
		r++
	}
	var out []string
	for i, c := range pivots {
		alone := true
		for j := 0; j < n; j++ {
			if j != c && rows[i][j].Sign() != 0 {
				alone = false
				break
			}
		}
		if alone {
			out = append(out, s.names[c])
		}
	}
	return out
}

// TestLinearSystemAudit: the audit above does catch a derivable cell (a
// total with exactly one suppressed part) and accepts two.
func TestLinearSystemAudit(t *testing.T) {
	s := &linearSystem{}
	s.value("t", "10")
	s.value("a", "")
	s.value("b", "4")
	s.sum("t", []string{"a", "b"})
	if d := s.determined(); len(d) != 1 || d[0] != "a" {
		t.Fatalf("una celda suprimida sola en un total publicado debe ser recalculable: %v", d)
	}
	s = &linearSystem{}
	s.value("t", "10")
	s.value("a", "")
	s.value("b", "")
	s.value("u", "")
	s.value("c", "")
	s.sum("t", []string{"a", "b"})
	s.sum("u", []string{"c", "t"}) // u unknown: c + t
	if d := s.determined(); len(d) != 0 {
		t.Fatalf("dos celdas suprimidas por total no se pueden recalcular: %v", d)
	}
	// A chain that pins a cell: x + y = 5 (published), y alone in z = y.
	s = &linearSystem{}
	s.value("t", "5")
	s.value("x", "")
	s.value("y", "")
	s.value("z", "3")
	s.sum("t", []string{"x", "y"})
	s.sum("z", []string{"y"})
	if d := s.determined(); len(d) != 2 {
		t.Fatalf("x e y quedan determinadas: %v", d)
	}
	_ = io.EOF
}
