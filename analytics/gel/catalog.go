package gel

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"
)

//go:embed frameworks.yaml
var frameworksYAML []byte

// TotalCriterion is the reserved criterion id of a phase's own measurement:
// the percentage or score of the phase as a whole (Cáqueza's 2009
// diagnosis, an autodiagnóstico's component score, an IGD sub-index).
const TotalCriterion = "total"

// totalAliases are what sources write for the phase-level measurement.
var totalAliases = []string{"total", "fase", "global", "avance", "avance de la fase", "puntaje", "indice", "resultado"}

// Units of measurement values.
const (
	UnitPercent = "percent" // 0 to 100
	UnitScore   = "score"   // a score, 0 to 100 in the frameworks shipped
)

// Reference is where a rule or a figure comes from: a norm (law, decree,
// manual) or a document, with what it says and whether it was read.
type Reference struct {
	Norm  string `yaml:"norma" json:"norma"`
	Date  string `yaml:"fecha,omitempty" json:"fecha,omitempty"` // 2006-01-02
	Title string `yaml:"titulo,omitempty" json:"titulo,omitempty"`
	// Article is the article or section, when known.
	Article string `yaml:"articulo,omitempty" json:"articulo,omitempty"`
	URL     string `yaml:"url,omitempty" json:"url,omitempty"`
	Note    string `yaml:"nota,omitempty" json:"nota,omitempty"`
	// Source is the document the reference was taken from (a seed of the
	// project, a gazette).
	Source string `yaml:"fuente,omitempty" json:"fuente,omitempty"`
	// Verified is false when the norm itself was not read (the figure comes
	// from a secondary document).
	Verified bool `yaml:"verificado" json:"verificado"`
}

// Framework is a measurement framework: GEL 2008, Gobierno Digital 2018, the
// Índice de Gobierno Digital.
type Framework struct {
	ID    string `yaml:"id" json:"id"`
	Name  string `yaml:"nombre" json:"nombre"`
	Short string `yaml:"corto" json:"corto"`
	Part  string `yaml:"parte" json:"parte"` // what its parts are called: fase, componente, índice
	Unit  string `yaml:"unidad" json:"unidad"`
	// General is the phase whose progress is the framework's overall
	// score (the IGD itself); empty: the mean of all its phases.
	General     string      `yaml:"general,omitempty" json:"general,omitempty"`
	Description string      `yaml:"descripcion" json:"descripcion"`
	References  []Reference `yaml:"referencias" json:"referencias"`
	Phases      []*Phase    `yaml:"fases" json:"fases"`
}

// Phase is a phase, component or index of a framework.
type Phase struct {
	Framework  string          `yaml:"-" json:"marco"`
	ID         string          `yaml:"id" json:"id"`
	Name       string          `yaml:"nombre" json:"nombre"`
	Summary    string          `yaml:"resumen,omitempty" json:"resumen,omitempty"`
	Kind       string          `yaml:"tipo,omitempty" json:"tipo,omitempty"` // fase, propósito, habilitador, índice...
	RawDate    string          `yaml:"plazo,omitempty" json:"-"`
	Deadline   *time.Time      `yaml:"-" json:"plazo,omitempty"`
	Target     decimal.Decimal `yaml:"meta" json:"meta"`
	Aliases    []string        `yaml:"alias,omitempty" json:"alias,omitempty"`
	References []Reference     `yaml:"referencias,omitempty" json:"referencias,omitempty"`
	Criteria   []*Criterion    `yaml:"criterios,omitempty" json:"criterios,omitempty"`
	Position   int             `yaml:"-" json:"posicion"`
}

