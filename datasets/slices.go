package datasets

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// rowsPerSlice bounds the fact rows one statement of an aggregate query
// with a per-taxpayer step groups. Those statements group first by cell
// and taxpayer, which holds every (cell, taxpayer) pair: at 19.8M
// liquidations one statement reached 665 MB in `etl run`, most of it
// merging the hundreds of files its GROUP BY spilled (etl/BENCHMARKS.md,
// "Session 7"). Split by a hash of the taxpayer, each statement holds
// about rowsPerSlice rows' pairs at most, and spills little or nothing.
const rowsPerSlice = 5_000_000

// taxpayerSlices is how many slices the aggregate queries split the
// taxpayers into: one per rowsPerSlice rows of the larger fact table.
func taxpayerSlices(ctx context.Context, eng warehouse.Engine) (uint64, error) {
	res, err := eng.Query(ctx, "SELECT (SELECT count() FROM liquidations), (SELECT count() FROM payments)")
	if err != nil {
		return 0, err
	}
	n := max(res.Rows[0][0].(uint64), res.Rows[0][1].(uint64))
	return n/rowsPerSlice + 1, nil
}

// runSliced runs an aggregate part's query, once per taxpayer slice when
// it takes them ({tajadas}, {tajada}), and hands each statement's result
// to fold as it comes (sliced tells whether the statement was one slice).
// Each result is garbage once folded, and its memory is given back before
// the next statement: the cells are all the heap holds between two. When
// the slices were merged into rows first, those rows and the cells stood
// at 100 MB of Go heap in the first query of a publication at 19.8M
// liquidations, which set the run's high-water mark (etl/BENCHMARKS.md,
// "Session 12").
func runSliced(ctx context.Context, eng warehouse.Engine, sql string, snap *snapshot, slices uint64, fold func(res *warehouse.Result, sliced bool) error) error {
	params, err := snap.params(ctx, sql)
	if err != nil {
		return err
	}
	sliced := strings.Contains(sql, "{tajadas:")
	if !sliced {
		slices = 1
	}
	for i := uint64(0); i < slices; i++ {
		p := params
		if sliced {
			p = append(append([]warehouse.Param{}, params...), warehouse.P("tajadas", slices), warehouse.P("tajada", i))
		}
		res, err := eng.Query(ctx, sql, p...)
		if err != nil {
			return err
		}
		if err := fold(res, sliced); err != nil {
			return err
		}
		debug.FreeOSMemory()
	}
	return nil
}

// partFold folds the rows of one part's query into its dataset's rows
// and cells. A query split by taxpayer brings a cell once per slice that
// has taxpayers in it: a taxpayer is in exactly one slice, so the
// contributors and the part's measures add up, and the two largest
// contributions of a cell are the two largest of its slices' top1 and
// top2. The other columns are the cell's dimensions, the same in every
// slice. The suppression rules need the whole cell, so they run in finish.
type partFold struct {
	d      *Dataset
	part   aggPart
	pi     int // the part's position in the dataset's parts
	nparts int
	dims   []string // the dataset's dimension columns, shared by its rows
	rows   map[string]*aggRow
	// values holds one copy of each dimension value (texts, dates) for every row of
	// every dataset (nil: none shared).
	values internedValues

	cols  *foldColumns // positions in the query's result, from its first
	cells []*cell      // the cells this part made, for finish
	// totals are the cells' total column summed over the slices, until
	// finish turns them into the float the dominance rule compares.
	totals map[*cell]any
}

// internedValues keeps one boxed copy of each text a query returned for a
// dimension. The cells of every aggregated dataset stay in memory until
// the secondary suppression across them, and each row's dimensions were
// values of their own, a text keeping its whole line of the result alive:
// the cells of a publication held 85-87 MB of Go heap at 19.8M
// liquidations, in the phase that sets its high-water mark
// (etl/BENCHMARKS.md, "Session 13"). Municipalities, taxes, channels and
// dates repeat across rows.
type internedValues map[any]any

func (iv internedValues) of(v any) any {
	if iv == nil {
		return v
	}
	switch x := v.(type) {
	case string:
		if have, ok := iv[x]; ok {
			return have
		}
		// A copy, not a slice of the result's line.
		c := strings.Clone(x)
		var boxed any = c
		iv[c] = boxed
		return boxed
	case time.Time:
		if have, ok := iv[x]; ok {
			return have
		}
		iv[x] = v
		return v
	}
	return v
}

// foldColumns are the positions of what a fold reads in a query's result
// (-1: not there).
type foldColumns struct {
	keys                     []int
	dims, values             []int
	contrib, top1, top2, tot int
}

func (f *partFold) columns(res *warehouse.Result, sliced bool) (*foldColumns, error) {
	keys, err := keyColumns(res, f.d, f.part)
	if err != nil {
		return nil, err
	}
	c := &foldColumns{keys: keys, contrib: res.Index("contribuyentes"), top1: res.Index("top1"), top2: res.Index("top2"), tot: -1}
	if f.part.total != "" {
		c.tot = res.Index(f.part.total)
	}
	for _, name := range f.dims {
		c.dims = append(c.dims, res.Index(name))
	}
	for _, v := range f.part.values {
		i := res.Index(v)
		if i < 0 {
			return nil, fmt.Errorf("%s: la consulta %s no devuelve %s", f.d.ID, f.part.query, v)
		}
		c.values = append(c.values, i)
	}
	if sliced && (c.contrib < 0 || c.top1 < 0 || c.top2 < 0) {
		return nil, fmt.Errorf("%s: la consulta %s se divide por contribuyente pero no devuelve contribuyentes, top1 y top2", f.d.ID, f.part.query)
	}
	return c, nil
}

