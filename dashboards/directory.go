package dashboards

import (
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// Entity is one municipality (or non-municipalized area) of the DIVIPOLA.
type Entity struct {
	Code       string
	Name       string // as DIVIPOLA writes it ("BUCARAMANGA")
	Department string
	Kind       string
	Display    string // "Bucaramanga"
	Label      string // "Bucaramanga, Santander (68001)"
	key        string // normalized name for search
	HasData    bool   // liquidations or payments loaded
}

// Directory is the searchable list of municipalities.
type Directory struct {
	byCode map[string]*Entity
	list   []*Entity // ordered by code
}

func newDirectory(res *warehouse.Result) *Directory {
	d := &Directory{byCode: map[string]*Entity{}}
	r := newRows(res)
	for i := range res.Rows {
		e := &Entity{Code: r.str(i, "codigo"), Name: r.str(i, "nombre"), Department: r.str(i, "departamento"), Kind: r.str(i, "tipo")}
		e.Display = PlaceName(e.Name)
		e.Label = e.Display + ", " + PlaceName(e.Department) + " (" + e.Code + ")"
		e.key = normalize(e.Name + " " + e.Department)
		d.byCode[e.Code] = e
		d.list = append(d.list, e)
	}
	sort.Slice(d.list, func(i, j int) bool { return d.list[i].Code < d.list[j].Code })
	return d
}

// Get returns the entity of a DIVIPOLA code, or nil.
func (d *Directory) Get(code string) *Entity { return d.byCode[code] }

// Name is the display name of a code, or the code itself when unknown (a
// source may carry a code that the DIVIPOLA does not have).
func (d *Directory) Name(code string) string {
	if e := d.byCode[code]; e != nil {
		return e.Display
	}
	return code
}

// Len is the number of entities.
func (d *Directory) Len() int { return len(d.list) }

// Search finds municipalities by name or code, ignoring case and accents:
// "bogota" finds BOGOTÁ. D.C. Names that start with the query come first,
// then those with data, then the rest.
func (d *Directory) Search(q string, limit int) []*Entity {
	if code := findCode(q); code != "" {
		if e := d.byCode[code]; e != nil {
			return []*Entity{e}
		}
	}
	nq := normalize(q)
	if nq == "" {
		return nil
	}
	type hit struct {
		e     *Entity
		score int
	}
	var hits []hit
	for _, e := range d.list {
		i := strings.Index(e.key, nq)
		if i < 0 {
			continue
		}
		s := 2
		if i == 0 {
			s = 0
		} else if e.key[i-1] == ' ' {
			s = 1
		}
		if !e.HasData {
			s += 3
		}
		hits = append(hits, hit{e, s})
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].score < hits[j].score })
	if len(hits) > limit {
		hits = hits[:limit]
	}
	out := make([]*Entity, len(hits))
	for i, h := range hits {
		out[i] = h.e
	}
	return out
}

// Exact returns the entities whose name (without the department) is the
// query, ignoring case and accents.
func (d *Directory) Exact(q string) []*Entity {
	nq := normalize(q)
	var out []*Entity
	for _, e := range d.list {
		if normalize(e.Name) == nq || normalize(e.Display+", "+e.Department) == nq {
			out = append(out, e)
		}
	}
	return out
}

// findCode returns a 5-digit DIVIPOLA code written in s ("68001",
// "Bucaramanga, Santander (68001)"), or "".
func findCode(s string) string {
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			run++
			continue
		}
		if run == 5 {
			return s[i-5 : i]
		}
		run = 0
	}
	if run == 5 {
		return s[len(s)-5:]
	}
	return ""
}

// normalize lowers case, removes accents and punctuation, and collapses
// spaces: "Bogotá, D.C." → "bogota d c".
func normalize(s string) string {
	// A transformer chain keeps state: one per call.
	t, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
	if err != nil {
		t = s
	}
	t = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			return unicode.ToLower(r)
		default:
			return ' '
		}
	}, t)
	return strings.Join(strings.Fields(t), " ")
}
