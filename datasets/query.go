package datasets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// Filter is a condition on a declared filter column, from the URL: col=v
// (several values separated by commas, or the parameter repeated), or a
// range with desde_col / hasta_col (inclusive).
type Filter struct {
	Column string
	Values []string
	From   string
	To     string
}

// ErrBadRequest wraps errors caused by the request (Spanish message for
// the user).
type ErrBadRequest struct{ Msg string }

func (e *ErrBadRequest) Error() string { return e.Msg }

func badRequest(format string, a ...any) error { return &ErrBadRequest{Msg: fmt.Sprintf(format, a...)} }

// IsBadRequest reports whether err is the request's fault.
func IsBadRequest(err error) bool {
	var b *ErrBadRequest
	return errors.As(err, &b)
}

// ParseFilters reads the filters of a request. Parameters named in
// reserved are not filters; any other parameter that is not a declared
// filter column is an error.
func (d *Dataset) ParseFilters(q url.Values, reserved ...string) ([]Filter, error) {
	res := map[string]bool{}
	for _, r := range reserved {
		res[r] = true
	}
	byCol := map[string]*Filter{}
	for _, name := range sortedParams(q) {
		if res[name] {
			continue
		}
		col, bound := name, ""
		for _, p := range []string{"desde_", "hasta_"} {
			if c, ok := strings.CutPrefix(name, p); ok {
				col, bound = c, p
			}
		}
		c, ok := d.Column(col)
		if !ok || !c.Filter {
			return nil, badRequest("No se puede filtrar por %q. Filtros disponibles en %s: %s (valor exacto, varios separados por comas) y desde_<columna> / hasta_<columna> para rangos.",
				name, d.ID, strings.Join(d.Filters(), ", "))
		}
		f := byCol[col]
		if f == nil {
			f = &Filter{Column: col}
			byCol[col] = f
		}
		for _, raw := range q[name] {
			for _, v := range strings.Split(raw, ",") {
				v = strings.TrimSpace(v)
				if v == "" {
					continue
				}
				if err := checkValue(c, v); err != nil {
					return nil, err
				}
				switch bound {
				case "desde_":
					f.From = v
				case "hasta_":
					f.To = v
				default:
					f.Values = append(f.Values, v)
				}
			}
		}
	}
	var out []Filter
	for _, col := range d.Filters() {
		if f := byCol[col]; f != nil && (len(f.Values) > 0 || f.From != "" || f.To != "") {
			out = append(out, *f)
		}
	}
	return out, nil
}

func sortedParams(q url.Values) []string {
	out := make([]string, 0, len(q))
	for k := range q {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func checkValue(c Column, v string) error {
	switch kindOf(c.Type) {
	case kindInt:
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return badRequest("El filtro %s espera un número entero, no %q.", c.Name, v)
		}
	case kindDate:
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return badRequest("El filtro %s espera una fecha AAAA-MM-DD, no %q.", c.Name, v)
		}
	case kindDateTime:
		if _, err := time.Parse("2006-01-02 15:04:05", v); err != nil {
			if _, err := time.Parse("2006-01-02", v); err != nil {
				return badRequest("El filtro %s espera una fecha AAAA-MM-DD u hora AAAA-MM-DD HH:MM:SS, no %q.", c.Name, v)
			}
		}
	case kindDecimal:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return badRequest("El filtro %s espera un número, no %q.", c.Name, v)
		}
	}
	if len(v) > 200 {
		return badRequest("Valor demasiado largo para el filtro %s.", c.Name)
	}
	return nil
}

// where renders the filters as SQL over declared columns with bound
// parameters (never the user's text in the SQL).
func (d *Dataset) where(filters []Filter) (string, []warehouse.Param) {
	var conds []string
	var params []warehouse.Param
	for i, f := range filters {
		c, _ := d.Column(f.Column)
		typ := baseType(c.Type)
		if kindOf(c.Type) == kindDateTime && (len(f.From) == 10 || len(f.To) == 10) {
			typ = "DateTime"
		}
		if len(f.Values) > 0 {
			name := fmt.Sprintf("f%d", i)
			vals := make([]string, len(f.Values))
			copy(vals, f.Values)
			conds = append(conds, fmt.Sprintf("%s IN {%s:In(%s)}", f.Column, name, typ))
			params = append(params, warehouse.P(name, vals))
		}
		if f.From != "" {
			name := fmt.Sprintf("f%dd", i)
			conds = append(conds, fmt.Sprintf("%s >= {%s:%s}", f.Column, name, typ))
			params = append(params, warehouse.P(name, f.From))
		}
		if f.To != "" {
			name := fmt.Sprintf("f%dh", i)
			v := f.To
			if kindOf(c.Type) == kindDateTime && len(v) == 10 {
				v += " 23:59:59"
			}
			conds = append(conds, fmt.Sprintf("%s <= {%s:%s}", f.Column, name, typ))
			params = append(params, warehouse.P(name, v))
		}
	}
	return strings.Join(conds, " AND "), params
}