// add folds one statement's rows.
func (f *partFold) add(res *warehouse.Result, sliced bool) error {
	if f.cols == nil {
		cols, err := f.columns(res, sliced)
		if err != nil {
			return err
		}
		f.cols = cols
	}
	cols := f.cols
	get := func(row []any, i int) any {
		if i < 0 {
			return nil
		}
		return row[i]
	}
	for _, qrow := range res.Rows {
		key := cellKey(qrow, cols.keys)
		row := f.rows[key]
		if row == nil {
			row = &aggRow{key: key, dims: newFields(f.dims), cells: make([]*cell, f.nparts)}
			f.rows[key] = row
		}
		for j, name := range f.dims {
			if i := cols.dims[j]; i >= 0 {
				v := qrow[i]
				if s, isStr := v.(string); !isStr || s != "" || row.dims.vals[j] == nil {
					row.dims.set(name, f.values.of(v))
				}
			}
		}
		c := row.cells[f.pi]
		if c != nil && !sliced {
			return fmt.Errorf("%s: la consulta %s devuelve dos filas de la celda %s", f.d.ID, f.part.query, key)
		}
		if c == nil {
			c = &cell{ds: f.d, row: row, part: f.pi, values: newFields(f.part.values), level: f.part.level}
			for j, i := range cols.values {
				c.values.vals[j] = qrow[i]
			}
			if f.part.flag != "" {
				c.contrib, _ = get(qrow, cols.contrib).(uint64)
				c.top1, c.top2 = toFloat(get(qrow, cols.top1)), toFloat(get(qrow, cols.top2))
				if f.totals == nil {
					f.totals = map[*cell]any{}
				}
				f.totals[c] = get(qrow, cols.tot)
			}
			row.cells[f.pi] = c
			f.cells = append(f.cells, c)
			continue
		}
		// The cell's next slice.
		var err error
		for j, i := range cols.values {
			if c.values.vals[j], err = addValues(c.values.vals[j], qrow[i]); err != nil {
				return fmt.Errorf("%s, columna %s: %w", f.d.ID, res.Columns[i].Name, err)
			}
		}
		if f.part.flag != "" {
			n, _ := get(qrow, cols.contrib).(uint64)
			c.contrib += n
			if f.totals[c], err = addValues(f.totals[c], get(qrow, cols.tot)); err != nil {
				return fmt.Errorf("%s, columna %s: %w", f.d.ID, f.part.total, err)
			}
			tops := []float64{c.top1, c.top2, toFloat(get(qrow, cols.top1)), toFloat(get(qrow, cols.top2))}
			sort.Sort(sort.Reverse(sort.Float64Slice(tops)))
			c.top1, c.top2 = tops[0], tops[1]
		}
	}
	return nil
}

// finish applies the primary suppression rules to the part's whole cells
// and places them in the lattice of payment totals.
func (f *partFold) finish(r rules, levels map[string]map[string]*cell) {
	for _, c := range f.cells {
		if f.part.flag != "" {
			c.total = toFloat(f.totals[c])
			c.amount = math.Abs(c.total)
			r.primary(c, f.d.Policy)
		}
		if f.part.level != "" {
			if levels[f.part.level] == nil {
				levels[f.part.level] = map[string]*cell{}
			}
			levels[f.part.level][latticeKey(f.part.level, c.row.dims)] = c
		}
	}
	f.cells, f.totals = nil, nil
}

// keyColumns are the positions of the dataset's key columns in a part's
// result.
func keyColumns(res *warehouse.Result, d *Dataset, part aggPart) ([]int, error) {
	keys := make([]int, len(d.Key))
	for j, k := range d.Key {
		if keys[j] = res.Index(k); keys[j] < 0 {
			return nil, fmt.Errorf("%s: la consulta %s no devuelve la columna clave %s", d.ID, part.query, k)
		}
	}
	return keys, nil
}

// cellKey identifies a row's cell by its key columns' values.
func cellKey(row []any, keys []int) string {
	kv := make([]string, len(keys))
	for j, k := range keys {
		kv[j] = textOf(row[k])
	}
	return strings.Join(kv, "|")
}

// addValues adds two values of one column of a query's result.
func addValues(a, b any) (any, error) {
	switch x := a.(type) {
	case uint64:
		if y, ok := b.(uint64); ok {
			return x + y, nil
		}
	case int64:
		if y, ok := b.(int64); ok {
			return x + y, nil
		}
	case float64:
		if y, ok := b.(float64); ok {
			return x + y, nil
		}
	case decimal.Decimal:
		if y, ok := b.(decimal.Decimal); ok {
			return x.Add(y), nil
		}
	}
	return nil, fmt.Errorf("no se saben sumar %T y %T", a, b)
}
