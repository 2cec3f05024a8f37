package dashboards

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/observatorio-civico/observatorio/stale"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// Assets are the files served under /static/: the observatory's CSS and
// script, and ECharts from the npm package, vendored at a pinned version
// (see scripts/update-echarts.sh).
func Assets() fs.FS {
	sub, err := fs.Sub(assetFiles, "assets")
	if err != nil {
		panic(err)
	}
	return sub
}

var funcs = template.FuncMap{
	"asset": assetURL,
	// avisoDatos is where a stale copy of the page says so (package stale).
	"avisoDatos": func() template.HTML { return stale.Slot },
}

// Each page is the layout plus its own "content".
var (
	layout      = template.Must(template.New("base.html").Funcs(funcs).ParseFS(templateFiles, "templates/base.html", "templates/partes.html"))
	homeTmpl    = template.Must(template.Must(layout.Clone()).ParseFS(templateFiles, "templates/inicio.html"))
	dashTmpl    = template.Must(template.Must(layout.Clone()).ParseFS(templateFiles, "templates/tablero.html"))
	problemTmpl = template.Must(template.Must(layout.Clone()).ParseFS(templateFiles, "templates/aviso.html"))
)

// Page is what every page template receives.
type Page struct {
	Title       string
	Description string
	Demo        bool
	Engine      string
	Charts      []*Chart
	Nav         []NavItem
	Embed       bool
	FullURL     string // embed mode: the same view on the observatory
}

// NavItem is one link of the dashboards' menu.
type NavItem struct {
	Title, URL string
	Current    bool
}

// Figure is one headline figure.
type Figure struct {
	Label, Value, Note string
	Link, LinkText     string
}

// FilterForm is the selection form.
type FilterForm struct {
	Action                        string
	Municipio                     string // label of the selected municipality
	Years, TaxOptions             []Option
	UseMunicipio, UseAnio, UseTax bool
	Clear                         string
	Selected                      bool
	Summary                       string // "Bucaramanga · 2024 · todos los impuestos"
}

// Option is one choice of a select.
type Option struct {
	Value, Label string
	Selected     bool
}

// Section is a block of a dashboard that is not a chart (a list of
// datasets, the health of the ETL).
type Section struct {
	ID, Title  string
	Paragraphs []string
	Table      *Table
	Links      []Link
}

// Link is a labelled URL.
type Link struct{ Text, URL string }

// DashboardPage is the data of a dashboard's page.
type DashboardPage struct {
	Page
	ID           string
	Heading      string
	Lead         string
	Intro        []string
	Method       []string
	Form         *FilterForm
	Problem      *filterProblem
	Candidates   []Link
	FiguresTitle string
	Figures      []Figure
	Sections     []Section
	Links        []Link
	EmbedCode    string // path of the embed view, for the "Insertar" box
}

// HomePage is the data of the home page.
type HomePage struct {
	Page
	Summary      Summary
	K            int
	Form         *FilterForm
	FiguresTitle string
	Figures      []Figure
	Dashboards   []NavItem
	Blurbs       map[string]string
}

// Summary is the home page's headline figures, formatted.
type Summary struct {
	Liquidations           string
	Payments               string
	Municipalities         string
	MunicipalitiesWithData string
	LastLoad               string
}