// ErrFormatUnavailable: the engine of this deployment cannot write the
// format (Parquet on ClickHouse 18.16).
var ErrFormatUnavailable = errors.New(ParquetUnavailable)

// Export streams a release's rows, filtered, in a format, at constant
// memory: CSV, Excel CSV and JSON are written from the engine's
// TabSeparated stream, Parquet is the engine's own output.
func Export(ctx context.Context, eng warehouse.Engine, d *Dataset, rel *Release, format string, filters []Filter, w io.Writer) error {
	where, params := d.where(filters)
	params = append(params, warehouse.P("release", rel.Number))
	q := dataSQL(d, where)
	if format == FormatParquet {
		if !ParquetSupported(ctx, eng) {
			return ErrFormatUnavailable
		}
		return eng.Stream(ctx, w, "Parquet", q, params...)
	}
	var rw rowWriter
	switch format {
	case FormatCSV:
		rw = newCSVWriter(w, false)
	case FormatExcel:
		rw = newCSVWriter(w, true)
	case FormatJSON:
		rw = newJSONWriter(w, true)
	default:
		return badRequest("Formato desconocido %q: use csv, excel, json o parquet.", format)
	}
	sink := newTSVSink(d.Columns, rw)
	async := newAsyncWriter(sink)
	err := eng.Stream(ctx, async, "TabSeparated", q, params...)
	if werr := async.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	return sink.Close()
}

// Page is one page of the JSON API.
type Page struct {
	Rows int
	// Last is the row number (fila) of the last row, the cursor of the next
	// page; More says whether there may be one.
	Last uint64
	More bool
	// Records is the JSON array of the page's rows (each with "_id", its
	// row number in the release).
	Records json.RawMessage
}

// idColumn is the row number as the API shows it (CKAN's name for it).
var idColumn = Column{Name: "_id", Type: "UInt64"}

// lastID remembers the first field (the row number) of the last row.
type lastID struct {
	last []byte
	n    int
}

func (l *lastID) header([]Column) error { return nil }
func (l *lastID) row(f [][]byte) error {
	l.last = append(l.last[:0], f[0]...)
	l.n++
	return nil
}
func (l *lastID) close() error { return nil }

// ReadPage returns up to limit rows after row number after (keyset
// pagination in the release's stable order), or, with offset ≥ 0 and no
// cursor, from an offset (the CKAN datastore's way).
func ReadPage(ctx context.Context, eng warehouse.Engine, d *Dataset, rel *Release, filters []Filter, after uint64, offset int64, limit int) (*Page, error) {
	where, params := d.where(filters)
	conds := []string{"release = {release:UInt32}"}
	if where != "" {
		conds = append(conds, where)
	}
	if after > 0 {
		conds = append(conds, "fila > {after:UInt64}")
		params = append(params, warehouse.P("after", after))
	}
	q := "SELECT fila AS _id, " + strings.Join(d.ColumnNames(), ", ") + " FROM " + d.Table + " WHERE " + strings.Join(conds, " AND ") + " ORDER BY fila LIMIT "
	if offset > 0 {
		q += strconv.FormatInt(offset, 10) + ", "
	}
	q += strconv.Itoa(limit)
	params = append(params, warehouse.P("release", rel.Number))
	var buf bytes.Buffer
	ids := &lastID{}
	sink := newTSVSink(append([]Column{idColumn}, d.Columns...), newJSONWriter(&buf, true), ids)
	if err := eng.Stream(ctx, sink, "TabSeparated", q, params...); err != nil {
		return nil, err
	}
	if err := sink.Close(); err != nil {
		return nil, err
	}
	p := &Page{Rows: ids.n, Records: buf.Bytes(), More: ids.n == limit}
	if ids.n > 0 {
		p.Last, _ = strconv.ParseUint(string(ids.last), 10, 64)
	}
	return p, nil
}

