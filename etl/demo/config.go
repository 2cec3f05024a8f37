package demo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/reference"
)

// ConfigFile is the name of the job configuration Generate writes.
const ConfigFile = "observatorio.yaml"

// source declares, for ingest, the files written with the layout.
func (l *layout) source(name, description, path string) ingest.SourceConfig {
	sc := ingest.SourceConfig{
		Name: name, Kind: ingest.SourceFile, Record: l.kind, Description: description,
		File:      &ingest.FileConfig{Path: path},
		Encoding:  "utf-8",
		Delimiter: string(l.delim),
		SkipLines: len(l.preamble),
		Dates:     ingest.DatesConfig{Formats: l.dateFormats},
		Defaults:  l.defaults,
		Values:    l.values,
		Mapping:   map[string]string{},
	}
	if l.charset == "windows-1252" {
		sc.Encoding = "windows-1252"
	}
	sc.Numbers.Decimal = string(l.decimal)
	sc.Numbers.Thousands = "none"
	if l.thousands != 0 {
		sc.Numbers.Thousands = string(l.thousands)
	}
	names := l.schema().Names()
	for _, c := range l.cols {
		sc.Mapping[c.header] = names[c.field]
	}
	return sc
}

type jobYAML struct {
	Name     string                `yaml:"name"`
	Schedule string                `yaml:"schedule"`
	Timeout  string                `yaml:"timeout"`
	Retries  int                   `yaml:"retries"`
	Sources  []ingest.SourceConfig `yaml:"sources"`
}

type configYAML struct {
	Demo bool `yaml:"demo"`
	ETL  struct {
		Jobs []jobYAML `yaml:"jobs"`
	} `yaml:"etl"`
}

// referencePath is where Generate copies a reference file (the ETL reads
// files by path; the copies make the folder self-contained).
func referencePath(name string) string { return "reference/" + name }

// jobs lists the jobs of the demo configuration.
func jobs() []jobYAML {
	var out []jobYAML
	sched := map[string]string{
		"florencia-liquidaciones": "0 2 * * *", "florencia-pagos": "20 2 * * *",
		"bucaramanga-liquidaciones": "0 3 * * *", "bucaramanga-pagos": "30 3 * * *",
		"caqueza-liquidaciones": "0 4 * * *", "caqueza-pagos": "15 4 * * *",
	}
	for _, m := range profiles {
		liq := m.liq.source(m.liqSource(),
			fmt.Sprintf("%s (%s): liquidaciones de predial, ICA y ReteICA, un archivo por vigencia (datos sintéticos de demostración)", m.name, m.code),
			m.dir+"/liquidaciones_*.csv")
		pay := m.pay.source(m.paySource(),
			fmt.Sprintf("%s (%s): pagos recibidos, un archivo por año de pago (datos sintéticos de demostración)", m.name, m.code),
			m.dir+"/pagos_*.csv")
		out = append(out,
			jobYAML{Name: m.liqSource(), Schedule: sched[m.liqSource()], Timeout: "30m", Retries: 2, Sources: []ingest.SourceConfig{liq}},
			jobYAML{Name: m.paySource(), Schedule: sched[m.paySource()], Timeout: "30m", Retries: 2, Sources: []ingest.SourceConfig{pay}})
	}
	gel := gelLayout.source("gel-mediciones",
		"Gobierno en Línea (Decreto 1151 de 2008): criterios por fase; Cáqueza, agosto de 2009 (real, seed 002) y mediciones sintéticas",
		"gel/mediciones_gel.csv")
	out = append(out, jobYAML{Name: "gel-mediciones", Schedule: "0 5 * * 1", Timeout: "30m", Retries: 2, Sources: []ingest.SourceConfig{gel}})
	for _, r := range ingest.ReferenceSources() {
		r.File = &ingest.FileConfig{Path: referencePath(r.File.Path)}
		name := r.Name
		if name == "fut-ingresos-caqueta" {
			name = "fut"
		}
		sch := "0 1 1 * *"
		if name == "fut" {
			sch = "30 1 1 * *"
		}
		out = append(out, jobYAML{Name: name, Schedule: sch, Timeout: "30m", Retries: 2, Sources: []ingest.SourceConfig{r}})
	}
	return out
}

