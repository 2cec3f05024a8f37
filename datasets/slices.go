package datasets

import (
	"context"
	"fmt"
	"sort"
	"strings"

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
// it takes them ({tajadas}, {tajada}), and adds the slices' cells up: a
// taxpayer is in exactly one slice, so contributors and the part's
// measures add up, and the two largest contributions of a cell are the two
// largest of its slices' top1 and top2. The other columns are the cell's
// dimensions, the same in every slice.
func runSliced(ctx context.Context, eng warehouse.Engine, sql string, snap *snapshot, slices uint64, d *Dataset, part aggPart) (*warehouse.Result, error) {
	params, err := snap.params(ctx, sql)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(sql, "{tajadas:") {
		return eng.Query(ctx, sql, params...)
	}
	var out *warehouse.Result
	var keys, add []int
	top1, top2 := -1, -1
	cells := map[string][]any{}
	for i := uint64(0); i < slices; i++ {
		res, err := eng.Query(ctx, sql, append(append([]warehouse.Param{}, params...), warehouse.P("tajadas", slices), warehouse.P("tajada", i))...)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = &warehouse.Result{Columns: res.Columns}
			if keys, add, top1, top2, err = sliceColumns(res, d, part); err != nil {
				return nil, err
			}
		}
		for _, row := range res.Rows {
			key := cellKey(row, keys)
			have, ok := cells[key]
			if !ok {
				cells[key] = row
				out.Rows = append(out.Rows, row)
				continue
			}
			for _, j := range add {
				if have[j], err = addValues(have[j], row[j]); err != nil {
					return nil, fmt.Errorf("%s, columna %s: %w", d.ID, res.Columns[j].Name, err)
				}
			}
			tops := []float64{toFloat(have[top1]), toFloat(have[top2]), toFloat(row[top1]), toFloat(row[top2])}
			sort.Sort(sort.Reverse(sort.Float64Slice(tops)))
			have[top1], have[top2] = tops[0], tops[1]
		}
	}
	return out, nil
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

// sliceColumns tells the key, additive and top columns of a sliced query.
func sliceColumns(res *warehouse.Result, d *Dataset, part aggPart) (keys, add []int, top1, top2 int, err error) {
	if keys, err = keyColumns(res, d, part); err != nil {
		return nil, nil, 0, 0, err
	}
	seen := map[int]bool{}
	for _, name := range append([]string{"contribuyentes", part.total}, part.values...) {
		if i := res.Index(name); i >= 0 && !seen[i] {
			seen[i] = true
			add = append(add, i)
		}
	}
	top1, top2 = res.Index("top1"), res.Index("top2")
	if top1 < 0 || top2 < 0 || len(add) == 0 {
		return nil, nil, 0, 0, fmt.Errorf("%s: la consulta %s se divide por contribuyente pero no devuelve contribuyentes, top1 y top2", d.ID, part.query)
	}
	return keys, add, top1, top2, nil
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