// Count counts a release's rows that pass the filters.
func Count(ctx context.Context, eng warehouse.Engine, d *Dataset, rel *Release, filters []Filter) (uint64, error) {
	where, params := d.where(filters)
	q := "SELECT count() FROM " + d.Table + " WHERE release = {release:UInt32}"
	if where != "" {
		q += " AND " + where
	}
	res, err := eng.Query(ctx, q, append(params, warehouse.P("release", rel.Number))...)
	if err != nil {
		return 0, err
	}
	return res.Rows[0][0].(uint64), nil
}

// Preview returns the first n rows of a release, typed.
func Preview(ctx context.Context, eng warehouse.Engine, d *Dataset, rel *Release, n int) (*warehouse.Result, error) {
	return eng.Query(ctx, dataSQL(d, "")+" LIMIT "+strconv.Itoa(n), warehouse.P("release", rel.Number))
}

// diffSQL lists the rows added, removed and changed between releases a and
// b (by row key; a changed row shows its values in b).
func diffSQL(d *Dataset) string {
	cols := strings.Join(d.ColumnNames(), ", ")
	t := d.Table
	return "SELECT cambio, " + cols + " FROM (\n" +
		"SELECT 'agregada' AS cambio, " + cols + ", clave FROM " + t + " WHERE release = {b:UInt32} AND clave NOT IN (SELECT clave FROM " + t + " WHERE release = {a:UInt32})\n" +
		"UNION ALL\n" +
		"SELECT 'eliminada' AS cambio, " + cols + ", clave FROM " + t + " WHERE release = {a:UInt32} AND clave NOT IN (SELECT clave FROM " + t + " WHERE release = {b:UInt32})\n" +
		"UNION ALL\n" +
		"SELECT 'modificada' AS cambio, " + cols + ", clave FROM " + t + " WHERE release = {b:UInt32} AND clave IN (SELECT clave FROM " + t + " WHERE release = {a:UInt32})" +
		" AND (clave, huella) NOT IN (SELECT clave, huella FROM " + t + " WHERE release = {a:UInt32})\n" +
		") AS x ORDER BY clave, cambio"
}

var changeColumn = Column{Name: "cambio", Type: "String", Description: "agregada, eliminada o modificada (con los valores nuevos)"}

// Diff writes, as CSV (or the Excel profile), the rows added, removed and
// changed from release a to release b.
func Diff(ctx context.Context, eng warehouse.Engine, d *Dataset, a, b *Release, excel bool, w io.Writer) error {
	sink := newTSVSink(append([]Column{changeColumn}, d.Columns...), newCSVWriter(w, excel))
	if err := eng.Stream(ctx, sink, "TabSeparated", diffSQL(d), warehouse.P("a", a.Number), warehouse.P("b", b.Number)); err != nil {
		return err
	}
	return sink.Close()
}

// DiffCounts counts the rows added, removed and changed from a to b.
func DiffCounts(ctx context.Context, eng warehouse.Engine, d *Dataset, a, b *Release) (map[string]uint64, error) {
	res, err := eng.Query(ctx, "SELECT cambio, count() FROM (\n"+diffSQL(d)+"\n) AS d GROUP BY cambio", warehouse.P("a", a.Number), warehouse.P("b", b.Number))
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{"agregada": 0, "eliminada": 0, "modificada": 0}
	for _, r := range res.Rows {
		out[r[0].(string)] = r[1].(uint64)
	}
	return out, nil
}

// DatastoreFields describes the columns as CKAN's datastore_search does.
func (d *Dataset) DatastoreFields() []map[string]string {
	out := []map[string]string{{"id": "_id", "type": "int"}}
	for _, c := range d.Columns {
		out = append(out, map[string]string{"id": c.Name, "type": ckanType(c), "info": c.Description})
	}
	return out
}

// CKANFilters converts datastore_search's filters parameter (a JSON object
// of column: value or [values]) to Filters.
func (d *Dataset) CKANFilters(raw string) ([]Filter, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, badRequest("filters debe ser un objeto JSON: %v", err)
	}
	q := url.Values{}
	for k, v := range m {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				q.Add(k, fmt.Sprint(e))
			}
		default:
			q.Add(k, fmt.Sprint(x))
		}
	}
	return d.ParseFilters(q)
}
