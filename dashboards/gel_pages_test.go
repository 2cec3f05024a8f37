package dashboards

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/analytics/gel/geldemo"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// get writes a Response through net/http, as the server does.
func get(t *testing.T, r *Response) (int, http.Header, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	r.Write(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	return rec.Code, rec.Header(), rec.Body.String()
}

var (
	scriptRe = regexp.MustCompile(`<script[^>]*>`)
	tableRe  = regexp.MustCompile(`(?s)<table>(.*?)</table>`)
	inlineRe = regexp.MustCompile(`\s(style|on[a-z]+)=`)
	idRe     = regexp.MustCompile(`\sid="([^"]+)"`)
)

// checkPage holds every page to the site's rules: Spanish, no inline
// script or style (CSP), every table with a caption.
func checkPage(t *testing.T, name, body string) {
	t.Helper()
	if !strings.Contains(body, `<html lang="es-CO">`) {
		t.Errorf("%s: sin lang es-CO", name)
	}
	for _, s := range scriptRe.FindAllString(body, -1) {
		if !strings.Contains(s, "src=") {
			t.Errorf("%s: script en línea %s", name, s)
		}
	}
	if m := inlineRe.FindString(body); m != "" {
		t.Errorf("%s: atributo en línea %q", name, m)
	}
	for _, tb := range tableRe.FindAllStringSubmatch(body, -1) {
		if !strings.HasPrefix(strings.TrimSpace(tb[1]), "<caption") {
			t.Errorf("%s: tabla sin caption: %.80s", name, tb[1])
		}
	}
	ids := map[string]bool{}
	for _, m := range idRe.FindAllStringSubmatch(body, -1) {
		if ids[m[1]] {
			t.Errorf("%s: id repetido %q", name, m[1])
		}
		ids[m[1]] = true
	}
	if strings.Count(body, "<h1") != 1 {
		t.Errorf("%s: %d h1", name, strings.Count(body, "<h1"))
	}
}

func TestGELPages(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := context.Background()
		if _, err := warehouse.SeedEntities(ctx, e); err != nil {
			t.Fatal(err)
		}
		if _, err := geldemo.Load(ctx, e); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
		g := NewGELPages(e, GELOptions{Demo: true, Now: func() time.Time { return now }})

		// Cáqueza on the day of its diagnosis: the seed's figures, the
		// overdue phase, the rank and the feed.
		code, _, body := get(t, g.Entity(ctx, "25151", "fecha=2009-08-31"))
		if code != 200 {
			t.Fatalf("entidad: %d %s", code, body)
		}
		checkPage(t, "entidad", body)
		for _, want := range []string{
			"Cáqueza (Cundinamarca): Estrategia de Gobierno en Línea (Decreto 1151 de 2008)",
			"Situación al <strong>31 de agosto de 2009</strong>",
			`<a href="#fase-informacion">Información</a></th><td>1 de noviembre de 2008</td><td>90 %</td>`,
			`<a href="#fase-interaccion">Interacción</a></th><td>1 de diciembre de 2009</td><td>70 %</td>`,
			`<td>5 %</td>`, "<strong>Vencida</strong>", "Pendiente, en plazo",
			`href="#fase-informacion">Información: plazo 1 de noviembre de 2008, avance 90 %</a>`,
			"Puesto en el país", "Puesto en Cundinamarca",
			`href="/gobierno-en-linea/entidades/25151/novedades.atom" type="application/atom+xml"`,
			"Desarrollar servicios de suscripción", "Semestre 1/2009", "Comité GELT",
			"Decreto 1151 de 2008",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("la página de Cáqueza no muestra %q", want)
			}
		}
		// Today: every GEL deadline has passed; the plan's actions too.
		_, _, today := get(t, g.Entity(ctx, "25151", ""))
		if !strings.Contains(today, "Situación al <strong>21 de noviembre de 2026</strong>") || !strings.Contains(today, "Acciones del plan con el plazo vencido") {
			t.Errorf("la página de hoy no muestra la fecha o las acciones vencidas")
		}
		// Bucaramanga's Gobierno Digital components (scores, no deadlines).
		code, _, bga := get(t, g.Entity(ctx, "68001", "marco=gd2018&fecha=2020-12-31"))
		if code != 200 || !strings.Contains(bga, "<td>97,2</td>") || !strings.Contains(bga, "<td>42,8</td>") || !strings.Contains(bga, "sin plazo") {
			t.Errorf("Bucaramanga gd2018: %d", code)
		}
		checkPage(t, "bucaramanga", bga)

		// Ranking in Información, August 2009: slide 24's leaders, with a tie.
		code, _, rank := get(t, g.Ranking(ctx, "marco=gel2008&fase=informacion&fecha=2009-08-31&departamento=25"))
		if code != 200 {
			t.Fatalf("clasificación: %d", code)
		}
		checkPage(t, "clasificacion", rank)
		top := strings.Index(rank, "San Vicente de Chucurí (Santander)")
		if top < 0 || !strings.Contains(rank, "<td>2 (empate)</td>") || !strings.Contains(rank, "Más rezagadas") ||
			!strings.Contains(rank, "Entidades de Cundinamarca") || strings.Index(rank, "Chiquinquirá") < top {
			t.Errorf("clasificación: falta el primero, el empate, los rezagados o Cundinamarca")
		}

		// Frameworks and index.
		code, _, cat := get(t, g.Frameworks(ctx))
		if code != 200 || !strings.Contains(cat, "1 de diciembre de 2012") || !strings.Contains(cat, "Decreto 1008 de 2018") {
			t.Errorf("marcos: %d", code)
		}
		checkPage(t, "marcos", cat)
		code, _, idx := get(t, g.Index(ctx, ""))
		if code != 200 || !strings.Contains(idx, `href="/gobierno-en-linea/entidades/25151"`) {
			t.Errorf("inicio: %d", code)
		}
		checkPage(t, "inicio", idx)
		for q, want := range map[string]string{"municipio=c%C3%A1queza": "/gobierno-en-linea/entidades/25151",
			"municipio=CAQUEZA": "/gobierno-en-linea/entidades/25151", "municipio=68001": "/gobierno-en-linea/entidades/68001"} {
			if code, h, _ := get(t, g.Index(ctx, q)); code != http.StatusSeeOther || h.Get("Location") != want {
				t.Errorf("%s: %d %s", q, code, h.Get("Location"))
			}
		}
		// Wrong requests say what is wrong.
		for name, r := range map[string]*Response{
			"fecha":     g.Entity(ctx, "25151", "fecha=31/08/2009"),
			"entidad":   g.Entity(ctx, "99999", ""),
			"marco":     g.Entity(ctx, "25151", "marco=gel1999"),
			"fase":      g.Ranking(ctx, "marco=gel2008&fase=nada"),
			"municipio": g.Index(ctx, "municipio=Macondo"),
		} {
			code, _, b := get(t, r)
			if code < 400 || !strings.Contains(b, "<h1>") {
				t.Errorf("%s: %d", name, code)
			}
		}

		// The feed.
		code, h, feed := get(t, g.Feed(ctx, "25151", "https://observatorio.example"))
		if code != 200 || h.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
			t.Fatalf("canal: %d %s", code, h.Get("Content-Type"))
		}
		checkFeed(t, feed)
		_, _, again := get(t, g.Feed(ctx, "25151", "https://observatorio.example"))
		if again != feed {
			t.Errorf("el canal cambió sin que cambiaran los datos")
		}
		if !strings.Contains(feed, "Venció el plazo de la fase Información (Gobierno en Línea 2008) sin que Cáqueza (Cundinamarca) la cumpliera") ||
			!strings.Contains(feed, "Cáqueza (Cundinamarca) cumplió la acción «Consultas de la contratación del municipio» de su plan a tiempo") ||
			!strings.Contains(feed, "<id>tag:observatorio-civico.github.io,2026:gel/25151/gel2008/informacion/fase-vencida</id>") {
			t.Errorf("al canal le faltan entradas:\n%s", feed)
		}
		if code, _, _ := get(t, g.Feed(ctx, "99999", "https://observatorio.example")); code != 404 {
			t.Errorf("canal de una entidad inexistente: %d", code)
		}
	})
}

