package gel

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/analytics"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// The tracker's computation is SQL, one file per named query under
// queries/, the same on chDB and on ClickHouse 18.16. Files whose name
// starts with "_" are fragments, not queries: a query includes fragment
// _x.sql by writing {{x}} (as a subquery), and the registry expands it
// when the package loads, so Get returns plain SQL with only {name:Type}
// placeholders left. Fragments: medidas (measurements resolved to the
// catalog), serie (progress per date), fases (progress and status as of a
// date).

//go:embed queries/*.sql
var queryFiles embed.FS

var includeRe = regexp.MustCompile(`\{\{\s*([a-z_]+)\s*\}\}`)

var queries = mustQueries()

// fragments expands a fragment (tests and benchmarks).
var fragments func(name string) string

func mustQueries() map[string]analytics.Query {
	raw := map[string]string{}
	entries, err := fs.ReadDir(queryFiles, "queries")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := queryFiles.ReadFile("queries/" + e.Name())
		if err != nil {
			panic(err)
		}
		raw[strings.TrimSuffix(e.Name(), ".sql")] = string(b)
	}
	for name, text := range generatedFragments(catalog) {
		raw[name] = text
	}
	var expand func(name string, depth int) string
	expand = func(name string, depth int) string {
		if depth > 5 {
			panic("gel: fragments nested too deep at " + name)
		}
		return includeRe.ReplaceAllStringFunc(raw[name], func(m string) string {
			frag := "_" + includeRe.FindStringSubmatch(m)[1]
			if _, ok := raw[frag]; !ok {
				panic(fmt.Sprintf("gel: query %s includes unknown fragment %s", name, frag))
			}
			return "\n" + expand(frag, depth+1) + "\n"
		})
	}
	fragments = func(name string) string { return expand(name, 0) }
	out := map[string]analytics.Query{}
	for name, text := range raw {
		if strings.HasPrefix(name, "_") {
			continue
		}
		desc, _, _ := strings.Cut(text, "\n")
		out[name] = analytics.Query{Name: name, Description: strings.TrimSpace(strings.TrimPrefix(desc, "--")), SQL: expand(name, 0)}
	}
	return out
}

// Query names. Every one is also usable from SQL-only consumers (datasets)
// through Get or Stream. Every one but gel_entidad takes corte (DateTime):
// only ETL runs committed up to then count (NoCutoff: all of them).
const (
	// QFases: progress and status of each phase per entity as of a date
	// (marco, entidad, fecha, corte).
	QFases = "gel_fases"
	// QSerie: progress per phase and entity on each measurement date up to
	// a date, the trend (marco, entidad, fecha, corte).
	QSerie = "gel_serie"
	// QCriterios: each measured criterion of an entity as of a date
	// (marco, entidad, fecha, corte).
	QCriterios = "gel_criterios"
	// QClasificacion: ranking with ties, nationally and by department, and
	// the averages (marco, fase, entidad = "", fecha, corte, departamento).
	QClasificacion = "gel_clasificacion"
	// QAcciones: action-plan items and their status as of a date
	// (entidad, fecha, corte).
	QAcciones = "gel_acciones"
	// QIGD: the published Índice de Gobierno Digital of an entity with its
	// peer-group average (entidad, vigencia, corte).
	QIGD = "gel_igd"
	// QEntidades: entities with measurements, per framework (corte).
	QEntidades = "gel_entidades"
)

