package ingest

import (
	"encoding/csv"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/reference"
)

// Record kinds of the Gobierno en Línea / Gobierno Digital tracker
// (package analytics/gel), besides GELMeasurement.
const (
	// KindGELAction is an item of an entity's GEL / Gobierno Digital action
	// plan.
	KindGELAction Kind = "gel_action_item"
	// KindGDIndex is a row of the Índice de Gobierno Digital as MinTIC
	// publishes it (FURAG results).
	KindGDIndex Kind = "gd_index_score"
)

// Action-plan item statuses.
const (
	ActionPending   = "pendiente"
	ActionOngoing   = "en_curso"
	ActionDone      = "cumplida"
	ActionCancelled = "cancelada"
)

// GELActionItem is one action of an entity's action plan: what is to be
// done, who answers for it, how it is measured, the goal and the deadline.
type GELActionItem struct {
	Origin Origin `csv:"-"`

	EntityCode   string `csv:"entity_code"`
	Plan         string `csv:"plan"`
	Item         string `csv:"item"`
	Framework    string `csv:"framework"`
	Phase        string `csv:"phase"`
	Action       string `csv:"action"`
	Responsible  string `csv:"responsible"`
	Indicator    string `csv:"indicator"`
	Goal         string `csv:"goal"`
	Deadline     *Date  `csv:"deadline,omitempty"`
	DeadlineText string `csv:"deadline_text"`
	Status       string `csv:"status"`
	CompletedOn  *Date  `csv:"completed_on,omitempty"`
	EvidenceURL  string `csv:"evidence_url"`
	Source       string `csv:"source"`
	Synthetic    bool   `csv:"synthetic"`
}

// GDIndexScore is one row of the Índice de Gobierno Digital: an entity's
// score in an index (the IGD itself or one of its sub-indices) for a
// vigencia, with its peer group's average.
type GDIndexScore struct {
	Origin Origin `csv:"-"`

	SIGEPCode    string           `csv:"sigep_code"`
	EntityName   string           `csv:"entity_name"`
	EntityCode   string           `csv:"entity_code"`
	Department   string           `csv:"department"`
	Municipality string           `csv:"municipality"`
	PeerGroup    string           `csv:"peer_group"`
	Year         int              `csv:"year"`
	Index        string           `csv:"index"`
	Score        decimal.Decimal  `csv:"score"`
	PeerAverage  *decimal.Decimal `csv:"peer_average,omitempty"`
	Synthetic    bool             `csv:"synthetic"`
}

// Kind implements Record.
func (*GELActionItem) Kind() Kind { return KindGELAction }

// Kind implements Record.
func (*GDIndexScore) Kind() Kind { return KindGDIndex }

// Provenance implements Record.
func (r *GELActionItem) Provenance() *Origin { return &r.Origin }

// Provenance implements Record.
func (r *GDIndexScore) Provenance() *Origin { return &r.Origin }

