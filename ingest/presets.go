package ingest

import (
	"fmt"
	"io/fs"

	"github.com/observatorio-civico/observatorio/reference"
)

// referenceSourcesYAML declares the real files shipped in package
// reference. It doubles as an example of source declarations.
const referenceSourcesYAML = `
sources:
  - name: divipola
    kind: file
    record: entity
    description: DANE DIVIPOLA, 1.122 unidades
    file: {path: divipola.csv}
    encoding: utf-8
    delimiter: ","
    mapping:
      "Código Departamento": department_code
      "Código Municipio": municipality_code
      "Nombre Departamento": department_name
      "Nombre Municipio": municipality_name
      "Tipo: Municipio / Isla / Área no municipalizada": kind
  - name: fut-ingresos-caqueta
    kind: file
    record: budget_line
    description: FUT/CUIPO, presupuesto definitivo de ingresos de las entidades del Caquetá, 2012-2024
    file: {path: fut_presupuesto_ingresos_caqueta.csv}
    encoding: utf-8
    delimiter: ","
    numbers: {decimal: ".", thousands: none}
    mojibake: warn
    mapping:
      "Cód. DANE Departamento": department_code
      "Nombre DANE Departamento": department_name
      CODIGO_ENTIDAD: entity_code
      NOMBRE_ENTIDAD: entity_name
      RUBRO: rubro
      "Año": year
      "Presupuesto Definitivo": final_budget
      "Valor_25": value_2025
`

// ReferenceSources returns the declarations of the reference files
// (DIVIPOLA and the Caquetá FUT budgets). Open them with
// WithFS(ReferenceFS()).
func ReferenceSources() []SourceConfig {
	list, err := ParseSources([]byte(referenceSourcesYAML))
	if err != nil {
		panic(fmt.Sprintf("ingest: reference sources: %v", err)) // a constant: cannot fail
	}
	return list
}

// ReferenceSource returns the reference source with that name.
func ReferenceSource(name string) (SourceConfig, error) {
	for _, s := range ReferenceSources() {
		if s.Name == name {
			return s, nil
		}
	}
	return SourceConfig{}, fmt.Errorf("ingest: no reference source %q", name)
}

// ReferenceFS is the file system of the reference files.
func ReferenceFS() fs.FS { return reference.Files }
