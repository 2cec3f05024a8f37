// Package datasets is the catalog of what the observatory publishes for
// download, the disclosure control applied at publication, the releases
// (immutable, checksummed files and rows), the exports (CSV, Excel CSV,
// JSON, Parquet) and the metadata (datapackage.json, DCAT data.json, a
// read-only CKAN API).
//
// Every dataset is declared once in Catalog. Publish, which the ETL calls
// after each committed run, builds every dataset from the warehouse as of
// one cut-off, applies the dataset's disclosure policy (pseudonyms only,
// k-anonymity for record-level files; k, (2, 85) dominance and secondary
// suppression for aggregates), and makes a new release of each dataset
// whose content changed. Downloads and the JSON API read only releases: a
// download never mixes two ETL loads. See README.md in this folder.
package datasets

import (
	"fmt"
	"strings"
	"time"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// DefaultK is the minimum number of distinct taxpayers behind a published
// aggregate cell, and behind each class of quasi-identifiers of a
// record-level file.
const DefaultK = 5

// Dominance rule (n, k): a cell is sensitive when its n largest
// contributors account for more than k percent of its total.
const (
	DominanceN   = 2
	DominancePct = 85
)

// Level is the kind of publication.
type Level string

const (
	// RecordLevel: one row per source record (pseudonymized, k-anonymous).
	RecordLevel Level = "registro"
	// Aggregate: cells over taxpayers (k, dominance, secondary suppression).
	Aggregate Level = "agregado"
	// Public: data about public entities, with no taxpayer in it.
	Public Level = "publico"
)

// Role says what a column is for the disclosure control.
type Role string

const (
	// Identifier columns identify a record or a person; they leave only
	// pseudonymized (Publish refuses a catalog where one is not).
	Identifier Role = "identificador"
	// Quasi columns could be linked with outside knowledge; record-level
	// files are k-anonymous over them.
	Quasi Role = "cuasi-identificador"
	// Dimension columns classify aggregate cells.
	Dimension Role = "dimension"
	// Measure columns are withheld (empty) in suppressed cells.
	Measure Role = "medida"
	// Flag columns say whether a measure group was suppressed (1) or not.
	Flag Role = "indicador"
	// Attribute columns are other published values.
	Attribute Role = "atributo"
)

// Column is one published column.
type Column struct {
	Name        string
	Type        string // ClickHouse type of the published column
	Unit        string // e.g. "COP (pesos corrientes)", "días"; empty when none
	Description string // Spanish
	Role        Role
	// Pseudonymized marks an identifier column whose values are keyed
	// pseudonyms, not the source's identifiers.
	Pseudonymized bool
	// Filter allows filtering downloads by this column (?col=value).
	Filter bool
}

// Source is one origin of the data.
type Source struct {
	Name    string
	URL     string // empty when the source has no public address
	License string
}

// Policy is a dataset's disclosure policy, as declared.
type Policy struct {
	Level Level
	// K is the minimum of distinct taxpayers per cell (aggregates) or per
	// class of quasi-identifiers (record level); 0 for public data.
	K int
	// Dominance applies the (DominanceN, DominancePct) rule to aggregates.
	Dominance bool
	// Secondary names the published totals that suppressed cells are
	// protected against (secondary suppression), in Spanish.
	Secondary string
	// Generalized and Dropped say, in Spanish, what was generalized and
	// what never leaves the warehouse.
	Generalized []string
	Dropped     []string
}

// Dataset is one published dataset.
type Dataset struct {
	ID            string
	Title         string // Spanish
	TitleEN       string
	Description   string // Spanish
	DescriptionEN string
	Tags          []string
	// BuildQueries are the analytics queries the dataset is built from
	// ("the query behind it"), in analytics/queries/.
	BuildQueries []string
	// Table is the warehouse table holding the published rows of every
	// release.
	Table   string
	Columns []Column
	// Key columns identify a row within a release and give the stable
	// order of every export and of the JSON API.
	Key        []string
	License    string
	LicenseURL string
	Sources    []Source
	Provenance string // Spanish: how the data gets from the sources here
	Frequency  string // Spanish, e.g. "diaria (tras cada carga del ETL)"
	// Periodicity is Frequency as ISO 8601 (for DCAT), e.g. "R/P1D".
	Periodicity string
	Temporal    string // Spanish, e.g. "2019 en adelante"
	Policy      Policy

	// Query is the analytics query returning this dataset's latest
	// published rows for dashboards (empty when none), with Params.
	Query string
	// Params gives Query's parameters at time now.
	Params func(now time.Time) []warehouse.Param

	build builder
}

// Column returns the named column.
func (d *Dataset) Column(name string) (Column, bool) {
	for _, c := range d.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// ColumnNames lists the published columns in order.
func (d *Dataset) ColumnNames() []string {
	out := make([]string, len(d.Columns))
	for i, c := range d.Columns {
		out[i] = c.Name
	}
	return out
}

// QuasiIdentifiers lists the quasi-identifier columns.
func (d *Dataset) QuasiIdentifiers() []string {
	var out []string
	for _, c := range d.Columns {
		if c.Role == Quasi {
			out = append(out, c.Name)
		}
	}
	return out
}

// Filters lists the columns downloads can be filtered by.
func (d *Dataset) Filters() []string {
	var out []string
	for _, c := range d.Columns {
		if c.Filter {
			out = append(out, c.Name)
		}
	}
	return out
}

// Statement is the disclosure statement published with the dataset, in
// Spanish.
func (d *Dataset) Statement() string {
	p := d.Policy
	var b strings.Builder
	switch p.Level {
	case RecordLevel:
		fmt.Fprintf(&b, "Archivo registro a registro, k-anónimo con k = %d sobre los cuasi-identificadores (%s): cada combinación de sus valores corresponde al menos a %d contribuyentes distintos; las filas de combinaciones más pequeñas no se publican.",
			p.K, strings.Join(d.QuasiIdentifiers(), ", "), p.K)
	case Aggregate:
		fmt.Fprintf(&b, "Cifras agregadas. Se suprime (se deja vacía) toda celda con menos de %d contribuyentes distintos", p.K)
		if p.Dominance {
			fmt.Fprintf(&b, " o en la que los %d mayores contribuyentes suman más del %d %% del total (regla de dominancia (%d, %d))", DominanceN, DominancePct, DominanceN, DominancePct)
		}
		b.WriteString(".")
		if p.Secondary != "" {
			fmt.Fprintf(&b, " Supresión secundaria: %s, de modo que ninguna celda suprimida puede recalcularse a partir de los totales publicados.", p.Secondary)
		}
	default:
		b.WriteString("Datos públicos sobre entidades: no contienen información de contribuyentes y no requieren supresión.")
	}
	var ids []string
	for _, c := range d.Columns {
		if c.Role == Identifier {
			ids = append(ids, c.Name)
		}
	}
	if len(ids) > 0 {
		fmt.Fprintf(&b, " Los identificadores (%s) son seudónimos con clave: no son cédulas, NIT ni números de liquidación, ni un hash simple de ellos.", strings.Join(ids, ", "))
	}
	if len(p.Generalized) > 0 {
		fmt.Fprintf(&b, " Generalizado: %s.", strings.Join(p.Generalized, "; "))
	}
	if len(p.Dropped) > 0 {
		fmt.Fprintf(&b, " Nunca se publican: %s.", strings.Join(p.Dropped, ", "))
	}
	return b.String()
}

// Get returns a dataset by id.
func Get(id string) (*Dataset, error) {
	for i := range Catalog {
		if Catalog[i].ID == id {
			return &Catalog[i], nil
		}
	}
	return nil, fmt.Errorf("no existe el conjunto de datos %q", id)
}

// typeKind classifies a ClickHouse type for the text exports.
type typeKind int

const (
	kindText typeKind = iota
	kindInt
	kindDecimal
	kindDate
	kindDateTime
)

func kindOf(typ string) typeKind {
	t := typ
	for _, p := range []string{"Nullable(", "LowCardinality("} {
		if strings.HasPrefix(t, p) {
			t = strings.TrimSuffix(strings.TrimPrefix(t, p), ")")
		}
	}
	switch {
	case strings.HasPrefix(t, "UInt"), strings.HasPrefix(t, "Int"):
		return kindInt
	case strings.HasPrefix(t, "Decimal"), strings.HasPrefix(t, "Float"):
		return kindDecimal
	case t == "Date":
		return kindDate
	case strings.HasPrefix(t, "DateTime"):
		return kindDateTime
	}
	return kindText
}

func nullable(typ string) bool { return strings.HasPrefix(typ, "Nullable(") }

// baseType strips Nullable(...).
func baseType(typ string) string {
	if nullable(typ) {
		return strings.TrimSuffix(strings.TrimPrefix(typ, "Nullable("), ")")
	}
	return typ
}
