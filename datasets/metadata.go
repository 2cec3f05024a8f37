package datasets

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Metadata in the open-data ecosystem's formats: a Frictionless Data
// Package (datapackage.json with Table Schema) per release, a DCAT catalog
// in the Project Open Data v1.1 schema (/data.json) and the shapes of a
// read-only CKAN action API.

// Publisher is the publishing organization's name.
const Publisher = publisher

type tsField struct {
	Name        string         `json:"name"`
	Type        string         `json:"type"`
	Format      string         `json:"format,omitempty"`
	Title       string         `json:"title,omitempty"`
	Description string         `json:"description"`
	Unit        string         `json:"unit,omitempty"`
	DecimalChar string         `json:"decimalChar,omitempty"`
	Constraints map[string]any `json:"constraints,omitempty"`
	Role        string         `json:"observatorio:papel,omitempty"`
}

type tableSchema struct {
	Fields        []tsField `json:"fields"`
	PrimaryKey    []string  `json:"primaryKey"`
	MissingValues []string  `json:"missingValues"`
}

// schema is the Table Schema of the dataset's CSV (decimal comma for the
// Excel profile).
func (d *Dataset) schema(decimalComma bool) tableSchema {
	s := tableSchema{PrimaryKey: d.Key, MissingValues: []string{""}}
	for _, c := range d.Columns {
		f := tsField{Name: c.Name, Description: c.Description, Unit: c.Unit, Role: string(c.Role)}
		switch kindOf(c.Type) {
		case kindInt:
			f.Type = "integer"
		case kindDecimal:
			f.Type = "number"
			if decimalComma {
				f.DecimalChar = ","
			}
		case kindDate:
			f.Type = "date"
		case kindDateTime:
			f.Type = "datetime"
			f.Format = "%Y-%m-%d %H:%M:%S"
		default:
			f.Type = "string"
		}
		if !nullable(c.Type) {
			f.Constraints = map[string]any{"required": true}
		}
		s.Fields = append(s.Fields, f)
	}
	return s
}

func spdx(license string) string {
	switch license {
	case ccBy:
		return "CC-BY-4.0"
	case ccBySA:
		return "CC-BY-SA-4.0"
	}
	return license
}