// checkFeed checks the feed against RFC 4287's requirements: well-formed
// XML in the Atom namespace; feed id, title, updated, author and self
// link; every entry with a unique id, a title, an updated date-time and
// a link; dates in RFC 3339.
func checkFeed(t *testing.T, body string) {
	t.Helper()
	var f struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		Lang    string   `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		ID      string   `xml:"id"`
		Title   string   `xml:"title"`
		Updated string   `xml:"updated"`
		Author  struct {
			Name string `xml:"name"`
		} `xml:"author"`
		Links []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Link    struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Summary string `xml:"summary"`
		} `xml:"entry"`
	}
	dec := xml.NewDecoder(bytes.NewReader([]byte(body)))
	dec.Strict = true
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("canal mal formado: %v", err)
	}
	if f.Lang != "es-CO" || !strings.HasPrefix(f.ID, "tag:") || f.Title == "" || f.Author.Name == "" || len(f.Entries) == 0 {
		t.Errorf("canal incompleto: %+v", f)
	}
	if _, err := time.Parse(time.RFC3339, f.Updated); err != nil {
		t.Errorf("updated %q", f.Updated)
	}
	self := false
	for _, l := range f.Links {
		self = self || (l.Rel == "self" && strings.HasPrefix(l.Href, "https://observatorio.example/"))
	}
	if !self {
		t.Errorf("sin enlace self: %+v", f.Links)
	}
	seen := map[string]bool{}
	for _, e := range f.Entries {
		if seen[e.ID] || !strings.HasPrefix(e.ID, "tag:observatorio-civico.github.io,2026:gel/") || e.Title == "" || e.Summary == "" ||
			!strings.HasPrefix(e.Link.Href, "https://observatorio.example/gobierno-en-linea/entidades/25151") {
			t.Errorf("entrada inválida o repetida: %+v", e)
		}
		seen[e.ID] = true
		if u, err := time.Parse(time.RFC3339, e.Updated); err != nil || u.After(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("entrada %s: updated %q", e.ID, e.Updated)
		}
	}
}
