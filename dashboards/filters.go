package dashboards

import (
	"net/url"
	"strconv"
	"strings"
)

// Filters are a dashboard's selection, held in the URL so that every view
// is a link that can be shared: ?municipio=68001&anio=2020&impuesto=ica.
type Filters struct {
	Municipio string // DIVIPOLA code; "" for all municipalities
	Anio      int    // 0 for all years
	Impuesto  string // predial | ica | reteica; "" for all
	Embed     bool   // ?embed=1: the page inside a newsroom's iframe
	Grafico   string // with embed: show only this chart
}

// filterUse says which filters a dashboard or chart takes into account.
type filterUse uint8

const (
	useMunicipio filterUse = 1 << iota
	useAnio
	useImpuesto
	useAll = useMunicipio | useAnio | useImpuesto
)

// Taxes are the taxes the observatory publishes, in display order.
var Taxes = []struct{ Code, Name string }{
	{"predial", "Predial"},
	{"ica", "ICA"},
	{"reteica", "ReteICA"},
}

// TaxName is the display name of a tax code; unknown codes (a source may
// carry anything) are shown as they came.
func TaxName(code string) string {
	for _, t := range Taxes {
		if t.Code == code {
			return t.Name
		}
	}
	return code
}

func taxKnown(code string) bool {
	for _, t := range Taxes {
		if t.Code == code {
			return true
		}
	}
	return false
}

// only keeps the filters in use.
func (f Filters) only(use filterUse) Filters {
	g := Filters{}
	if use&useMunicipio != 0 {
		g.Municipio = f.Municipio
	}
	if use&useAnio != 0 {
		g.Anio = f.Anio
	}
	if use&useImpuesto != 0 {
		g.Impuesto = f.Impuesto
	}
	return g
}

// values is the canonical query of the selection (fixed order, no empty
// parameters), plus embed and grafico when set.
func (f Filters) values() string {
	var parts []string
	if f.Municipio != "" {
		parts = append(parts, "municipio="+url.QueryEscape(f.Municipio))
	}
	if f.Anio != 0 {
		parts = append(parts, "anio="+strconv.Itoa(f.Anio))
	}
	if f.Impuesto != "" {
		parts = append(parts, "impuesto="+url.QueryEscape(f.Impuesto))
	}
	if f.Embed {
		parts = append(parts, "embed=1")
	}
	if f.Grafico != "" {
		parts = append(parts, "grafico="+url.QueryEscape(f.Grafico))
	}
	return strings.Join(parts, "&")
}

// withQuery appends the canonical query to a path.
func (f Filters) withQuery(path string) string {
	if q := f.values(); q != "" {
		return path + "?" + q
	}
	return path
}

// key identifies the selection in the caches.
func (f Filters) key() string { return f.values() }

// filterProblem is a selection that cannot be shown as asked.
type filterProblem struct {
	Status     int
	Message    string    // Spanish, for the page
	Redirect   string    // canonical URL to go to instead
	Candidates []*Entity // several municipalities match the text
}

// parseFilters reads the selection from a URL query. A municipality may be
// given as a DIVIPOLA code or as text (a name, or the label the search
// suggests); text that names exactly one municipality redirects to the
// canonical link with its code.
func parseFilters(q url.Values, dir *Directory, path string) (Filters, *filterProblem) {
	var f Filters
	f.Embed = q.Get("embed") == "1"
	f.Grafico = strings.TrimSpace(q.Get("grafico"))
	if a := strings.TrimSpace(q.Get("anio")); a != "" {
		y, err := strconv.Atoi(a)
		if err != nil || y < 1990 || y > 2100 {
			return f, &filterProblem{Status: 400, Message: "El año «" + a + "» no es válido: escriba un año de cuatro cifras, por ejemplo 2024."}
		}
		f.Anio = y
	}
	if t := strings.ToLower(strings.TrimSpace(q.Get("impuesto"))); t != "" {
		if !taxKnown(t) {
			return f, &filterProblem{Status: 400, Message: "El impuesto «" + q.Get("impuesto") + "» no se publica: elija predial, ica o reteica."}
		}
		f.Impuesto = t
	}
	m := strings.TrimSpace(q.Get("municipio"))
	if m == "" {
		return f, nil
	}
	if len(m) == 5 && findCode(m) == m {
		if dir.Get(m) == nil {
			return f, &filterProblem{Status: 404, Message: "El código " + m + " no está en la DIVIPOLA."}
		}
		f.Municipio = m
		return f, nil
	}
	var hits []*Entity
	if code := findCode(m); code != "" && dir.Get(code) != nil {
		hits = []*Entity{dir.Get(code)}
	} else if exact := dir.Exact(m); len(exact) > 0 {
		hits = exact
	} else {
		hits = dir.Search(m, 20)
	}
	switch len(hits) {
	case 0:
		return f, &filterProblem{Status: 404, Message: "No encontramos «" + m + "» entre los municipios de la DIVIPOLA. Revise la ortografía o escriba el código DANE de cinco cifras."}
	case 1:
		f.Municipio = hits[0].Code
		return f, &filterProblem{Redirect: f.withQuery(path)}
	}
	return f, &filterProblem{Status: 200, Message: "Varios municipios coinciden con «" + m + "». Elija uno:", Candidates: hits}
}
