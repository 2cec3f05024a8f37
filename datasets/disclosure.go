package datasets

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/analytics"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// How each dataset is built. The dataset's SQL only selects; the
// disclosure control is applied here, at publication, from the policy the
// catalog declares, so no query can publish around it.
type builder interface{ isBuilder() }

// sqlBuild: public data, published as the query returns it. A query
// that takes no {corte} (reference data loaded outside the ETL runs) is
// bound without it (snapshot.params).
type sqlBuild struct {
	query string
}

// recordBuild: record-level rows, published k-anonymous over the quasi-
// identifiers: rows whose class has fewer than k distinct values of the
// distinct column (the taxpayer) are withheld.
type recordBuild struct {
	query    string
	distinct string
}

// aggBuild: aggregate cells, assembled from one or more queries that share
// the dataset's key columns. Each part brings some measure columns, the
// statistics of its contributors (contribuyentes, top1, top2 and the total
// column) and a suppression flag.
type aggBuild struct{ parts []aggPart }

type aggPart struct {
	query  string
	values []string // published measure columns this part fills
	// flag is the published suppression flag; empty for public values
	// (never suppressed, such as a FUT budget).
	flag string
	// total is the query column the dominance rule compares the two
	// largest contributions with.
	total string
	// level places the part's cells in the lattice of payment totals
	// (day ⊂ month ⊂ year) for secondary suppression.
	level string
	// missingZero: a row without a cell from this part has zeros (no
	// payment that month is a true zero); otherwise NULL (no data).
	missingZero bool
}

func (sqlBuild) isBuilder()    {}
func (recordBuild) isBuilder() {}
func (aggBuild) isBuilder()    {}

// Levels of the payments lattice: every published total of payments is a
// sum of finer published cells (daily cells sum to monthly ones, monthly
// to yearly), so a suppressed cell must not be the only unknown in any
// published sum.
const (
	levelDay   = "dia"
	levelMonth = "mes"
	levelYear  = "anio"
)

// Suppression reasons, as the release metadata reports them.
const (
	reasonK         = "k"
	reasonDominance = "dominancia"
	reasonSecondary = "secundaria"
)

// cell is one measure group of one aggregate row.
type cell struct {
	ds       *Dataset
	row      *aggRow
	part     int
	values   fields // part.values
	contrib  uint64
	top1     float64
	top2     float64
	total    float64
	amount   float64 // |total|, to pick the cheapest complement
	reason   string
	level    string
	parent   *cell
	kids     []*cell
	auditIdx int
}

func (c *cell) suppressed() bool { return c.reason != "" }

func (c *cell) String() string {
	return fmt.Sprintf("%s[%s]", c.ds.ID, c.row.key)
}

type aggRow struct {
	key   string
	dims  fields  // the dataset's columns that are not measures or flags
	cells []*cell // one per part, nil when the part has no cell
}

type aggResult struct {
	ds   *Dataset
	rows []*aggRow
}

// Thresholds of the rules.
type rules struct {
	k            int
	dominancePct float64
}

// primary applies the k and dominance rules to one cell.
func (r rules) primary(c *cell, p Policy) {
	if c.contrib < uint64(r.k) {
		c.reason = reasonK
		return
	}
	if p.Dominance && c.total > 0 && c.top1+c.top2 > r.dominancePct/100*c.total {
		c.reason = reasonDominance
	}
}

// buildAggregates runs the queries of every aggregate dataset and applies
// primary and secondary suppression. All aggregate datasets are built
// together because secondary suppression spans datasets.
func buildAggregates(ctx context.Context, eng warehouse.Engine, snap *snapshot, names map[string]string, r rules) (map[string]*aggResult, error) {
	out := map[string]*aggResult{}
	levels := map[string]map[string]*cell{}
	slices, err := taxpayerSlices(ctx, eng)
	if err != nil {
		return nil, err
	}
	values := internedValues{}
	for i := range Catalog {
		d := &Catalog[i]
		b, ok := d.build.(aggBuild)
		if !ok {
			continue
		}
		res := &aggResult{ds: d}
		rows := map[string]*aggRow{}
		dims := dimColumns(d) // shared by every row's fields
		for pi, part := range b.parts {
			q, err := analytics.Get(part.query)
			if err != nil {
				return nil, err
			}
			step := newSteps(ctx, eng, "agregados")
			f := &partFold{d: d, part: part, pi: pi, nparts: len(b.parts), dims: dims, rows: rows, values: values}
			if err := runSliced(ctx, eng, q.SQL, snap, slices, f.add); err != nil {
				return nil, fmt.Errorf("%s (%s): %w", d.ID, part.query, err)
			}
			step.done(part.query)
			f.finish(r, levels)
		}
		for _, row := range rows {
			fillNames(d, row, names)
			res.rows = append(res.rows, row)
		}
		sort.Slice(res.rows, func(i, j int) bool { return lessKey(d, res.rows[i], res.rows[j]) })
		out[d.ID] = res
	}
	if err := linkLattice(levels); err != nil {
		return nil, err
	}
	secondary(levels)
	return out, nil
}