func init() {
	register(&Schema{Kind: KindGELAction, Key: []string{"entity_code", "plan", "item"},
		Description: "Acción del plan de Gobierno en Línea / Gobierno Digital de una entidad",
		Fields: []Field{
			{Name: "entity_code", Type: TypeEntityCode, Required: true, Key: true, Description: "Código DIVIPOLA de la entidad (5 dígitos; dd000 para un departamento)"},
			{Name: "plan", Type: TypeCode, Required: true, Key: true, Description: "Identificador del plan de acción (p. ej. caqueza-gel-2009)"},
			{Name: "item", Type: TypeCode, Required: true, Key: true, Description: "Identificador de la acción dentro del plan"},
			{Name: "framework", Type: TypeCode, Description: "Marco al que responde (gel2008, gd2018...)"},
			{Name: "phase", Type: TypeText, Description: "Fase o componente al que responde"},
			{Name: "action", Type: TypeText, Required: true, Description: "Acción"},
			{Name: "responsible", Type: TypeText, Description: "Cargo, dependencia o comité responsable (no el nombre de una persona)"},
			{Name: "indicator", Type: TypeText, Description: "Indicador de gestión"},
			{Name: "goal", Type: TypeText, Description: "Meta"},
			{Name: "deadline", Type: TypeDate, Description: "Plazo (fecha límite)"},
			{Name: "deadline_text", Type: TypeText, Description: "Plazo como lo escribe el plan (p. ej. «Semestre 2/2009»)"},
			{Name: "status", Type: TypeEnum, Allowed: []string{ActionPending, ActionOngoing, ActionDone, ActionCancelled},
				Synonyms: map[string]string{
					"por iniciar": ActionPending, "sin iniciar": ActionPending, "no iniciada": ActionPending, "programada": ActionPending,
					"en curso": ActionOngoing, "en ejecucion": ActionOngoing, "en proceso": ActionOngoing, "iniciada": ActionOngoing,
					"cumplido": ActionDone, "ejecutada": ActionDone, "terminada": ActionDone, "finalizada": ActionDone, "completada": ActionDone, "si": ActionDone,
					"cancelado": ActionCancelled, "anulada": ActionCancelled, "descartada": ActionCancelled,
				},
				Description: "Estado reportado: pendiente (por omisión), en_curso, cumplida o cancelada"},
			{Name: "completed_on", Type: TypeDate, Description: "Fecha en que se cumplió"},
			{Name: "evidence_url", Type: TypeURL, Description: "Enlace a la evidencia publicada"},
			{Name: "source", Type: TypeText, Description: "Documento de donde sale la acción"},
			{Name: "synthetic", Type: TypeBool, Description: "Verdadero si el dato es sintético (ilustrativo)"},
		}}, reflect.TypeOf(GELActionItem{}))

	register(&Schema{Kind: KindGDIndex, Key: []string{"sigep_code", "year", "index"},
		Description: "Resultado de una entidad en el Índice de Gobierno Digital (FURAG) por vigencia e índice",
		Fields: []Field{
			{Name: "sigep_code", Type: TypeCode, Required: true, Key: true, Description: "Código SIGEP de la entidad"},
			{Name: "entity_name", Type: TypeText, Required: true, Description: "Nombre de la entidad como lo publica el índice"},
			{Name: "entity_code", Type: TypeEntityCode, Description: "Código DIVIPOLA, si el archivo lo trae (si no, se deduce de la alcaldía o gobernación y su municipio)"},
			{Name: "department", Type: TypeText, Description: "Departamento de la entidad"},
			{Name: "municipality", Type: TypeText, Description: "Municipio de la entidad"},
			{Name: "peer_group", Type: TypeText, Description: "Grupo par con el que se compara la entidad"},
			{Name: "year", Type: TypeInteger, Required: true, Key: true, Min: "2000", Max: "2100", Description: "Vigencia evaluada"},
			{Name: "index", Type: TypeText, Required: true, Key: true, Description: "Índice o subíndice (p. ej. Índice de Gobierno Digital, TIC para el Estado)"},
			{Name: "score", Type: TypeDecimal, Required: true, Min: "0", Max: "100", Description: "Puntaje de la entidad (0 a 100)"},
			{Name: "peer_average", Type: TypeDecimal, Min: "0", Max: "100", Description: "Promedio del grupo par (0 a 100)"},
			{Name: "synthetic", Type: TypeBool, Description: "Verdadero si la fila es sintética (archivos de demostración)"},
		}}, reflect.TypeOf(GDIndexScore{}))
}

// igdPresetYAML declares the Índice de Gobierno Digital as datos.gov.co
// publishes it: semicolon-separated, Latin-1, decimal commas, one row per
// entity, vigencia and index. The mapping also names the field names the
// Socrata API gives those columns (accents dropped, spaces as "_").
const igdPresetYAML = `
sources:
  - name: indice-gobierno-digital
    kind: file
    record: gd_index_score
    description: Índice de Gobierno Digital (MinTIC, FURAG), como se publica en datos.gov.co
    file: {path: indice_gobierno_digital.csv}
    encoding: latin-1
    delimiter: ";"
    numbers: {decimal: ",", thousands: none}
    mapping:
      "CÓDIGO SIGEP": sigep_code
      "COD SIGEP": sigep_code
      c_digo_sigep: sigep_code
      codigo_sigep: sigep_code
      ENTIDAD: entity_name
      "NOMBRE ENTIDAD": entity_name
      "CÓDIGO DANE": entity_code
      "CÓDIGO DIVIPOLA": entity_code
      DIVIPOLA: entity_code
      c_digo_dane: entity_code
      codigo_dane: entity_code
      DEPARTAMENTO: department
      MUNICIPIO: municipality
      "GRUPO PAR": peer_group
      grupo_par: peer_group
      VIGENCIA: year
      "ÍNDICE": index
      ndice: index
      "PUNTAJE ENTIDAD": score
      puntaje_entidad: score
      "PROMEDIO GRUPO PAR": peer_average
      promedio_grupo_par: peer_average
      "SINTÉTICO": synthetic
`