func render(t *template.Template, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "base", data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// nav is the dashboards' menu, keeping the selection across dashboards.
func nav(current string, f Filters) []NavItem {
	g := Filters{Municipio: f.Municipio, Anio: f.Anio, Impuesto: f.Impuesto}
	out := []NavItem{{Title: "Inicio", URL: g.withQuery("/"), Current: current == ""}}
	for _, d := range registry {
		out = append(out, NavItem{Title: d.Nav, URL: g.withQuery("/tableros/" + d.ID), Current: d.ID == current})
	}
	return out
}

// form builds the selection form of a page.
func (s *Site) form(action string, use filterUse, v *view, years []int) *FilterForm {
	ff := &FilterForm{Action: action, UseMunicipio: use&useMunicipio != 0, UseAnio: use&useAnio != 0, UseTax: use&useImpuesto != 0, Clear: action}
	if v.ent != nil {
		ff.Municipio = v.ent.Label
	}
	ff.Years = append(ff.Years, Option{Value: "", Label: "Todos los años", Selected: v.f.Anio == 0})
	for i := len(years) - 1; i >= 0; i-- {
		ff.Years = append(ff.Years, Option{Value: strconv.Itoa(years[i]), Label: strconv.Itoa(years[i]), Selected: v.f.Anio == years[i]})
	}
	if v.f.Anio != 0 && !containsInt(years, v.f.Anio) {
		ff.Years = append(ff.Years, Option{Value: strconv.Itoa(v.f.Anio), Label: strconv.Itoa(v.f.Anio) + " (sin datos)", Selected: true})
	}
	ff.TaxOptions = append(ff.TaxOptions, Option{Value: "", Label: "Todos los impuestos", Selected: v.f.Impuesto == ""})
	for _, t := range Taxes {
		ff.TaxOptions = append(ff.TaxOptions, Option{Value: t.Code, Label: t.Name, Selected: v.f.Impuesto == t.Code})
	}
	ff.Selected = v.f.Municipio != "" || v.f.Anio != 0 || v.f.Impuesto != ""
	parts := []string{"Todos los municipios"}
	if v.ent != nil {
		parts[0] = v.ent.Display + " (" + v.ent.Code + ")"
	}
	if ff.UseAnio {
		if v.f.Anio != 0 {
			parts = append(parts, strconv.Itoa(v.f.Anio))
		} else {
			parts = append(parts, "todos los años")
		}
	}
	if ff.UseTax {
		if v.f.Impuesto != "" {
			parts = append(parts, TaxName(v.f.Impuesto))
		} else {
			parts = append(parts, "todos los impuestos")
		}
	}
	ff.Summary = strings.Join(parts, " · ")
	return ff
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Dashboard serves a dashboard's page.
func (s *Site) Dashboard(ctx context.Context, id, rawQuery string) *Response {
	return s.answer(ctx, func(ctx context.Context) *Response { return s.dashboard(ctx, id, rawQuery) })
}

func (s *Site) dashboard(ctx context.Context, id, rawQuery string) *Response {
	s.checkStamp(ctx)
	def := dashboardByID(id)
	if def == nil {
		return s.problemPage(http.StatusNotFound, "No existe ese tablero.", nil, Filters{})
	}
	path := "/tableros/" + def.ID
	dir, err := s.directory(ctx)
	if err != nil {
		return s.pageFailure(err, false)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return s.problemPage(http.StatusBadRequest, "La dirección tiene parámetros mal escritos.", nil, Filters{})
	}
	f, prob := parseFilters(q, dir, path)
	if prob != nil {
		if prob.Redirect != "" {
			return s.redirect(prob.Redirect)
		}
		return s.problemPage(prob.Status, prob.Message, prob.Candidates, Filters{Anio: f.Anio, Impuesto: f.Impuesto, Embed: f.Embed}, path)
	}
	if f.Grafico != "" && def.chart(f.Grafico) == nil {
		return s.problemPage(http.StatusNotFound, "Este tablero no tiene el gráfico «"+f.Grafico+"».", nil, Filters{})
	}
	if canon := f.values(); canon != rawQuery {
		return s.redirect(f.withQuery(path))
	}
	s.count(def.ID, 1, 0)
	v, err := s.cache.Get(ctx, "p:"+def.ID+"?"+f.key(), func(ctx context.Context) (any, error) {
		return s.renderDashboard(ctx, def, f, dir)
	})
	if err != nil {
		return s.pageFailure(err, f.Embed)
	}
	r := s.respond(http.StatusOK, v.(*Body))
	r.Header.Set("Content-Security-Policy", s.CSP(f.Embed))
	return r
}

func (s *Site) renderDashboard(ctx context.Context, def *dashDef, f Filters, dir *Directory) (*Body, error) {
	v := newView(f, dir)
	p := &DashboardPage{
		Page: Page{Title: def.Title, Description: def.Lead, Demo: s.o.Demo, Engine: s.o.Engine, Nav: nav(def.ID, f), Embed: f.Embed,
			FullURL: Filters{Municipio: f.Municipio, Anio: f.Anio, Impuesto: f.Impuesto}.withQuery("/tableros/" + def.ID)},
		ID: def.ID, Heading: def.Title, Lead: def.Lead, Intro: def.Intro, Method: def.Method,
	}
	if v.ent != nil {
		p.Title = def.Title + " · " + v.ent.Display
	}
	yrs, err := def.years(ctx, s)
	if err != nil {
		return nil, err
	}
	p.Form = s.form("/tableros/"+def.ID, def.Use, v, yrs)
	p.EmbedCode = Filters{Municipio: f.Municipio, Anio: f.Anio, Impuesto: f.Impuesto, Embed: true}.withQuery("/tableros/" + def.ID)
	for _, cd := range def.Charts {
		if f.Grafico != "" && cd.ID != f.Grafico {
			continue
		}
		c, err := s.chart(ctx, def, cd, f)
		if err != nil {
			return nil, err
		}
		p.Charts = append(p.Charts, c)
	}
	if f.Grafico == "" {
		if def.Figures != nil {
			p.FiguresTitle, p.Figures, err = def.Figures(ctx, s, v)
			if err != nil {
				return nil, err
			}
		}
		if def.Extra != nil {
			if err := def.Extra(ctx, s, v, p); err != nil {
				return nil, err
			}
		}
	}
	html, err := render(dashTmpl, p)
	if err != nil {
		return nil, err
	}
	return NewBody("text/html; charset=utf-8", html), nil
}

// problemPage explains a selection that cannot be shown, with the
// candidates when a name matched several municipalities.
func (s *Site) problemPage(status int, msg string, cands []*Entity, f Filters, path ...string) *Response {
	return s.noticePage(status, "Selección", "Revise la selección", msg, cands, f, path...)
}

// noticePage is a page that says one thing under a heading.
func (s *Site) noticePage(status int, title, heading, msg string, cands []*Entity, f Filters, path ...string) *Response {
	p := &DashboardPage{Page: Page{Title: title, Demo: s.o.Demo, Engine: s.o.Engine, Nav: nav("", Filters{}), Embed: f.Embed}, Heading: heading, Lead: msg}
	target := "/"
	if len(path) > 0 {
		target = path[0]
	}
	for _, e := range cands {
		g := f
		g.Municipio = e.Code
		p.Candidates = append(p.Candidates, Link{Text: e.Label, URL: g.withQuery(target)})
	}
	html, err := render(problemTmpl, p)
	if err != nil {
		return s.failure(err)
	}
	r := s.respond(status, NewBody("text/html; charset=utf-8", html))
	r.Header.Set("Cache-Control", "no-store")
	r.Header.Set("Content-Security-Policy", s.CSP(f.Embed))
	return r
}

// chart builds (or takes from the cache) one chart for a selection, with
// its URLs and its response bodies.
func (s *Site) chart(ctx context.Context, def *dashDef, cd *chartDef, f Filters) (*Chart, error) {
	g := f.only(cd.Use)
	v, err := s.cache.Get(ctx, "c:"+def.ID+"/"+cd.ID+"?"+g.key(), func(ctx context.Context) (any, error) {
		dir, err := s.directory(ctx)
		if err != nil {
			return nil, err
		}
		c, err := cd.Build(ctx, s, newView(g, dir))
		if err != nil {
			return nil, err
		}
		if len(c.Option) == 0 {
			if c.Option, err = emptyOption(c.Title, c.Empty); err != nil {
				return nil, err
			}
		}
		base := "/graficos/" + def.ID + "/" + cd.ID
		c.ID = def.ID + "-" + cd.ID
		c.OptionURL = g.withQuery(base + ".json")
		c.DataURL = g.withQuery(base + ".csv")
		c.ImageName = fileName(def.ID+"-"+cd.ID, g) + ".png"
		c.EmbedURL = Filters{Municipio: f.Municipio, Anio: f.Anio, Impuesto: f.Impuesto, Embed: true, Grafico: cd.ID}.withQuery("/tableros/" + def.ID)
		c.json = NewBody("application/json; charset=utf-8", c.Option)
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Chart), nil
}

// fileName is a download name that says the selection.
func fileName(base string, f Filters) string {
	parts := []string{base}
	if f.Municipio != "" {
		parts = append(parts, f.Municipio)
	}
	if f.Anio != 0 {
		parts = append(parts, strconv.Itoa(f.Anio))
	}
	if f.Impuesto != "" {
		parts = append(parts, f.Impuesto)
	}
	return strings.Join(parts, "-")
}

// ChartFile serves a chart's option (name.json) or the data behind it
// (name.csv) for the selection in the query.
func (s *Site) ChartFile(ctx context.Context, dashboard, file, rawQuery string) *Response {
	return s.answer(ctx, func(ctx context.Context) *Response { return s.chartFile(ctx, dashboard, file, rawQuery) })
}

func (s *Site) chartFile(ctx context.Context, dashboard, file, rawQuery string) *Response {
	s.checkStamp(ctx)
	def := dashboardByID(dashboard)
	name, ext, ok := strings.Cut(file, ".")
	if def == nil || !ok || (ext != "json" && ext != "csv") {
		return s.plain(http.StatusNotFound, "No existe ese gráfico.")
	}
	cd := def.chart(name)
	if cd == nil {
		return s.plain(http.StatusNotFound, "No existe ese gráfico.")
	}
	dir, err := s.directory(ctx)
	if err != nil {
		return s.failure(err)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return s.plain(http.StatusBadRequest, "Parámetros mal escritos.")
	}
	f, prob := parseFilters(q, dir, "")
	if prob != nil {
		if prob.Status == 0 || prob.Status == http.StatusOK {
			prob.Status = http.StatusBadRequest
			prob.Message = "Indique el municipio con su código DIVIPOLA de cinco cifras."
		}
		return s.plain(prob.Status, prob.Message)
	}
	c, err := s.chart(ctx, def, cd, f)
	if err != nil {
		return s.failure(err)
	}
	if ext == "json" {
		return s.respond(http.StatusOK, c.json)
	}
	s.CountDownload(def.ID)
	v, err := s.cache.Get(ctx, "csv:"+c.DataURL, func(context.Context) (any, error) {
		return NewBody("text/csv; charset=utf-8", c.csv), nil
	})
	if err != nil {
		return s.failure(err)
	}
	r := s.respond(http.StatusOK, v.(*Body))
	r.Header.Set("Content-Disposition", `attachment; filename="`+fileName(def.ID+"-"+cd.ID, f.only(cd.Use))+`.csv"`)
	return r
}

// SearchResult is one suggestion of the municipality search.
type SearchResult struct {
	Code  string `json:"codigo"`
	Label string `json:"etiqueta"`
	Data  bool   `json:"con_datos"`
}
