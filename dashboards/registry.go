package dashboards

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"

	"github.com/shopspring/decimal"
)

// dashDef describes one dashboard: its texts (Spanish), the filters it
// takes, its charts, and optional headline figures and extra sections.
type dashDef struct {
	ID     string
	Nav    string // short name for the menu
	Title  string
	Lead   string // one sentence: what it answers
	Intro  []string
	Method []string // how it was computed
	Use    filterUse
	Charts []*chartDef
	// Years lists the years offered by the year filter.
	Years   func(ctx context.Context, s *Site) ([]int, error)
	Figures func(ctx context.Context, s *Site, v *view) (string, []Figure, error)
	Extra   func(ctx context.Context, s *Site, v *view, p *DashboardPage) error
}

// chartDef is one chart of a dashboard.
type chartDef struct {
	ID    string
	Use   filterUse // the filters it takes into account
	Build func(ctx context.Context, s *Site, v *view) (*Chart, error)
}

func (d *dashDef) chart(id string) *chartDef {
	for _, c := range d.Charts {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func (d *dashDef) years(ctx context.Context, s *Site) ([]int, error) {
	if d.Years == nil || d.Use&useAnio == 0 {
		return nil, nil
	}
	return d.Years(ctx, s)
}

// registry lists the dashboards in menu order (filled in init to allow the
// definitions to refer to helpers of the package).
var registry []*dashDef

func dashboardByID(id string) *dashDef {
	for _, d := range registry {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// DashboardIDs lists the dashboards' ids in menu order.
func DashboardIDs() []string {
	out := make([]string, len(registry))
	for i, d := range registry {
		out[i] = d.ID
	}
	return out
}

// ChartIDs lists a dashboard's chart ids.
func ChartIDs(dashboard string) []string {
	d := dashboardByID(dashboard)
	if d == nil {
		return nil
	}
	out := make([]string, len(d.Charts))
	for i, c := range d.Charts {
		out[i] = c.ID
	}
	return out
}

func init() {
	registry = []*dashDef{recaudoDash, canalesDash, carteraDash, verificacionDash, presupuestoDash, gelDash, observatorioDash}
}

// view is a selection as chart builders see it.
type view struct {
	f   Filters
	dir *Directory
	ent *Entity // the selected municipality, or nil
}

func newView(f Filters, dir *Directory) *view {
	v := &view{f: f, dir: dir}
	if f.Municipio != "" {
		v.ent = dir.Get(f.Municipio)
	}
	return v
}

func (v *view) muni(code string) bool { return v.f.Municipio == "" || v.f.Municipio == code }
func (v *view) tax(t string) bool     { return v.f.Impuesto == "" || v.f.Impuesto == t }
func (v *view) year(y int) bool       { return v.f.Anio == 0 || v.f.Anio == y }

// where is " en Bucaramanga" or " en todos los municipios con datos".
func (v *view) where() string {
	if v.ent != nil {
		return " en " + v.ent.Display
	}
	return " en todos los municipios con datos"
}

// scope describes the selection for captions: "Bucaramanga, ICA, 2020".
func (v *view) scope() string {
	s := "todos los municipios"
	if v.ent != nil {
		s = v.ent.Display + " (" + v.ent.Code + ")"
	}
	if v.f.Impuesto != "" {
		s += ", " + TaxName(v.f.Impuesto)
	} else {
		s += ", todos los impuestos"
	}
	if v.f.Anio != 0 {
		s += ", " + strconv.Itoa(v.f.Anio)
	}
	return s
}

// context is the CSV's constant columns: the filters applied.
func (v *view) context() [][2]string {
	var out [][2]string
	if v.ent != nil {
		out = append(out, [2]string{"codigo_municipio", v.ent.Code}, [2]string{"municipio", v.ent.Name})
	}
	if v.f.Impuesto != "" {
		out = append(out, [2]string{"impuesto", v.f.Impuesto})
	}
	if v.f.Anio != 0 {
		out = append(out, [2]string{"anio", strconv.Itoa(v.f.Anio)})
	}
	return out
}

// acc sums published amounts and remembers withheld cells.
type acc struct {
	sum      decimal.Decimal
	any      bool // at least one published amount
	withheld int
}

func (a *acc) add(d *decimal.Decimal) {
	if d == nil {
		a.withheld++
		return
	}
	a.sum = a.sum.Add(*d)
	a.any = true
}

// value is the sum, or nil when every cell was withheld.
func (a *acc) value() *decimal.Decimal {
	if !a.any {
		return nil
	}
	v := a.sum
	return &v
}

// complete is the sum when no cell was withheld.
func (a *acc) complete() *decimal.Decimal {
	if a.withheld > 0 {
		return nil
	}
	v := a.sum
	return &v
}

func decN(n uint64) *decimal.Decimal {
	d := decimal.NewFromUint64(n)
	return &d
}

func pct(part, whole *decimal.Decimal) *decimal.Decimal {
	if part == nil || whole == nil {
		return nil
	}
	r, ok := Ratio(*part, *whole)
	if !ok {
		return nil
	}
	return &r
}

func sortedKeys[K comparable](m map[K]bool, less func(a, b K) bool) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out
}

func withheldNote(n, k int, what string) string {
	if n == 0 {
		return ""
	}
	return "Reserva tributaria: " + Number(int64(n)) + " " + plural(n, "celda", "celdas") + " (" + what + ") con menos de " + strconv.Itoa(k) +
		" contribuyentes distintos no se " + plural(n, "publica", "publican") + "; los totales suman solo las celdas publicadas y se marcan como «reservado» cuando no hay ninguna."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Search answers the municipality search box: up to 15 suggestions.
func (s *Site) Search(ctx context.Context, q string) *Response {
	return s.answer(ctx, func(ctx context.Context) *Response { return s.search(ctx, q) })
}

func (s *Site) search(ctx context.Context, q string) *Response {
	s.checkStamp(ctx)
	dir, err := s.searchDirectory(ctx)
	if err != nil {
		return s.failure(err)
	}
	if len(q) > 100 {
		q = q[:100]
	}
	out := []SearchResult{}
	for _, e := range dir.Search(q, 15) {
		out = append(out, SearchResult{Code: e.Code, Label: e.Label, Data: e.HasData})
	}
	b, err := json.Marshal(out)
	if err != nil {
		return s.failure(err)
	}
	r := s.respond(http.StatusOK, NewBody("application/json; charset=utf-8", b))
	r.Header.Set("Cache-Control", "public, max-age=300")
	return r
}