// DataPackage is the release's datapackage.json: a Frictionless Data
// Package whose resources are the release's files (the CSV and Excel CSV as
// tabular resources with their Table Schema, and the Parquet file),
// referred to by relative path (they sit next to it under the release's
// permanent URL), each with its size and SHA-256. The profile is the
// general data-package: tabular-data-package would forbid the Parquet
// resource.
func DataPackage(d *Dataset, rel *Release) ([]byte, error) {
	type resource struct {
		Profile   string         `json:"profile"`
		Name      string         `json:"name"`
		Path      string         `json:"path"`
		Title     string         `json:"title"`
		Format    string         `json:"format"`
		MediaType string         `json:"mediatype"`
		Encoding  string         `json:"encoding,omitempty"`
		Bytes     int64          `json:"bytes"`
		Hash      string         `json:"hash"`
		Dialect   map[string]any `json:"dialect,omitempty"`
		Schema    *tableSchema   `json:"schema,omitempty"`
	}
	var resources []resource
	for _, f := range rel.Files {
		r := resource{Name: strings.ReplaceAll(strings.TrimSuffix(f.Name, ".csv"), ".", "-"), Path: f.Name, Bytes: f.Bytes, Hash: "sha256:" + f.SHA256, MediaType: strings.Split(f.MediaType, ";")[0]}
		switch f.Format {
		case FormatCSV:
			s := d.schema(false)
			r.Profile, r.Format, r.Encoding, r.Schema = "tabular-data-resource", "csv", "utf-8", &s
			r.Title = "CSV (RFC 4180, UTF-8, separador coma, punto decimal)"
			r.Dialect = map[string]any{"delimiter": ",", "lineTerminator": "\r\n", "quoteChar": "\"", "doubleQuote": true, "header": true}
		case FormatExcel:
			s := d.schema(true)
			r.Profile, r.Format, r.Encoding, r.Schema = "tabular-data-resource", "csv", "utf-8", &s
			r.Title = "CSV para Excel en español (UTF-8 con BOM, separador punto y coma, coma decimal)"
			r.Dialect = map[string]any{"delimiter": ";", "lineTerminator": "\r\n", "quoteChar": "\"", "doubleQuote": true, "header": true}
		case FormatParquet:
			r.Profile, r.Format, r.Title = "data-resource", "parquet", "Parquet (tipado, comprimido)"
		default:
			continue // datapackage.json does not list itself
		}
		resources = append(resources, r)
	}
	sources := make([]map[string]string, 0, len(d.Sources))
	for _, s := range d.Sources {
		m := map[string]string{"title": s.Name}
		if s.URL != "" {
			m["path"] = s.URL
		}
		sources = append(sources, m)
	}
	pkg := map[string]any{
		"profile":     "data-package", // tabular CSVs plus a Parquet file
		"name":        d.ID,
		"title":       d.Title,
		"description": d.Description + "\n\n" + d.DescriptionEN,
		"version":     fmt.Sprintf("%d.0.0", rel.Number),
		"created":     rel.Created.UTC().Format(time.RFC3339),
		"keywords":    d.Tags,
		"licenses":    []map[string]string{{"name": spdx(d.License), "path": d.LicenseURL, "title": d.License}},
		"sources":     sources,
		"contributors": []map[string]string{
			{"title": Publisher, "role": "publisher"},
		},
		"resources":                  resources,
		"observatorio:procedencia":   d.Provenance,
		"observatorio:frecuencia":    d.Frequency,
		"observatorio:fecha_corte":   rel.Cutoff.UTC().Format(time.RFC3339),
		"observatorio:divulgacion":   rel.Disclosure,
		"observatorio:filas":         rel.Rows,
		"observatorio:titulo_ingles": d.TitleEN,
	}
	b, err := json.MarshalIndent(pkg, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// DCATCatalog is /data.json: the catalog in the Project Open Data v1.1
// schema (DCAT-US), with absolute URLs under base (e.g.
// "https://observatorio.example.org").
func DCATCatalog(base string, latest map[string]*Release) ([]byte, error) {
	base = strings.TrimSuffix(base, "/")
	var entries []map[string]any
	for i := range Catalog {
		d := &Catalog[i]
		e := map[string]any{
			"@type":       "dcat:Dataset",
			"title":       d.Title,
			"description": d.Description,
			"keyword":     d.Tags,
			"publisher":   map[string]any{"@type": "org:Organization", "name": Publisher},
			"contactPoint": map[string]any{
				"@type": "vcard:Contact",
				"fn":    Publisher,
			},
			"identifier":         base + "/datos/" + d.ID,
			"accessLevel":        "public",
			"rights":             truncate(d.Statement(), 255),
			"license":            d.LicenseURL,
			"landingPage":        base + "/datos/" + d.ID,
			"language":           []string{"es-CO"},
			"spatial":            "Colombia",
			"accrualPeriodicity": d.Periodicity,
			"theme":              []string{"Hacienda pública", "Transparencia"},
		}
		if rel := latest[d.ID]; rel != nil {
			e["modified"] = rel.Created.UTC().Format(time.RFC3339)
			e["describedBy"] = fmt.Sprintf("%s/datos/%s/versiones/%d/datapackage.json", base, d.ID, rel.Number)
			e["describedByType"] = "application/json"
			var dist []map[string]any
			for _, f := range rel.Files {
				if f.Format == "datapackage" {
					continue
				}
				dist = append(dist, map[string]any{
					"@type":       "dcat:Distribution",
					"title":       formatTitle(f.Format),
					"description": fmt.Sprintf("Versión %d, %d filas, SHA-256 %s", rel.Number, rel.Rows, f.SHA256),
					"downloadURL": fmt.Sprintf("%s/datos/%s/versiones/%d/%s", base, d.ID, rel.Number, f.Name),
					"mediaType":   strings.Split(f.MediaType, ";")[0],
					"format":      strings.ToUpper(f.Format),
				})
			}
			dist = append(dist, map[string]any{
				"@type":       "dcat:Distribution",
				"title":       "API JSON paginada",
				"description": "Registros en JSON, por páginas con cursor (orden estable)",
				"accessURL":   base + "/api/datos/" + d.ID,
				"mediaType":   "application/json",
				"format":      "API",
			})
			e["distribution"] = dist
		}
		entries = append(entries, e)
	}
	cat := map[string]any{
		"@context":    "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
		"@id":         base + "/data.json",
		"@type":       "dcat:Catalog",
		"conformsTo":  "https://project-open-data.cio.gov/v1.1/schema",
		"describedBy": "https://project-open-data.cio.gov/v1.1/schema/catalog.json",
		"dataset":     entries,
	}
	b, err := json.MarshalIndent(cat, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func formatTitle(format string) string {
	switch format {
	case FormatCSV:
		return "CSV (RFC 4180, UTF-8)"
	case FormatExcel:
		return "CSV para Excel en español (punto y coma, coma decimal)"
	case FormatParquet:
		return "Parquet"
	case FormatJSON:
		return "JSON"
	}
	return format
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// CKANPackage is the package_show result for a dataset (CKAN 2.x shape).
func CKANPackage(base string, d *Dataset, rel *Release) map[string]any {
	base = strings.TrimSuffix(base, "/")
	tags := make([]map[string]any, len(d.Tags))
	for i, t := range d.Tags {
		tags[i] = map[string]any{"name": t, "display_name": t}
	}
	pkg := map[string]any{
		"id":            d.ID,
		"name":          d.ID,
		"title":         d.Title,
		"notes":         d.Description,
		"license_id":    spdx(d.License),
		"license_title": d.License,
		"license_url":   d.LicenseURL,
		"url":           base + "/datos/" + d.ID,
		"state":         "active",
		"type":          "dataset",
		"private":       false,
		"tags":          tags,
		"num_tags":      len(tags),
		"organization":  map[string]any{"name": "observatorio", "title": Publisher},
		"author":        Publisher,
		"extras": []map[string]string{
			{"key": "divulgacion", "value": d.Statement()},
			{"key": "procedencia", "value": d.Provenance},
			{"key": "frecuencia", "value": d.Frequency},
		},
	}
	var res []map[string]any
	if rel != nil {
		pkg["metadata_modified"] = rel.Created.UTC().Format("2006-01-02T15:04:05")
		pkg["version"] = fmt.Sprint(rel.Number)
		for _, f := range rel.Files {
			if f.Format == "datapackage" {
				continue
			}
			res = append(res, map[string]any{
				"id":               d.ID + "-" + f.Format,
				"package_id":       d.ID,
				"name":             formatTitle(f.Format),
				"format":           strings.ToUpper(f.Format),
				"mimetype":         strings.Split(f.MediaType, ";")[0],
				"url":              fmt.Sprintf("%s/datos/%s/versiones/%d/%s", base, d.ID, rel.Number, f.Name),
				"size":             f.Bytes,
				"hash":             "sha256:" + f.SHA256,
				"datastore_active": false,
				"created":          rel.Created.UTC().Format("2006-01-02T15:04:05"),
			})
		}
		res = append(res, map[string]any{
			"id":               d.ID,
			"package_id":       d.ID,
			"name":             "Datos (datastore)",
			"format":           "JSON",
			"url":              base + "/api/datos/" + d.ID,
			"datastore_active": true,
		})
	}
	if res == nil {
		res = []map[string]any{}
	}
	pkg["resources"] = res
	pkg["num_resources"] = len(res)
	return pkg
}

// ckanType maps a column to the datastore field type.
func ckanType(c Column) string {
	switch kindOf(c.Type) {
	case kindInt:
		return "int"
	case kindDecimal:
		return "numeric"
	case kindDate:
		return "date"
	case kindDateTime:
		return "timestamp"
	}
	return "text"
}