// IGDFileSource declares a local copy of the Índice de Gobierno Digital
// file (path may be a glob) with the format datos.gov.co publishes it in.
func IGDFileSource(name, path string) SourceConfig {
	c := igdPreset()
	c.Name, c.File = name, &FileConfig{Path: path}
	return c
}

// IGDSocrataSource declares the Índice de Gobierno Digital read from a
// Socrata dataset (e.g. domain www.datos.gov.co): same mapping, JSON
// numbers.
func IGDSocrataSource(name, domain, dataset string) SourceConfig {
	c := igdPreset()
	c.Name, c.Kind, c.File = name, SourceSocrata, nil
	c.Socrata = &SocrataConfig{Domain: domain, Dataset: dataset}
	c.Encoding, c.Delimiter, c.Numbers = "", "", NumbersConfig{}
	return c
}

func igdPreset() SourceConfig {
	list, err := ParseSources([]byte(igdPresetYAML))
	if err != nil {
		panic(fmt.Sprintf("ingest: IGD preset: %v", err)) // a constant: cannot fail
	}
	return list[0]
}

// divipolaNames indexes the reference DIVIPOLA list by folded names.
var divipolaNames struct {
	once   sync.Once
	byPair map[string]string   // "department|municipality" → code
	byName map[string][]string // "municipality" → codes
	depts  map[string]string   // "department" → 2-digit code
}

// placeKey folds a place name for matching: no accents, lower case, every
// run of other characters a single space ("BOGOTÁ, D.C." → "bogota d c").
func placeKey(s string) string {
	s = foldValue(s)
	var b strings.Builder
	space := false
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		space = true
	}
	return b.String()
}

func loadDivipolaNames() {
	divipolaNames.byPair = map[string]string{}
	divipolaNames.byName = map[string][]string{}
	divipolaNames.depts = map[string]string{}
	rows, err := csv.NewReader(strings.NewReader(string(reference.DIVIPOLA()))).ReadAll()
	if err != nil {
		panic(fmt.Sprintf("ingest: reference DIVIPOLA list unreadable: %v", err)) // embedded at build time
	}
	for _, row := range rows[1:] {
		d, m := placeKey(row[2]), placeKey(row[3])
		divipolaNames.byPair[d+"|"+m] = row[1]
		divipolaNames.byName[m] = append(divipolaNames.byName[m], row[1])
		divipolaNames.depts[d] = row[0]
	}
}

// ResolveEntityCode finds the DIVIPOLA code of a territorial entity named
// as the Índice de Gobierno Digital names it: an alcaldía ("ALCALDÍA DE
// CÁQUEZA", "Alcaldía Municipal de Florencia") becomes its municipality's
// code, a gobernación its department's code followed by 000. The
// department and municipality columns are used when given; a municipality
// name shared by several departments needs the department. Other entities
// (concejos, personerías, hospitales, national entities) and names not in
// DANE's list give "".
func ResolveEntityCode(entityName, department, municipality string) string {
	divipolaNames.once.Do(loadDivipolaNames)
	n := placeKey(entityName)
	d := placeKey(department)
	switch {
	case strings.HasPrefix(n, "gobernacion"):
		if d == "" {
			d = afterPrefix(n, "gobernacion del ", "gobernacion de ", "gobernacion ")
		}
		if code, ok := divipolaNames.depts[d]; ok {
			return code + "000"
		}
		return ""
	case strings.HasPrefix(n, "alcaldia"):
		m := placeKey(municipality)
		if m == "" {
			m = afterPrefix(n, "alcaldia municipal de ", "alcaldia distrital de ", "alcaldia mayor de ", "alcaldia de ", "alcaldia del ", "alcaldia ")
			// "Alcaldía de Cáqueza - Cundinamarca" style suffixes.
			if d != "" {
				m = strings.TrimSpace(strings.TrimSuffix(m, " "+d))
			}
		}
		if d != "" {
			if code, ok := divipolaNames.byPair[d+"|"+m]; ok {
				return code
			}
		}
		if codes := divipolaNames.byName[m]; len(codes) == 1 && (d == "" || strings.HasPrefix(codes[0], divipolaNames.depts[d])) {
			return codes[0]
		}
	}
	return ""
}

func afterPrefix(s string, prefixes ...string) string {
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return strings.TrimSpace(rest)
		}
	}
	return s
}