// writeReference copies the reference files the configuration names and
// describes them as ingest reads them (they are real files: their rows are
// what they are, none is spoiled on purpose).
func writeReference(ctx context.Context, dir string) ([]FileInfo, error) {
	var out []FileInfo
	for _, r := range ingest.ReferenceSources() {
		b, err := reference.Files.ReadFile(r.File.Path)
		if err != nil {
			return nil, err
		}
		rel := referencePath(r.File.Path)
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, err
		}
		fi := FileInfo{Path: rel, Source: r.Name, Record: string(r.Record), Encoding: r.Encoding, Delimiter: r.Delimiter,
			Bytes: int64(len(b)), SHA256: sha256Hex(b), BadRows: map[string]int{}}
		r.File = &ingest.FileConfig{Path: p}
		st, err := ingest.Open(ctx, r)
		if err != nil {
			return nil, err
		}
		err = st.Each(ctx, func(_ []ingest.Record, rejects []ingest.Reject) error {
			for _, rj := range rejects {
				fi.BadRows[rj.Code]++
				fi.BadRowList = append(fi.BadRowList, BadRow{Line: rj.Line, Code: rj.Code})
			}
			return nil
		})
		s := st.Stats()
		st.Close()
		if err != nil {
			return nil, err
		}
		fi.DataRows, fi.Records, fi.Rejected = int(s.Read), int(s.Records), int(s.Rejects)
		out = append(out, fi)
	}
	return out, nil
}

// writeConfig writes dir/observatorio.yaml.
func writeConfig(dir string) error {
	var cfg configYAML
	cfg.Demo = true
	cfg.ETL.Jobs = jobs()
	var root yaml.Node
	if err := root.Encode(&cfg); err != nil {
		return err
	}
	orderMappings(&root)
	root.HeadComment = "Configuración de los datos de demostración del Observatorio, escrita por `observatory demo generate`\n" +
		"(paquete etl/demo). Las rutas relativas se resuelven contra la carpeta de este archivo.\n" +
		"Todos los datos tributarios son sintéticos; DIVIPOLA y FUT son copias de los archivos reales de reference/.\n" +
		"Qué contiene cada archivo (filas, filas malas a propósito, discrepancias) está en manifest.json."
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ConfigFile), b.Bytes(), 0o644)
}

// orderMappings puts the mapping of every source in column order (yaml.v3
// sorts map keys) and marks each job with a comment.
func orderMappings(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "mapping" && v.Kind == yaml.MappingNode {
				if order := columnOrder(n); order != nil {
					sortPairs(v, order)
				}
			}
			if k.Value == "schedule" {
				v.Style = yaml.DoubleQuotedStyle
			}
			if k.Value == "jobs" && v.Kind == yaml.SequenceNode {
				for _, job := range v.Content {
					if name := valueOf(job, "name"); name != "" {
						job.HeadComment = jobComment(name)
					}
				}
			}
		}
	}
	for _, c := range n.Content {
		orderMappings(c)
	}
}

func valueOf(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1].Value
		}
	}
	return ""
}

// columnOrder returns the header order of the source node's layout.
func columnOrder(src *yaml.Node) map[string]int {
	name := valueOf(src, "name")
	var l *layout
	for _, m := range profiles {
		switch name {
		case m.liqSource():
			l = m.liq
		case m.paySource():
			l = m.pay
		}
	}
	if name == "gel-mediciones" {
		l = gelLayout
	}
	if l == nil {
		return nil
	}
	out := map[string]int{}
	for i, c := range l.cols {
		out[c.header] = i
	}
	return out
}

func sortPairs(m *yaml.Node, order map[string]int) {
	type pair struct{ k, v *yaml.Node }
	var ps []pair
	for i := 0; i+1 < len(m.Content); i += 2 {
		ps = append(ps, pair{m.Content[i], m.Content[i+1]})
	}
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && order[ps[j].k.Value] < order[ps[j-1].k.Value]; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
	m.Content = m.Content[:0]
	for _, p := range ps {
		m.Content = append(m.Content, p.k, p.v)
	}
}

func jobComment(name string) string {
	switch name {
	case "florencia-liquidaciones":
		return "Florencia (18001): Windows-1252, punto y coma, decimales con coma y miles con punto, fechas dd/mm/aaaa."
	case "bucaramanga-liquidaciones":
		return "Bucaramanga (68001): UTF-8 con BOM, coma, decimales con punto, fechas ISO; dígito de verificación en columna aparte."
	case "caqueza-liquidaciones":
		return "Cáqueza (25151): UTF-8 sin BOM, punto y coma, decimales con coma sin miles, fechas como 5-mar-2020, dos líneas de título."
	case "florencia-pagos", "bucaramanga-pagos", "caqueza-pagos":
		return "Pagos en el formato de la misma alcaldía; los medios de pago propios se traducen con values."
	case "gel-mediciones":
		return "Gobierno en Línea: criterio por criterio (100 = cumplido, 0 = no cumplido)."
	case "divipola", "fut":
		return "Archivos reales de referencia (copias de reference/)."
	}
	return ""
}