// Names lists the tracker's named queries.
func Names() []string {
	out := make([]string, 0, len(queries))
	for n := range queries {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Get returns a named query with its fragments expanded.
func Get(name string) (analytics.Query, error) {
	q, ok := queries[name]
	if !ok {
		return analytics.Query{}, fmt.Errorf("gel: consulta desconocida %q", name)
	}
	return q, nil
}

// Run runs a named query.
func Run(ctx context.Context, e warehouse.Engine, name string, params ...warehouse.Param) (*warehouse.Result, error) {
	q, err := Get(name)
	if err != nil {
		return nil, err
	}
	res, err := e.Query(ctx, q.SQL, params...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return res, nil
}

// Stream runs a named query and writes it in a ClickHouse output format
// (CSVWithNames, JSONEachRow...).
func Stream(ctx context.Context, e warehouse.Engine, w io.Writer, format, name string, params ...warehouse.Param) error {
	q, err := Get(name)
	if err != nil {
		return err
	}
	return e.Stream(ctx, w, format, q.SQL, params...)
}

// generatedFragments are array literals from the embedded catalog that the
// SQL uses with transform() and has() instead of joining catalog tables:
// the queries always use the catalog of the binary that runs them, and
// chDB and ClickHouse 18.16 both do a transform() far cheaper than a join.
// Every element is a quoted string or a number: ids and keys are
// [a-z0-9-|] only, names go through quote.
func generatedFragments(c *Catalog) map[string]string {
	var (
		faseDesde, faseHacia, faseIDs, faseMetas, fasePlazos, faseNombres, fasePos             []string
		critDesde, critHacia, critIDs, critMetas, critPlazos, critNombres, critGrupos, critPos []string
		marcos, marcoFases, totals                                                             []string
	)
	seen := map[string]bool{}
	for _, k := range totalAliases {
		if !seen["t"+Key(k)] {
			seen["t"+Key(k)] = true
			totals = append(totals, quote(Key(k)))
		}
	}
	for _, f := range c.Frameworks {
		marcos = append(marcos, quote(f.ID))
		marcoFases = append(marcoFases, fmt.Sprint(len(f.Phases)))
		for _, p := range f.Phases {
			id := f.ID + "|" + p.ID
			faseIDs = append(faseIDs, quote(id))
			faseMetas = append(faseMetas, float(p.Target))
			fasePlazos = append(fasePlazos, quote(dateText(p.Deadline)))
			faseNombres = append(faseNombres, quote(p.Name))
			fasePos = append(fasePos, fmt.Sprint(p.Position))
			for _, a := range append([]string{p.ID, p.Name}, p.Aliases...) {
				k := f.ID + "|" + PhaseKey(a)
				if !seen["f"+k] {
					seen["f"+k] = true
					faseDesde, faseHacia = append(faseDesde, quote(k)), append(faseHacia, quote(p.ID))
				}
			}
			for _, a := range totalAliases {
				k := id + "|" + Key(a)
				if !seen["c"+k] {
					seen["c"+k] = true
					critDesde, critHacia = append(critDesde, quote(k)), append(critHacia, quote(TotalCriterion))
				}
			}
			critIDs = append(critIDs, quote(id+"|"+TotalCriterion))
			critMetas = append(critMetas, float(p.Target))
			critPlazos = append(critPlazos, quote(dateText(p.Deadline)))
			critNombres = append(critNombres, quote(""))
			critGrupos = append(critGrupos, quote(""))
			critPos = append(critPos, "0")
			for _, k := range p.Criteria {
				critIDs = append(critIDs, quote(id+"|"+k.ID))
				critMetas = append(critMetas, float(k.Target))
				critPlazos = append(critPlazos, quote(dateText(k.Deadline)))
				critNombres = append(critNombres, quote(k.Name))
				critGrupos = append(critGrupos, quote(k.Group))
				critPos = append(critPos, fmt.Sprint(k.Position))
				for _, a := range append([]string{k.ID, k.Name}, k.Aliases...) {
					key := id + "|" + Key(a)
					if !seen["c"+key] {
						seen["c"+key] = true
						critDesde, critHacia = append(critDesde, quote(key)), append(critHacia, quote(k.ID))
					}
				}
			}
		}
	}
	arr := func(xs []string) string { return "[" + strings.Join(xs, ", ") + "]" }
	return map[string]string{
		"_fase_desde": arr(faseDesde), "_fase_hacia": arr(faseHacia),
		"_fase_ids": arr(faseIDs), "_fase_metas": arr(faseMetas), "_fase_plazos": arr(fasePlazos),
		"_fase_nombres": arr(faseNombres), "_fase_posiciones": arr(fasePos),
		"_crit_desde": arr(critDesde), "_crit_hacia": arr(critHacia),
		"_crit_ids": arr(critIDs), "_crit_metas": arr(critMetas), "_crit_plazos": arr(critPlazos),
		"_crit_nombres": arr(critNombres), "_crit_grupos": arr(critGrupos), "_crit_posiciones": arr(critPos),
		"_marcos": arr(marcos), "_marco_fases": arr(marcoFases), "_total_claves": arr(totals),
	}
}

// quote is a ClickHouse string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

// float is a Float64 literal ("100.", "85.5").
func float(d decimal.Decimal) string {
	s := d.String()
	if !strings.Contains(s, ".") {
		s += "."
	}
	return s
}

func dateText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format("2006-01-02")
}