// dimColumns are the dataset's columns that are neither measures nor flags.
func dimColumns(d *Dataset) []string {
	var dims []string
	for _, col := range d.Columns {
		if col.Role != Measure && col.Role != Flag {
			dims = append(dims, col.Name)
		}
	}
	return dims
}

// fillNames completes name columns (municipio, entidad) from DIVIPOLA when
// a part did not bring them.
func fillNames(d *Dataset, row *aggRow, names map[string]string) {
	for name, code := range map[string]string{"municipio": "codigo_municipio", "entidad": "codigo_entidad"} {
		if _, ok := d.Column(name); !ok {
			continue
		}
		if s, _ := row.dims.get(name).(string); s != "" {
			continue
		}
		c, _ := row.dims.get(code).(string)
		row.dims.set(name, names[c])
	}
}

// lessKey orders rows by the dataset's key columns, by value.
func lessKey(d *Dataset, a, b *aggRow) bool {
	for _, k := range d.Key {
		if c := compareValues(a.dims.get(k), b.dims.get(k)); c != 0 {
			return c < 0
		}
	}
	return false
}

func compareValues(a, b any) int {
	switch x := a.(type) {
	case time.Time:
		y, _ := b.(time.Time)
		return x.Compare(y)
	case uint64:
		y, _ := b.(uint64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case int64:
		y, _ := b.(int64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(textOf(a), textOf(b))
}

// latticeKey is the key of a cell in its level, from its row's dims.
func latticeKey(level string, dims fields) string {
	switch level {
	case levelDay:
		return fmt.Sprintf("%s|%v|%v|%v", textOf(dims.get("fecha")), dims.get("codigo_municipio"), dims.get("impuesto"), dims.get("canal"))
	case levelMonth:
		return fmt.Sprintf("%s|%v|%v", textOf(dims.get("mes")), dims.get("codigo_municipio"), dims.get("impuesto"))
	case levelYear:
		return fmt.Sprintf("%s|%v|%v", textOf(dims.get("anio")), dims.get("codigo_entidad"), dims.get("impuesto"))
	}
	return ""
}

// parentKey is the key, in the next level up, of the total a cell is part
// of: a day's cell goes into its month's (every channel), a month's into
// its year's (ICA and ReteICA together, as the FUT groups them).
func parentKey(level string, dims fields) (string, string) {
	switch level {
	case levelDay:
		t, _ := dims.get("fecha").(time.Time)
		m := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return levelMonth, fmt.Sprintf("%s|%v|%v", textOf(m), dims.get("codigo_municipio"), dims.get("impuesto"))
	case levelMonth:
		t, _ := dims.get("mes").(time.Time)
		g := "ica"
		if dims.get("impuesto") == "predial" {
			g = "predial"
		}
		return levelYear, fmt.Sprintf("%d|%v|%s", t.Year(), dims.get("codigo_municipio"), g)
	}
	return "", ""
}

func linkLattice(levels map[string]map[string]*cell) error {
	for _, level := range []string{levelDay, levelMonth} {
		for _, c := range levels[level] {
			pl, pk := parentKey(level, c.row.dims)
			p := levels[pl][pk]
			if p == nil {
				if len(levels[pl]) == 0 {
					continue // the level up is not published
				}
				return fmt.Errorf("supresión secundaria: la celda %s no tiene total %s %q publicado", c, pl, pk)
			}
			c.parent = p
			p.kids = append(p.kids, c)
		}
	}
	for _, m := range levels {
		for _, c := range m {
			sort.Slice(c.kids, func(i, j int) bool { return c.kids[i].row.key < c.kids[j].row.key })
		}
	}
	return nil
}

// cheapest returns the unsuppressed cell of cs with the smallest amount
// (the least information lost), or nil.
func cheapest(cs []*cell, except *cell) *cell {
	var best *cell
	for _, c := range cs {
		if c.suppressed() || c == except {
			continue
		}
		if best == nil || c.amount < best.amount || (c.amount == best.amount && c.row.key < best.row.key) {
			best = c
		}
	}
	return best
}

// secondary suppresses more cells until no suppressed cell can be derived
// from the published totals: first the usual rules for each total (a
// published total has no suppressed part or at least two; a suppressed
// total has at least one suppressed part), then an exact audit of the
// linear system the published cells form, adding suppressions until every
// suppressed cell is undetermined.
func secondary(levels map[string]map[string]*cell) {
	var parents []*cell
	for _, level := range []string{levelMonth, levelYear} {
		for _, c := range levels[level] {
			if len(c.kids) > 0 {
				parents = append(parents, c)
			}
		}
	}
	sort.Slice(parents, func(i, j int) bool {
		if parents[i].level != parents[j].level {
			return parents[i].level < parents[j].level
		}
		return parents[i].row.key < parents[j].row.key
	})
	suppress := func(c *cell) { c.reason = reasonSecondary }
	for {
		changed := false
		for _, p := range parents {
			n := 0
			var one *cell
			for _, k := range p.kids {
				if k.suppressed() {
					n++
					one = k
				}
			}
			switch {
			case !p.suppressed() && n == 1:
				if c := cheapest(p.kids, one); c != nil {
					suppress(c)
				} else {
					suppress(p) // the total equals its only part
				}
				changed = true
			case p.suppressed() && n == 0:
				suppress(cheapest(p.kids, nil))
				changed = true
			}
		}
		if changed {
			continue
		}
		det := determined(parents)
		if len(det) == 0 {
			return
		}
		for _, x := range det {
			// Widen the equation that pins x down: suppress the cheapest
			// published sibling, else a part, else the total.
			if x.parent != nil {
				if c := cheapest(x.parent.kids, x); c != nil {
					suppress(c)
					continue
				}
			}
			if c := cheapest(x.kids, nil); c != nil {
				suppress(c)
				continue
			}
			if x.parent != nil && !x.parent.suppressed() {
				suppress(x.parent)
			}
		}
	}
}

// determined returns the suppressed cells whose value follows from the
// published ones: each total gives the equation total − Σ parts = 0; with
// the published values known, a suppressed cell is determined when its unit
// vector lies in the row space of the equations over the suppressed cells
// (Gaussian elimination, per connected component).
func determined(parents []*cell) []*cell {
	type eq []*cell // suppressed cells of one equation, total first with sign +1
	var eqs [][]*cell
	var signs [][]float64
	for _, p := range parents {
		var vars []*cell
		var sg []float64
		if p.suppressed() {
			vars, sg = append(vars, p), append(sg, 1)
		}
		for _, k := range p.kids {
			if k.suppressed() {
				vars, sg = append(vars, k), append(sg, -1)
			}
		}
		if len(vars) > 0 {
			eqs = append(eqs, vars)
			signs = append(signs, sg)
		}
	}
	// Union-find over cells to split the system into components.
	parent := map[*cell]*cell{}
	var find func(c *cell) *cell
	find = func(c *cell) *cell {
		if parent[c] == nil || parent[c] == c {
			parent[c] = c
			return c
		}
		r := find(parent[c])
		parent[c] = r
		return r
	}
	for _, e := range eqs {
		for _, c := range e[1:] {
			a, b := find(e[0]), find(c)
			if a != b {
				parent[a] = b
			}
		}
	}
	comps := map[*cell][]int{}
	for i, e := range eqs {
		r := find(e[0])
		comps[r] = append(comps[r], i)
	}
	var out []*cell
	for _, idx := range comps {
		var vars []*cell
		for _, i := range idx {
			for _, c := range eqs[i] {
				if c.auditIdx == 0 {
					vars = append(vars, c)
					c.auditIdx = len(vars)
				}
			}
		}
		m := make([][]float64, len(idx))
		for r, i := range idx {
			m[r] = make([]float64, len(vars))
			for j, c := range eqs[i] {
				m[r][c.auditIdx-1] += signs[i][j]
			}
		}
		for _, j := range pinned(m, len(vars)) {
			out = append(out, vars[j])
		}
		for _, c := range vars {
			c.auditIdx = 0
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// pinned row-reduces m (rows × n) and returns the columns whose variable
// is determined: a pivot column whose row has no other nonzero entry.
func pinned(m [][]float64, n int) []int {
	const eps = 1e-9
	row := 0
	pivots := make([]int, 0, n)
	for col := 0; col < n && row < len(m); col++ {
		best := -1
		for r := row; r < len(m); r++ {
			if math.Abs(m[r][col]) > eps && (best < 0 || math.Abs(m[r][col]) > math.Abs(m[best][col])) {
				best = r
			}
		}
		if best < 0 {
			continue
		}
		m[row], m[best] = m[best], m[row]
		pv := m[row][col]
		for j := range m[row] {
			m[row][j] /= pv
		}
		for r := range m {
			if r != row && math.Abs(m[r][col]) > eps {
				f := m[r][col]
				for j := range m[r] {
					m[r][j] -= f * m[row][j]
				}
			}
		}
		pivots = append(pivots, col)
		row++
	}
	var out []int
	for r, col := range pivots {
		alone := true
		for j := 0; j < n; j++ {
			if j != col && math.Abs(m[r][j]) > eps {
				alone = false
				break
			}
		}
		if alone {
			out = append(out, col)
		}
	}
	return out
}

// textOf renders a value as the key and fingerprint text.
func textOf(v any) string {
	switch x := v.(type) {
	case nil:
		return `\N`
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 {
			return x.Format("2006-01-02")
		}
		return x.UTC().Format("2006-01-02 15:04:05")
	case decimal.Decimal:
		return x.StringFixed(2)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case decimal.Decimal:
		f, _ := x.Float64()
		return f
	case float64:
		return x
	case uint64:
		return float64(x)
	case int64:
		return float64(x)
	}
	return 0
}

// suppressionReport counts what the disclosure control did to a dataset.
type suppressionReport struct {
	Cells     int            `json:"celdas"`
	Withheld  int            `json:"celdas_suprimidas"`
	ByReason  map[string]int `json:"por_motivo"`
	RowsTotal int64          `json:"filas_fuente,omitempty"`
	RowsOut   int64          `json:"filas_suprimidas,omitempty"`
}

// publishedRows turns an aggregate result into the table's rows (without
// the hidden columns) and counts the suppressions.
func (a *aggResult) publishedRows() ([][]any, suppressionReport) {
	d := a.ds
	b := d.build.(aggBuild)
	rep := suppressionReport{ByReason: map[string]int{}}
	out := make([][]any, 0, len(a.rows))
	for _, row := range a.rows {
		vals := make([]any, 0, len(d.Columns))
		for _, col := range d.Columns {
			switch col.Role {
			case Measure, Flag:
				pi, isFlag := partOf(b, col.Name)
				if pi < 0 {
					vals = append(vals, nil)
					continue
				}
				c := row.cells[pi]
				part := b.parts[pi]
				switch {
				case isFlag && c != nil && c.suppressed():
					vals = append(vals, uint8(1))
				case isFlag:
					vals = append(vals, uint8(0))
				case c == nil && part.missingZero:
					vals = append(vals, zeroOf(col.Type))
				case c == nil || c.suppressed():
					vals = append(vals, nil)
				default:
					vals = append(vals, c.values.get(col.Name))
				}
			default:
				if pi, _ := partOf(b, col.Name); pi >= 0 { // a public value of a part
					if c := row.cells[pi]; c != nil {
						vals = append(vals, c.values.get(col.Name))
					} else {
						vals = append(vals, nil)
					}
					continue
				}
				vals = append(vals, row.dims.get(col.Name))
			}
		}
		for _, c := range row.cells {
			if c == nil || b.parts[c.part].flag == "" {
				continue
			}
			rep.Cells++
			if c.suppressed() {
				rep.Withheld++
				rep.ByReason[c.reason]++
			}
		}
		out = append(out, vals)
	}
	return out, rep
}

// partOf finds the part that fills a column (a value or its flag).
func partOf(b aggBuild, col string) (int, bool) {
	for i, p := range b.parts {
		if p.flag == col {
			return i, true
		}
		for _, v := range p.values {
			if v == col {
				return i, false
			}
		}
	}
	return -1, false
}

func zeroOf(typ string) any {
	if kindOf(typ) == kindDecimal {
		return decimal.Zero
	}
	return uint64(0)
}

// fields are the values of a row's dimensions or of a cell's measures, by
// name: the names are the dataset's or the part's, shared by every row, so
// each row holds one slice of values. With a map per row and per cell, the
// 41,276 rows of pagos-diarios at 1.1M liquidations held 28.5 MB in maps
// alone, through the whole publication (etl/BENCHMARKS.md, "Session 12").
type fields struct {
	names []string
	vals  []any
}

func newFields(names []string) fields { return fields{names: names, vals: make([]any, len(names))} }

// get is the value of name, nil when it has none.
func (f fields) get(name string) any {
	for i, n := range f.names {
		if n == name {
			return f.vals[i]
		}
	}
	return nil
}

// set sets the value of name, which must be one of the names.
func (f fields) set(name string, v any) {
	for i, n := range f.names {
		if n == name {
			f.vals[i] = v
			return
		}
	}
	panic("datasets: campo desconocido " + name)
}
