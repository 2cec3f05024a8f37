package dashboards

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/analytics/gel"
	"github.com/observatorio-civico/observatorio/stale"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// The officials' pages of the Gobierno en Línea / Gobierno Digital
// tracker (package analytics/gel computes everything; these files only
// lay it out):
//
//	/gobierno-en-linea                                   index: find an entity, rankings, frameworks
//	/gobierno-en-linea/entidades/{código}?marco=&fecha=  an entity's phases, criteria, action plan, trend, rank
//	/gobierno-en-linea/entidades/{código}/novedades.atom its feed of deadlines passed and targets reached
//	/gobierno-en-linea/clasificacion?marco=&fase=&departamento=&fecha=
//	/gobierno-en-linea/marcos                            the frameworks, their deadlines and legal references

// GELBase is the path prefix of the tracker's pages.
const GELBase = "/gobierno-en-linea"

// GELOptions configure the tracker's pages.
type GELOptions struct {
	Demo   bool
	Engine string // shown in the footer
	// Now is the clock (tests pin it); pages show the situation "today"
	// in Colombia unless ?fecha= asks for another date.
	Now func() time.Time
	// TTL is how long a built page is reused (default 1 minute); ETL
	// commits also empty the cache (dashboards.Invalidate).
	TTL time.Duration
}

// GELPages serves the tracker's pages and feeds.
type GELPages struct {
	eng warehouse.Engine
	o   GELOptions

	mu    sync.Mutex
	cache map[string]gelCached
	memo  map[string]gelCached // phases of all entities by framework and date
}

type gelCached struct {
	resp  *Response
	rows  []gel.PhaseRow
	at    time.Time
	epoch uint64
}

// NewGELPages makes the pages over an open, migrated warehouse.
func NewGELPages(eng warehouse.Engine, o GELOptions) *GELPages {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TTL == 0 {
		o.TTL = time.Minute
	}
	if o.Engine == "" {
		o.Engine = eng.Kind()
	}
	return &GELPages{eng: eng, o: o, cache: map[string]gelCached{}, memo: map[string]gelCached{}}
}

var gelFuncs = template.FuncMap{"asset": assetURL}

func gelTemplate(file string) *template.Template {
	return template.Must(template.Must(layout.Clone()).Funcs(gelFuncs).ParseFS(templateFiles, "templates/gel_partes.html", "templates/"+file))
}

var (
	gelIndexTmpl   = gelTemplate("gel_inicio.html")
	gelEntityTmpl  = gelTemplate("gel_entidad.html")
	gelRankingTmpl = gelTemplate("gel_clasificacion.html")
	gelCatalogTmpl = gelTemplate("gel_marcos.html")
	gelProblemTmpl = gelTemplate("gel_aviso.html")
)

// gelColombia is UTC-5 all year.
var gelColombia = time.FixedZone("COT", -5*3600)