// Criterion is a criterion or indicator of a phase.
type Criterion struct {
	ID         string          `yaml:"id" json:"id"`
	Name       string          `yaml:"nombre" json:"nombre"`
	Group      string          `yaml:"grupo,omitempty" json:"grupo,omitempty"`
	Target     decimal.Decimal `yaml:"meta,omitempty" json:"meta"`
	Unit       string          `yaml:"unidad,omitempty" json:"unidad"`
	RawDate    string          `yaml:"plazo,omitempty" json:"-"`
	Deadline   *time.Time      `yaml:"-" json:"plazo,omitempty"` // the phase's when not its own
	Aliases    []string        `yaml:"alias,omitempty" json:"alias,omitempty"`
	References []Reference     `yaml:"referencias,omitempty" json:"referencias,omitempty"`
	Position   int             `yaml:"-" json:"posicion"`
}

// Catalog is the set of frameworks shipped with the observatory.
type Catalog struct {
	Frameworks []*Framework
	// Checksum identifies this version of the catalog in the warehouse.
	Checksum string
}

var catalog = mustCatalog()

func mustCatalog() *Catalog {
	c, err := ParseCatalog(frameworksYAML)
	if err != nil {
		panic(fmt.Sprintf("gel: frameworks.yaml: %v", err)) // embedded at build time
	}
	return c
}

// Default is the embedded catalog (frameworks.yaml).
func Default() *Catalog { return catalog }