func (g *GELPages) today() time.Time {
	t := g.o.Now().In(gelColombia)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// cached reuses a response built for key less than TTL ago. A response
// built from the warehouse (reads) is also its last good copy: while the
// warehouse does not answer, it is served (marked stale) whatever its age,
// and a copy younger than TTL is marked stale too, since nobody can say
// it is still current.
func (g *GELPages) cached(key string, reads bool, build func() *Response) *Response {
	now := time.Now()
	ep := epoch.Load()
	_, down := warehouse.Down(g.eng)
	down = down && reads
	g.mu.Lock()
	c, ok := g.cache[key]
	g.mu.Unlock()
	switch {
	case ok && now.Sub(c.at) < g.o.TTL && c.epoch == ep:
		if down {
			return markStale(c.resp, c.at)
		}
		return c.resp
	case ok && down:
		return markStale(c.resp, c.at) // nothing to try while it is down
	}
	r := build()
	if ok && reads && r.Status >= 500 && warehouse.Unavailable(r.err) {
		return markStale(c.resp, c.at)
	}
	if r.Status == http.StatusOK {
		g.mu.Lock()
		if len(g.cache) > 2000 {
			g.cache = map[string]gelCached{}
		}
		g.cache[key] = gelCached{resp: r, at: now, epoch: ep}
		g.mu.Unlock()
	}
	return r
}

// allPhases are the phases of every entity in a framework on a date,
// shared by the entity pages and the ranking of that date (one query).
func (g *GELPages) allPhases(ctx context.Context, framework string, at time.Time) ([]gel.PhaseRow, error) {
	key := framework + "|" + at.Format("2006-01-02")
	ep := epoch.Load()
	g.mu.Lock()
	if c, ok := g.memo[key]; ok && time.Since(c.at) < g.o.TTL && c.epoch == ep {
		g.mu.Unlock()
		return c.rows, nil
	}
	g.mu.Unlock()
	rows, err := gel.Phases(ctx, g.eng, framework, "", at)
	if err != nil {
		return nil, err
	}
	if rows == nil {
		rows = []gel.PhaseRow{}
	}
	g.mu.Lock()
	if len(g.memo) > 200 {
		g.memo = map[string]gelCached{}
	}
	g.memo[key] = gelCached{rows: rows, at: time.Now(), epoch: ep}
	g.mu.Unlock()
	return rows, nil
}

func (g *GELPages) page(title, desc string) Page {
	// The layout's demonstration notice speaks of liquidations and
	// payments; these pages mark their synthetic rows themselves.
	return Page{Title: title, Description: desc, Engine: g.o.Engine, Nav: []NavItem{
		{Title: "Inicio", URL: "/"},
		{Title: "Seguimiento Gobierno en Línea / Gobierno Digital", URL: GELBase},
		{Title: "Clasificación", URL: GELBase + "/clasificacion"},
		{Title: "Marcos y plazos", URL: GELBase + "/marcos"},
	}}
}

func (g *GELPages) html(t *template.Template, data any) *Response {
	b, err := render(t, data)
	if err != nil {
		return g.fail(err)
	}
	return &Response{Status: http.StatusOK, Body: NewBody("text/html; charset=utf-8", b), Header: http.Header{}}
}

func (g *GELPages) fail(err error) *Response {
	if r := busy(err); r != nil {
		return r
	}
	if warehouse.Unavailable(err) {
		slog.Debug("gobierno en línea: sin almacén y sin copia en caché", "error", err)
		r := g.problem(http.StatusServiceUnavailable, "Almacén de datos no disponible", stale.UnavailableMessage)
		stale.UnavailableHeaders(r.Header)
		r.err = err
		return r
	}
	slog.Error("gobierno en línea: error", "error", err)
	r := &Response{Status: http.StatusInternalServerError, Header: http.Header{},
		Body: NewBody("text/plain; charset=utf-8", []byte("Error interno. El equipo del observatorio fue notificado en el registro.\n")), err: err}
	r.Header.Set("Cache-Control", "no-store")
	return r
}

// problem is a page that says what is wrong with the request and how to
// fix it.
func (g *GELPages) problem(status int, title, msg string, links ...Link) *Response {
	data := struct {
		Page
		Heading, Message string
		Links            []Link
	}{g.page(title, msg), title, msg, links}
	r := g.html(gelProblemTmpl, data)
	if r.Status == http.StatusOK {
		r.Status = status
	}
	r.Header.Set("Cache-Control", "no-store")
	return r
}

// parseDate reads ?fecha= (2006-01-02), defaulting to today.
func (g *GELPages) parseDate(q url.Values) (time.Time, bool, error) {
	s := strings.TrimSpace(q.Get("fecha"))
	if s == "" {
		return g.today(), false, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil || t.Year() < 2000 || t.Year() > 2100 {
		return time.Time{}, true, errors.New("la fecha debe escribirse AAAA-MM-DD, entre 2000 y 2100, por ejemplo 2009-08-31")
	}
	return t, true, nil
}

// --- formatting --------------------------------------------------------

// gelValue formats a progress or score: "90 %" for percentages, "97,2"
// (puntos) for scores.
func gelValue(d decimal.Decimal, unit string) string {
	s := d.Round(1).StringFixed(1)
	s = strings.TrimSuffix(s, ".0")
	s = strings.Replace(s, ".", ",", 1)
	if unit == gel.UnitScore {
		return s
	}
	return s + " %"
}

func gelUnitLabel(unit string) string {
	if unit == gel.UnitScore {
		return "puntaje de 0 a 100"
	}
	return "porcentaje de cumplimiento"
}

func gelDate(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return Date(*t)
}

func gelTrend(d *decimal.Decimal, unit string) string {
	switch {
	case d == nil:
		return "—"
	case d.IsPositive():
		return "sube " + gelValue(*d, unit)
	case d.IsNegative():
		return "baja " + gelValue(d.Neg(), unit)
	}
	return "sin cambio"
}

func gelEntityLabel(e gel.Entity) string {
	name := PlaceName(e.Name)
	if name == "" {
		name = e.Code
	}
	if e.DepartmentName != "" && !strings.HasSuffix(e.Code, "000") {
		return name + " (" + PlaceName(e.DepartmentName) + ")"
	}
	return name
}

func gelEntityURL(code, framework string, at *time.Time) string {
	v := url.Values{}
	if framework != "" {
		v.Set("marco", framework)
	}
	if at != nil {
		v.Set("fecha", at.Format("2006-01-02"))
	}
	u := GELBase + "/entidades/" + url.PathEscape(code)
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

func gelFeedURL(code string) string {
	return GELBase + "/entidades/" + url.PathEscape(code) + "/novedades.atom"
}

// --- index -------------------------------------------------------------

type gelEntityLink struct {
	Label, URL, Frameworks, Last string
	Synthetic                    bool
}

type gelDeptGroup struct {
	Name     string
	Entities []gelEntityLink
}

// Index is the tracker's home: ?municipio= (a DIVIPOLA code, or a name
// among the entities with measurements) goes to that entity's page.
func (g *GELPages) Index(ctx context.Context, rawQuery string) *Response {
	q, _ := url.ParseQuery(rawQuery)
	if m := strings.TrimSpace(q.Get("municipio")); m != "" {
		return g.find(ctx, m)
	}
	return g.cached("inicio", true, func() *Response {
		sums, err := gel.Entities(ctx, g.eng)
		if err != nil {
			return g.fail(err)
		}
		type agg struct {
			e     gel.Entity
			fws   []string
			last  time.Time
			synth bool
		}
		by := map[string]*agg{}
		var order []string
		for _, s := range sums {
			a := by[s.Entity.Code]
			if a == nil {
				a = &agg{e: s.Entity}
				by[s.Entity.Code] = a
				order = append(order, s.Entity.Code)
			}
			if f := gel.Default().Framework(s.Framework); f != nil {
				a.fws = append(a.fws, f.Short)
			}
			if s.Last.After(a.last) {
				a.last = s.Last
			}
			a.synth = a.synth || s.Synthetic
		}
		depts := map[string]*gelDeptGroup{}
		var dnames []string
		for _, code := range order {
			a := by[code]
			dn := PlaceName(a.e.DepartmentName)
			if dn == "" {
				dn = "Sin departamento"
			}
			d := depts[dn]
			if d == nil {
				d = &gelDeptGroup{Name: dn}
				depts[dn] = d
				dnames = append(dnames, dn)
			}
			last := a.last
			d.Entities = append(d.Entities, gelEntityLink{Label: gelEntityLabel(a.e), URL: gelEntityURL(code, "", nil),
				Frameworks: strings.Join(a.fws, ", "), Last: Date(last), Synthetic: a.synth})
		}
		sort.Strings(dnames)
		data := struct {
			Page
			Depts      []*gelDeptGroup
			Count      int
			Frameworks []*gel.Framework
		}{Page: g.page("Seguimiento de Gobierno en Línea y Gobierno Digital",
			"Avance de cada municipio en las fases de Gobierno en Línea y los componentes de Gobierno Digital, frente a sus plazos."),
			Count: len(order), Frameworks: gel.Default().Frameworks}
		for _, n := range dnames {
			data.Depts = append(data.Depts, depts[n])
		}
		return g.html(gelIndexTmpl, data)
	})
}

// find resolves the search box: a 5-digit code, or a name among the
// entities with measurements.
func (g *GELPages) find(ctx context.Context, m string) *Response {
	digits := strings.Trim(m, "0123456789") == ""
	if digits && len(m) == 4 {
		m = "0" + m
	}
	if digits && len(m) == 5 {
		return gelRedirect(gelEntityURL(m, "", nil))
	}
	sums, err := gel.Entities(ctx, g.eng)
	if err != nil {
		return g.fail(err)
	}
	want := gelFold(m)
	var hits []Link
	seen := map[string]bool{}
	for _, s := range sums {
		if seen[s.Entity.Code] || !strings.Contains(gelFold(s.Entity.Name), want) {
			continue
		}
		seen[s.Entity.Code] = true
		hits = append(hits, Link{Text: gelEntityLabel(s.Entity) + " (" + s.Entity.Code + ")", URL: gelEntityURL(s.Entity.Code, "", nil)})
	}
	if len(hits) == 1 {
		return gelRedirect(hits[0].URL)
	}
	if len(hits) == 0 {
		return g.problem(http.StatusNotFound, "No se encontró el municipio",
			"Ningún municipio con mediciones se llama «"+m+"». Escriba el código DIVIPOLA de 5 dígitos (por ejemplo 25151 para Cáqueza) o elija el municipio en la lista.",
			Link{Text: "Volver a la lista de municipios", URL: GELBase})
	}
	return g.problem(http.StatusOK, "Varios municipios coinciden", "Elija uno:", hits...)
}

func gelFold(s string) string {
	r := strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n")
	return r.Replace(strings.ToLower(strings.TrimSpace(s)))
}

func gelRedirect(to string) *Response {
	r := &Response{Status: http.StatusSeeOther, Header: http.Header{}}
	r.Header.Set("Location", to)
	r.Body = NewBody("text/plain; charset=utf-8", []byte("Vea "+to+"\n"))
	return r
}

// --- frameworks -----------------------------------------------------------

// Frameworks is the page of the frameworks: phases, deadlines, criteria
// and their legal references.
func (g *GELPages) Frameworks(ctx context.Context) *Response {
	return g.cached("marcos", false, func() *Response {
		type crit struct{ Name, Group string }
		type phase struct {
			ID, Name, Summary, Kind, Deadline, Target string
			Criteria                                  []crit
			Refs                                      []gel.Reference
		}
		type fw struct {
			ID, Name, Description, Unit string
			Refs                        []gel.Reference
			Phases                      []phase
		}
		var out []fw
		for _, f := range gel.Default().Frameworks {
			x := fw{ID: f.ID, Name: f.Name, Description: f.Description, Unit: gelUnitLabel(f.Unit), Refs: f.References}
			for _, p := range f.Phases {
				y := phase{ID: f.ID + "-" + p.ID, Name: p.Name, Summary: p.Summary, Kind: p.Kind, Deadline: gelDate(p.Deadline),
					Target: gelValue(p.Target, f.Unit), Refs: p.References}
				if p.Deadline == nil {
					y.Deadline = "sin plazo"
				}
				for _, c := range p.Criteria {
					y.Criteria = append(y.Criteria, crit{c.Name, c.Group})
				}
				x.Phases = append(x.Phases, y)
			}
			out = append(out, x)
		}
		data := struct {
			Page
			Frameworks []fw
		}{g.page("Marcos, fases y plazos de Gobierno en Línea y Gobierno Digital",
			"Las fases, componentes y criterios con los que el observatorio mide a las entidades, con sus plazos y sus referencias legales."), out}
		return g.html(gelCatalogTmpl, data)
	})
}

// --- entity page --------------------------------------------------------

type gelPhaseView struct {
	Anchor, Name, Summary, Deadline, Progress, Criteria, Status, MetOn, Trend, National, Dept, Measured, Source string
	CriteriaSummary                                                                                             string
	Overdue, Synthetic, HasData, Open, Uncatalogued                                                             bool
	Items                                                                                                       []gelCriterionView
	Total                                                                                                       *gelCriterionView
	Sources                                                                                                     []string
}

type gelCriterionView struct {
	Name, Value, Measured, Status, MetOn, Evidence, SourceText string
	InCatalog, HasData, Synthetic, Overdue                     bool
}

type gelActionView struct {
	Item, Phase, Action, Responsible, Indicator, Goal, Deadline, DeadlineText, Status, Completed string
	Overdue, Synthetic                                                                           bool
}

type gelTrendView struct {
	Caption string
	Header  []string
	Rows    [][]string
}

// Entity is an entity's page for one framework (?marco=, default the
// first one it has measurements in) on a date (?fecha=, default today).
func (g *GELPages) Entity(ctx context.Context, code, rawQuery string) *Response {
	q, _ := url.ParseQuery(rawQuery)
	at, explicit, err := g.parseDate(q)
	if err != nil {
		return g.problem(http.StatusBadRequest, "Fecha no válida", err.Error(), Link{Text: "Ver la situación de hoy", URL: gelEntityURL(code, q.Get("marco"), nil)})
	}
	fwID := q.Get("marco")
	if fwID != "" && gel.Default().Framework(fwID) == nil {
		return g.problem(http.StatusNotFound, "Marco desconocido", "El marco «"+fwID+"» no existe. Los marcos son: gel2008, gd2018 e igd.",
			Link{Text: "Ver los marcos", URL: GELBase + "/marcos"})
	}
	return g.cached("entidad|"+code+"|"+fwID+"|"+at.Format("2006-01-02"), true, func() *Response {
		if fwID == "" {
			fwID = "gel2008"
			if sums, err := gel.Entities(ctx, g.eng); err == nil {
				for _, s := range sums {
					if s.Entity.Code == code {
						fwID = s.Framework
						if s.Framework == "gel2008" {
							break
						}
					}
				}
			}
		}
		all, err := g.allPhases(ctx, fwID, at)
		if err != nil {
			return g.fail(err)
		}
		rep, err := gel.ReportFrom(ctx, g.eng, code, fwID, at, all)
		if errors.Is(err, gel.ErrUnknownEntity) {
			return g.problem(http.StatusNotFound, "Entidad desconocida",
				"«"+code+"» no es un código DIVIPOLA de municipio (5 dígitos, por ejemplo 25151 para Cáqueza) ni de departamento (dd000).",
				Link{Text: "Buscar el municipio", URL: GELBase})
		}
		if err != nil {
			return g.fail(err)
		}
		var atp *time.Time
		if explicit {
			atp = &at
		}
		return g.html(gelEntityTmpl, g.entityView(rep, atp))
	})
}

func (g *GELPages) entityView(rep *gel.EntityReport, explicit *time.Time) any {
	f := rep.Framework
	name := gelEntityLabel(rep.Entity)
	type fwLink struct {
		ID, Name, URL string
		Current       bool
	}
	var fws []fwLink
	for _, x := range gel.Default().Frameworks {
		has := x.ID == f.ID
		for _, id := range rep.Frameworks {
			has = has || id == x.ID
		}
		if has {
			fws = append(fws, fwLink{x.ID, x.Short, gelEntityURL(rep.Entity.Code, x.ID, explicit), x.ID == f.ID})
		}
	}
	phaseView := func(pr *gel.PhaseReport, anchor string) gelPhaseView {
		v := gelPhaseView{Anchor: anchor, Name: pr.Name, Deadline: gelDate(pr.Deadline), Progress: gelValue(pr.Progress, f.Unit),
			Status: pr.Status.Label(), MetOn: gelDate(pr.MetOn), Trend: gelTrend(pr.Trend, f.Unit), National: "—", Dept: "—",
			Overdue: pr.Status == gel.StatusOverdue, Synthetic: pr.Synthetic, HasData: pr.Measured, Uncatalogued: pr.Phase == nil}
		if pr.Phase != nil {
			v.Summary = pr.Phase.Summary
		}
		if pr.Deadline == nil {
			v.Deadline = "sin plazo"
		}
		if !pr.Measured {
			v.Progress = "sin medición"
		}
		v.Measured = gelDate(pr.MeasuredOn)
		catalogued := 0
		if pr.Phase != nil {
			catalogued = len(pr.Phase.Criteria)
		}
		counts := strconv.Itoa(pr.Met) + " de " + strconv.Itoa(pr.Criteria) + " medidos"
		if catalogued > 0 {
			counts += " (" + strconv.Itoa(catalogued) + " en el catálogo)"
		}
		switch {
		case !pr.Measured:
			v.Criteria = "—"
		case pr.Source == "global" && pr.Criteria > 0:
			v.Criteria = "medición global; criterios: " + counts
		case pr.Source == "global":
			v.Criteria = "medición global"
		default:
			v.Criteria = counts
		}
		v.CriteriaSummary = strconv.Itoa(len(pr.Items)) + " criterios"
		if catalogued > 0 {
			v.CriteriaSummary = strconv.Itoa(catalogued) + " criterios del catálogo, " + strconv.Itoa(pr.Criteria) + " con medición"
		}
		v.Open = pr.Criteria > 0 || pr.Status == gel.StatusOverdue
		if pr.Source == "global" {
			v.Source = "medición global de la fase"
		} else if pr.Measured {
			v.Source = "promedio de los criterios medidos"
		}
		if pr.NationalAvg != nil {
			v.National = gelValue(*pr.NationalAvg, f.Unit)
		}
		if pr.DeptAvg != nil {
			v.Dept = gelValue(*pr.DeptAvg, f.Unit)
		}
		seenSource := map[string]bool{}
		crit := func(c *gel.CriterionRow, name string, inCatalog bool, st gel.Status, deadline *time.Time) gelCriterionView {
			cv := gelCriterionView{Name: name, InCatalog: inCatalog, Value: "sin medición", Measured: "—", MetOn: "—", Status: "Sin medición"}
			if deadline != nil && rep.Date.After(*deadline) {
				cv.Status += " (plazo vencido)"
			}
			if c == nil {
				return cv
			}
			cv.HasData, cv.Value, cv.Measured, cv.MetOn = true, gelValue(c.Value, f.Unit), Date(c.MeasuredOn), gelDate(c.MetOn)
			cv.Status, cv.Overdue = st.Label(), st == gel.StatusOverdue
			cv.Evidence, cv.SourceText, cv.Synthetic = c.Evidence, c.SourceText, c.Synthetic
			if !strings.HasPrefix(cv.Evidence, "http://") && !strings.HasPrefix(cv.Evidence, "https://") {
				cv.Evidence = ""
			}
			if c.Source != "" && !seenSource[c.Source] {
				seenSource[c.Source] = true
				v.Sources = append(v.Sources, c.Source)
			}
			return cv
		}
		if pr.Total != nil {
			t := crit(pr.Total, "Medición global de la "+f.Part, true, pr.Total.Status, pr.Deadline)
			v.Total = &t
		}
		for _, it := range pr.Items {
			v.Items = append(v.Items, crit(it.Row, it.Name, it.InCatalog, it.Status, it.Deadline))
		}
		return v
	}
	var phases, extra []gelPhaseView
	for _, pr := range rep.Phases {
		phases = append(phases, phaseView(pr, "fase-"+pr.ID))
	}
	for _, pr := range rep.Extra {
		extra = append(extra, phaseView(pr, "otra-"+pr.ID))
	}
	var overdue []Link
	for _, pr := range rep.Overdue {
		overdue = append(overdue, Link{Text: pr.Name + ": plazo " + gelDate(pr.Deadline) + ", avance " + gelValue(pr.Progress, f.Unit), URL: "#fase-" + pr.ID})
	}
	var actions, overdueActions []gelActionView
	for _, a := range rep.Actions {
		av := gelActionView{Item: a.Item, Phase: a.Phase, Action: a.Action, Responsible: a.Responsible, Indicator: a.Indicator,
			Goal: a.Goal, Deadline: gelDate(a.Deadline), DeadlineText: a.DeadlineText, Status: a.Status.Label(), Completed: gelDate(a.CompletedOn),
			Overdue: a.Status == gel.StatusOverdue, Synthetic: a.Synthetic}
		if a.Deadline == nil {
			av.Deadline = "sin plazo"
		}
		if p := f.ResolvePhase(a.Phase); p != nil {
			av.Phase = p.Name
		}
		actions = append(actions, av)
		if av.Overdue {
			overdueActions = append(overdueActions, av)
		}
	}
	// Trend table: one row per measurement date, one column per phase.
	trend := gelTrendView{Caption: "Evolución del avance por " + f.Part + " de " + name + " (" + f.Short + ")", Header: []string{"Fecha de medición"}}
	var cols []string
	colIdx := map[string]int{}
	for _, pr := range append(append([]*gel.PhaseReport{}, rep.Phases...), rep.Extra...) {
		hasSeries := false
		for _, s := range rep.Series {
			hasSeries = hasSeries || s.Phase == pr.ID
		}
		if hasSeries {
			colIdx[pr.ID] = len(cols)
			cols = append(cols, pr.ID)
			trend.Header = append(trend.Header, pr.Name)
		}
	}
	rowsBy := map[string][]string{}
	var dates []string
	for _, s := range rep.Series {
		k := s.Date.Format("2006-01-02")
		r, ok := rowsBy[k]
		if !ok {
			r = make([]string, len(cols)+1)
			for i := range r {
				r[i] = "—"
			}
			r[0] = Date(s.Date)
			rowsBy[k] = r
			dates = append(dates, k)
		}
		if i, ok := colIdx[s.Phase]; ok {
			r[i+1] = gelValue(s.Progress, f.Unit)
		}
	}
	sort.Strings(dates)
	for _, d := range dates {
		trend.Rows = append(trend.Rows, rowsBy[d])
	}
	type figure struct{ Label, Value, Note string }
	figs := []figure{{Label: "Avance general", Value: gelValue(rep.Overall, f.Unit), Note: gelOverallNote(f)}}
	if rep.Rank != nil {
		figs = append(figs,
			figure{"Puesto en el país", strconv.Itoa(rep.Rank.Rank) + " de " + strconv.Itoa(rep.Rank.Entities),
				"Promedio de las entidades medidas: " + gelValue(rep.Rank.NationalAvg, f.Unit)},
			figure{"Puesto en " + PlaceName(rep.Entity.DepartmentName), strconv.Itoa(rep.Rank.DeptRank) + " de " + strconv.Itoa(rep.Rank.DeptEntities),
				"Promedio del departamento: " + gelValue(rep.Rank.DeptAvg, f.Unit)})
	} else {
		figs = append(figs, figure{"Puesto en el país", "sin clasificar", "No tiene mediciones de este marco hasta esta fecha."})
	}
	figs = append(figs, figure{"Plazos vencidos", strconv.Itoa(len(rep.Overdue)), "de " + strconv.Itoa(len(rep.Phases)) + " " + gelPlural(f.Part)},
		figure{"Acciones vencidas", strconv.Itoa(len(overdueActions)), "de " + strconv.Itoa(len(actions)) + " acciones del plan"})
	type igdView struct{ Year, Index, Score, Peer, PeerGroup, Loaded string }
	var igd []igdView
	for _, r := range rep.IGD {
		v := igdView{Year: strconv.Itoa(r.Year), Index: r.Index, Score: gelValue(r.Score, gel.UnitScore), Peer: "—", PeerGroup: r.PeerGroup,
			Loaded: gelValue(r.LoadedAvg, gel.UnitScore) + " (" + strconv.Itoa(r.PeerCount) + " entidades)"}
		if r.PeerAverage != nil {
			v.Peer = gelValue(*r.PeerAverage, gel.UnitScore)
		}
		igd = append(igd, v)
	}
	dateLabel := Date(rep.Date)
	return struct {
		Page
		Code, Name, Framework, FrameworkName, Part, PartCap, PartPlural, DateLabel, DateValue, Today, FeedURL, RankingURL, Unit string
		Frameworks                                                                                                              []fwLink
		Figures                                                                                                                 []figure
		Phases, Extra                                                                                                           []gelPhaseView
		Overdue                                                                                                                 []Link
		Actions, OverdueActions                                                                                                 []gelActionView
		Trend                                                                                                                   gelTrendView
		IGD                                                                                                                     []igdView
		Refs                                                                                                                    []gel.Reference
		Measured, Synthetic, IsToday                                                                                            bool
	}{
		Page: g.page(name+": "+f.Short, "Avance de "+name+" en "+f.Name+" al "+dateLabel+": fases, criterios, plan de acción y plazos."),
		Code: rep.Entity.Code, Name: name, Framework: f.ID, FrameworkName: f.Name, Part: f.Part, PartCap: gelCapitalize(f.Part), PartPlural: gelCapitalize(gelPlural(f.Part)),
		DateLabel: dateLabel, DateValue: rep.Date.Format("2006-01-02"), Today: Date(g.today()), FeedURL: gelFeedURL(rep.Entity.Code),
		RankingURL: GELBase + "/clasificacion?" + url.Values{"marco": {f.ID}, "departamento": {rep.Entity.DepartmentCode}, "fecha": {rep.Date.Format("2006-01-02")}}.Encode(),
		Unit:       gelUnitLabel(f.Unit), Frameworks: fws, Figures: figs, Phases: phases, Extra: extra, Overdue: overdue,
		Actions: actions, OverdueActions: overdueActions, Trend: trend, IGD: igd, Refs: f.References,
		Measured: rep.Measured, Synthetic: rep.Synthetic, IsToday: rep.Date.Equal(g.today()),
	}
}

func gelOverallNote(f *gel.Framework) string {
	if f.General != "" {
		if p := f.Phase(f.General); p != nil {
			return "El " + strings.ToLower(p.Name) + "."
		}
	}
	return "Promedio de las " + strconv.Itoa(len(f.Phases)) + " " + gelPlural(f.Part) + "; las que no tienen medición cuentan 0."
}

func gelPlural(part string) string {
	switch part {
	case "fase":
		return "fases"
	case "componente":
		return "componentes"
	case "índice":
		return "índices"
	}
	return part + "s"
}

// --- ranking -------------------------------------------------------------

type gelRankView struct {
	Rank, Name, URL, Dept, Score, DeptRank, Last string
	Synthetic, Tie                               bool
}

// Ranking is the ranking page: the most advanced and the most lagging
// entities of a framework (or one of its phases) on a date, and a
// department's entities.
func (g *GELPages) Ranking(ctx context.Context, rawQuery string) *Response {
	q, _ := url.ParseQuery(rawQuery)
	at, explicit, err := g.parseDate(q)
	if err != nil {
		return g.problem(http.StatusBadRequest, "Fecha no válida", err.Error(), Link{Text: "Ver la clasificación de hoy", URL: GELBase + "/clasificacion"})
	}
	fwID := q.Get("marco")
	if fwID == "" {
		fwID = "gel2008"
	}
	f := gel.Default().Framework(fwID)
	if f == nil {
		return g.problem(http.StatusNotFound, "Marco desconocido", "El marco «"+fwID+"» no existe. Los marcos son: gel2008, gd2018 e igd.",
			Link{Text: "Ver la clasificación de Gobierno en Línea 2008", URL: GELBase + "/clasificacion"})
	}
	phase := q.Get("fase")
	if phase != "" && f.Phase(phase) == nil {
		return g.problem(http.StatusNotFound, "Fase desconocida", "«"+phase+"» no es una fase de "+f.Short+".",
			Link{Text: "Ver la clasificación general de " + f.Short, URL: GELBase + "/clasificacion?marco=" + f.ID})
	}
	dept := q.Get("departamento")
	if dept != "" && (len(dept) != 2 || strings.Trim(dept, "0123456789") != "") {
		return g.problem(http.StatusBadRequest, "Departamento no válido", "El departamento se indica con su código DIVIPOLA de 2 dígitos, por ejemplo 25 para Cundinamarca.")
	}
	key := "clasificacion|" + f.ID + "|" + phase + "|" + dept + "|" + at.Format("2006-01-02")
	return g.cached(key, true, func() *Response {
		all, err := g.allPhases(ctx, f.ID, at)
		if err != nil {
			return g.fail(err)
		}
		rows := gel.RankFrom(all, f, phase)
		var atp *time.Time
		if explicit {
			atp = &at
		}
		ties := map[int]int{}
		for _, r := range rows {
			ties[r.Rank]++
		}
		view := func(r gel.RankRow) gelRankView {
			return gelRankView{Rank: strconv.Itoa(r.Rank), Name: gelEntityLabel(r.Entity), URL: gelEntityURL(r.Entity.Code, f.ID, atp),
				Dept: PlaceName(r.Entity.DepartmentName), Score: gelValue(r.Score, f.Unit),
				DeptRank: strconv.Itoa(r.DeptRank) + " de " + strconv.Itoa(r.DeptEntities), Last: Date(r.LastMeasured),
				Synthetic: r.Synthetic, Tie: ties[r.Rank] > 1}
		}
		var top, bottom, inDept []gelRankView
		deptNames := map[string]string{}
		synthetic := false
		for i, r := range rows {
			deptNames[r.Entity.DepartmentCode] = PlaceName(r.Entity.DepartmentName)
			synthetic = synthetic || r.Synthetic
			if i < 10 {
				top = append(top, view(r))
			}
			if dept != "" && r.Entity.DepartmentCode == dept {
				inDept = append(inDept, view(r))
			}
		}
		for i := len(rows) - 1; i >= 0 && i >= len(rows)-10 && len(rows) > 10; i-- {
			bottom = append(bottom, view(rows[i]))
		}
		var deptOpts, phaseOpts, fwOpts []Option
		deptOpts = append(deptOpts, Option{Value: "", Label: "Todos los departamentos", Selected: dept == ""})
		var codes []string
		for c := range deptNames {
			codes = append(codes, c)
		}
		sort.Slice(codes, func(i, j int) bool { return deptNames[codes[i]] < deptNames[codes[j]] })
		for _, c := range codes {
			deptOpts = append(deptOpts, Option{Value: c, Label: deptNames[c], Selected: c == dept})
		}
		general := "General (promedio de las " + gelPlural(f.Part) + ")"
		if gp := f.Phase(f.General); gp != nil {
			general = "General (" + gp.Name + ")"
		}
		phaseOpts = append(phaseOpts, Option{Value: "", Label: general, Selected: phase == ""})
		for _, p := range f.Phases {
			phaseOpts = append(phaseOpts, Option{Value: p.ID, Label: p.Name, Selected: p.ID == phase})
		}
		for _, x := range gel.Default().Frameworks {
			fwOpts = append(fwOpts, Option{Value: x.ID, Label: x.Short, Selected: x.ID == f.ID})
		}
		what := f.Short
		if phase != "" {
			what += ", " + f.Part + " " + f.Phase(phase).Name
		}
		avg := "—"
		if len(rows) > 0 {
			avg = gelValue(rows[0].NationalAvg, f.Unit)
		}
		type table struct {
			ID, Heading, Caption string
			Rows                 []gelRankView
		}
		var tables []table
		if len(inDept) > 0 {
			tables = append(tables, table{"dep", deptNames[dept], "Entidades de " + deptNames[dept] + " por avance en " + what + " al " + Date(at), inDept})
		}
		if len(top) > 0 {
			tables = append(tables, table{"top", "Más avanzadas", "Las entidades más avanzadas en " + what + " al " + Date(at), top})
		}
		if len(bottom) > 0 {
			tables = append(tables, table{"bottom", "Más rezagadas", "Las entidades más rezagadas en " + what + " al " + Date(at) + ", de la última hacia arriba", bottom})
		}
		data := struct {
			Page
			What, DateLabel, DateValue, Average string
			Count                               int
			Tables                              []table
			Frameworks, Phases, Depts           []Option
			Synthetic                           bool
		}{Page: g.page("Clasificación: "+what, "Las entidades más avanzadas y más rezagadas en "+what+", en el país y por departamento."),
			What: what, DateLabel: Date(at), DateValue: at.Format("2006-01-02"), Average: avg,
			Count: len(rows), Tables: tables, Frameworks: fwOpts, Phases: phaseOpts, Depts: deptOpts, Synthetic: synthetic}
		return g.html(gelRankingTmpl, data)
	})
}

func gelCapitalize(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return s
	}
	return strings.ToUpper(string(r[0])) + string(r[1:])
}