// ParseCatalog reads a catalog in the format of frameworks.yaml and checks
// it: unique ids, dates, targets, units.
func ParseCatalog(data []byte) (*Catalog, error) {
	var doc struct {
		Frameworks []*Framework `yaml:"marcos"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	c := &Catalog{Frameworks: doc.Frameworks, Checksum: hex.EncodeToString(sum[:8])}
	var errs []string
	add := func(f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) }
	seenF := map[string]bool{}
	for _, f := range c.Frameworks {
		if f.ID == "" || Key(f.ID) != f.ID {
			add("marco %q: el id debe ser minúsculas, dígitos y guiones", f.ID)
		}
		if seenF[f.ID] {
			add("marco %q repetido", f.ID)
		}
		seenF[f.ID] = true
		if f.Unit != UnitPercent && f.Unit != UnitScore {
			add("marco %s: unidad %q (percent o score)", f.ID, f.Unit)
		}
		checkRefs(f.ID, f.References, add)
		if f.General != "" && f.Phase(f.General) == nil {
			add("marco %s: general %q no es una de sus fases", f.ID, f.General)
		}
		seenP := map[string]string{}
		for i, p := range f.Phases {
			p.Framework, p.Position = f.ID, i+1
			if p.ID == "" || PhaseKey(p.ID) != p.ID {
				add("%s: fase %q: el id debe ser su propia clave normalizada", f.ID, p.ID)
			}
			if p.Kind == "" {
				p.Kind = f.Part
			}
			if p.Target.IsZero() {
				p.Target = decimal.NewFromInt(100)
			}
			if p.Target.IsNegative() {
				add("%s/%s: meta negativa", f.ID, p.ID)
			}
			if p.RawDate != "" {
				d, err := time.Parse("2006-01-02", p.RawDate)
				if err != nil {
					add("%s/%s: plazo %q no es una fecha AAAA-MM-DD", f.ID, p.ID, p.RawDate)
				} else {
					p.Deadline = &d
				}
			}
			for _, k := range append([]string{p.ID, p.Name}, p.Aliases...) {
				k = PhaseKey(k)
				if prev, dup := seenP[k]; dup && prev != p.ID {
					add("%s: la clave %q sirve a dos fases (%s y %s)", f.ID, k, prev, p.ID)
				}
				seenP[k] = p.ID
			}
			checkRefs(f.ID+"/"+p.ID, p.References, add)
			seenC := map[string]string{}
			for _, k := range totalAliases {
				seenC[Key(k)] = TotalCriterion
			}
			for j, cr := range p.Criteria {
				cr.Position = j + 1
				if cr.ID == "" || Key(cr.ID) != cr.ID || cr.ID == TotalCriterion {
					add("%s/%s: criterio %q: id inválido o reservado", f.ID, p.ID, cr.ID)
				}
				if cr.Unit == "" {
					cr.Unit = f.Unit
				}
				if cr.Unit != UnitPercent && cr.Unit != UnitScore {
					add("%s/%s/%s: unidad %q", f.ID, p.ID, cr.ID, cr.Unit)
				}
				if cr.Target.IsZero() {
					cr.Target = decimal.NewFromInt(100)
				}
				if cr.RawDate != "" {
					d, err := time.Parse("2006-01-02", cr.RawDate)
					if err != nil {
						add("%s/%s/%s: plazo %q no es una fecha", f.ID, p.ID, cr.ID, cr.RawDate)
					} else {
						cr.Deadline = &d
					}
				} else {
					cr.Deadline = p.Deadline
				}
				for _, k := range append([]string{cr.ID, cr.Name}, cr.Aliases...) {
					k = Key(k)
					if prev, dup := seenC[k]; dup && prev != cr.ID {
						add("%s/%s: la clave %q sirve a dos criterios (%s y %s)", f.ID, p.ID, k, prev, cr.ID)
					}
					seenC[k] = cr.ID
				}
				checkRefs(f.ID+"/"+p.ID+"/"+cr.ID, cr.References, add)
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return c, nil
}

func checkRefs(where string, refs []Reference, add func(string, ...any)) {
	for _, r := range refs {
		if r.Norm == "" {
			add("%s: referencia sin norma", where)
		}
		if r.Date != "" {
			if _, err := time.Parse("2006-01-02", r.Date); err != nil {
				add("%s: referencia %s con fecha %q inválida", where, r.Norm, r.Date)
			}
		}
	}
}

// Framework returns the framework with that id, or nil.
func (c *Catalog) Framework(id string) *Framework {
	for _, f := range c.Frameworks {
		if f.ID == id {
			return f
		}
	}
	return nil
}

// Phase returns the phase with that id, or nil.
func (f *Framework) Phase(id string) *Phase {
	for _, p := range f.Phases {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// Criterion returns the criterion with that id, or nil.
func (p *Phase) Criterion(id string) *Criterion {
	for _, c := range p.Criteria {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// ResolvePhase maps what a source writes (an id, a name, an alias, with or
// without accents or "Fase de") to the phase, or nil.
func (f *Framework) ResolvePhase(s string) *Phase {
	k := PhaseKey(s)
	for _, p := range f.Phases {
		for _, a := range append([]string{p.ID, p.Name}, p.Aliases...) {
			if PhaseKey(a) == k {
				return p
			}
		}
	}
	return nil
}

// ResolveCriterion maps what a source writes to a criterion id of the
// phase: TotalCriterion for the phase-level measurement, "" when unknown.
func (p *Phase) ResolveCriterion(s string) string {
	k := Key(s)
	for _, a := range totalAliases {
		if Key(a) == k {
			return TotalCriterion
		}
	}
	for _, c := range p.Criteria {
		for _, a := range append([]string{c.ID, c.Name}, c.Aliases...) {
			if Key(a) == k {
				return c.ID
			}
		}
	}
	return ""
}

// accents are folded the same way here and in SQL (queries/_medidas.sql):
// change both together.
var accents = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n",
	"à", "a", "è", "e", "ì", "i", "ò", "o", "ù", "u")

// Key is the normalized form under which sources' phase and criterion
// names are matched: lower case, accents removed, every run of other
// characters a single "-", no "-" at the ends ("Trámites y servicios" →
// "tramites-y-servicios"). The SQL of the queries computes the same key.
func Key(s string) string {
	s = accents.Replace(strings.ToLower(s))
	var b strings.Builder
	dash := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteByte(c)
			continue
		}
		dash = true
	}
	return b.String()
}

// PhaseKey is Key without a leading "fase" or "fase de" ("Fase de
// Información" → "informacion").
func PhaseKey(s string) string {
	k := Key(s)
	if rest, ok := strings.CutPrefix(k, "fase-"); ok {
		k = strings.TrimPrefix(rest, "de-")
	}
	return k
}
