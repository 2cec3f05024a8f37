package datasets

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/shopspring/decimal"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/observatorio-civico/observatorio/formato"
	"github.com/observatorio-civico/observatorio/stale"
	"github.com/observatorio-civico/observatorio/warehouse"
)

//go:embed templates/*.html
var templateFiles embed.FS

var pageTemplates = template.Must(template.New("").Funcs(template.FuncMap{
	"typeName": typeName,
	"roleName": roleName,
	// avisoDatos is where a stale copy of the page says so (package stale).
	"avisoDatos": func() template.HTML { return stale.Slot },
}).ParseFS(templateFiles, "templates/base.html"))

// PageInfo is what every page of this area receives from the server.
type PageInfo struct {
	Demo   bool
	Engine string
}

type tagOption struct {
	Name     string
	Count    int
	Selected bool
}

type listItem struct {
	ID, Title, Description string
	Tags                   []string
	Level                  string
	Release                uint32
	Updated                string
	Rows                   string
	Views, Downloads       string
}

type listPage struct {
	PageInfo
	Title, Description string
	InCatalog          bool
	Query              string
	Tags               []tagOption
	Items              []listItem
	Summary            string
}

func levelName(l Level) string {
	switch l {
	case RecordLevel:
		return "Registro a registro, anonimizado"
	case Aggregate:
		return "Agregado, con supresión de celdas"
	}
	return "Datos públicos de entidades"
}

// fold lowercases and strips accents, for search.
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

// RenderList writes /datos: the datasets matching the search (q, over
// titles, descriptions, tags and column names, accents ignored) and tag.
func RenderList(ctx context.Context, w io.Writer, eng warehouse.Engine, stats *Stats, info PageInfo, q, tag string) error {
	latest, err := LatestAll(ctx, eng)
	if err != nil {
		return err
	}
	counts, err := stats.Totals(ctx, eng)
	if err != nil {
		return err
	}
	p := &listPage{PageInfo: info, Title: "Datos abiertos", Description: "Conjuntos de datos anonimizados del observatorio, con diccionario, licencia y versiones.", InCatalog: true, Query: q}
	tagCount := map[string]int{}
	words := strings.Fields(fold(q))
	for i := range Catalog {
		d := &Catalog[i]
		for _, t := range d.Tags {
			tagCount[t]++
		}
		if tag != "" && !contains(d.Tags, tag) {
			continue
		}
		hay := fold(strings.Join(append([]string{d.ID, d.Title, d.Description, d.TitleEN, strings.Join(d.Tags, " ")}, d.ColumnNames()...), " "))
		match := true
		for _, wd := range words {
			if !strings.Contains(hay, wd) {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		it := listItem{ID: d.ID, Title: d.Title, Description: d.Description, Tags: d.Tags, Level: levelName(d.Policy.Level)}
		if rel := latest[d.ID]; rel != nil {
			it.Release, it.Updated, it.Rows = rel.Number, spanishDate(rel.Created), groupInt(rel.Rows)
		}
		c := counts[d.ID]
		it.Views, it.Downloads = plural(c.Views, "visita", "visitas"), plural(c.Downloads, "descarga", "descargas")
		p.Items = append(p.Items, it)
	}
	for _, t := range sortedTags(tagCount) {
		p.Tags = append(p.Tags, tagOption{Name: t, Count: tagCount[t], Selected: t == tag})
	}
	switch n := len(p.Items); {
	case q == "" && tag == "":
		p.Summary = fmt.Sprintf("%d conjuntos de datos.", n)
	case n == 1:
		p.Summary = "1 conjunto coincide con la búsqueda."
	default:
		p.Summary = fmt.Sprintf("%d conjuntos coinciden con la búsqueda.", n)
	}
	return render(w, "lista.html", p)
}

func sortedTags(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return fold(out[i]) < fold(out[j]) })
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

type download struct {
	Label, URL, Note, SHA256 string
}

type releaseRow struct {
	Number                    uint32
	Created, Rows, Suppressed string
	CSV, DataPackage, Diff    string
	Prev                      uint32
}

type detailPage struct {
	PageInfo
	Title, Description string
	InCatalog          bool
	D                  *Dataset
	Rel                *Release
	Created, Cutoff    string
	Rows               string
	Views, Downloads   string
	FrequencyShort     string
	FrequencyNote      string
	Downloads_         []download
	ParquetNote        string
	Curl               string
	FilterExample      string
	FilterColumns      string
	Preview            [][]string
	DisclosureCounts   string
	Citation           string
	Releases           []releaseRow
}

// RenderDetail writes /datos/{id}: description, downloads in every format,
// a curl line, the dictionary, a preview, the disclosure statement, the
// licence and how to cite, provenance and the release history. base is the
// site's absolute URL (for the curl line and the citation).
func RenderDetail(ctx context.Context, w io.Writer, eng warehouse.Engine, stats *Stats, info PageInfo, d *Dataset, base string) error {
	p := &detailPage{PageInfo: info, Title: d.Title, Description: d.Description, InCatalog: true, D: d}
	counts, err := stats.Totals(ctx, eng)
	if err != nil {
		return err
	}
	p.Views, p.Downloads = plural(counts[d.ID].Views, "visita", "visitas"), plural(counts[d.ID].Downloads, "descarga", "descargas")
	p.FrequencyShort, p.FrequencyNote, _ = strings.Cut(d.Frequency, " (")
	p.FrequencyShort = strings.ToUpper(p.FrequencyShort[:1]) + p.FrequencyShort[1:]
	p.FrequencyNote = strings.TrimSuffix(p.FrequencyNote, ")")
	rels, err := Releases(ctx, eng, d.ID)
	if err != nil {
		return err
	}
	p.FilterColumns = strings.Join(d.Filters(), ", ")
	if len(rels) > 0 {
		rel := &rels[0]
		p.Rel = rel
		p.Created, p.Cutoff, p.Rows = spanishDateTime(rel.Created), spanishDateTime(rel.Cutoff), groupInt(rel.Rows)
		perm := fmt.Sprintf("%s/datos/%s/versiones/%d/", base, d.ID, rel.Number)
		for _, f := range rel.Files {
			dl := download{URL: fmt.Sprintf("/datos/%s/versiones/%d/%s", d.ID, rel.Number, f.Name), SHA256: f.SHA256, Note: humanBytes(f.Bytes)}
			switch f.Format {
			case FormatCSV:
				dl.Label = "CSV (UTF-8, separado por comas)"
			case FormatExcel:
				dl.Label = "CSV para Excel (punto y coma, coma decimal)"
			case FormatParquet:
				dl.Label = "Parquet"
			default:
				dl.Label = "datapackage.json (metadatos)"
			}
			p.Downloads_ = append(p.Downloads_, dl)
		}
		p.Downloads_ = append(p.Downloads_, download{Label: "JSON", URL: "/datos/" + d.ID + ".json", Note: "arreglo de objetos, generado de la misma versión"})
		if !rel.HasFormat(FormatParquet) {
			p.ParquetNote = ParquetUnavailable
		}
		name := FileName(d.ID, FormatCSV)
		csvFile, _ := rel.File(name)
		p.Curl = fmt.Sprintf("curl -fLO %s%s\necho '%s  %s' | sha256sum -c -", perm, name, csvFile.SHA256, name)
		if fs := d.Filters(); len(fs) > 0 {
			p.FilterExample = "/datos/" + d.ID + ".csv?" + fs[0] + "=" + exampleValue(ctx, eng, d, rel, fs[0])
		}
		prev, err := Preview(ctx, eng, d, rel, 20)
		if err != nil {
			return err
		}
		for _, row := range prev.Rows {
			cells := make([]string, len(row))
			for i, v := range row {
				cells[i] = displayValue(v)
			}
			p.Preview = append(p.Preview, cells)
		}
		p.DisclosureCounts = disclosureCounts(rel)
		p.Citation = fmt.Sprintf("%s (%d). %s [conjunto de datos], versión %d, publicada el %s. %s%s. Licencia %s.",
			Publisher, rel.Created.Year(), d.Title, rel.Number, spanishDate(rel.Created), perm, name, d.License)
		for i, r := range rels {
			rr := releaseRow{Number: r.Number, Created: spanishDateTime(r.Created), Rows: groupInt(r.Rows),
				Suppressed:  disclosureShort(&r),
				CSV:         fmt.Sprintf("/datos/%s/versiones/%d/%s", d.ID, r.Number, FileName(d.ID, FormatCSV)),
				DataPackage: fmt.Sprintf("/datos/%s/versiones/%d/datapackage.json", d.ID, r.Number)}
			if i+1 < len(rels) {
				rr.Prev = rels[i+1].Number
				rr.Diff = fmt.Sprintf("/datos/%s/diferencias?desde=%d&hasta=%d", d.ID, rr.Prev, r.Number)
			}
			p.Releases = append(p.Releases, rr)
		}
	} else {
		p.Citation = fmt.Sprintf("%s. %s [conjunto de datos]. %s/datos/%s. Licencia %s.", Publisher, d.Title, base, d.ID, d.License)
	}
	return render(w, "detalle.html", p)
}

// noticePage is a page of this area that says one thing.
type noticePage struct {
	PageInfo
	Title, Description string
	InCatalog          bool
}

// RenderNotice writes a page of the open-data area that says one thing
// under a title (a 503 when the warehouse does not answer, for instance).
func RenderNotice(w io.Writer, info PageInfo, title, msg string) error {
	return render(w, "aviso.html", &noticePage{PageInfo: info, Title: title, Description: msg, InCatalog: true})
}

// exampleValue is a value of col present in the release, for the filter
// example.
func exampleValue(ctx context.Context, eng warehouse.Engine, d *Dataset, rel *Release, col string) string {
	res, err := eng.Query(ctx, "SELECT toString("+col+") FROM "+d.Table+" WHERE release = {r:UInt32} ORDER BY fila LIMIT 1", warehouse.P("r", rel.Number))
	if err != nil || len(res.Rows) == 0 {
		return "…"
	}
	return res.Rows[0][0].(string)
}

func disclosureCounts(rel *Release) string {
	dsc := rel.Disclosure
	switch dsc.Level {
	case Aggregate:
		var parts []string
		for _, r := range []struct{ key, label string }{{reasonK, "por tener menos de k contribuyentes"}, {reasonDominance, "por dominancia"}, {reasonSecondary, "por supresión secundaria"}} {
			if n := dsc.ByReason[r.key]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %s", groupInt(uint64(n)), r.label))
			}
		}
		s := fmt.Sprintf("%s de %s celdas suprimidas (k = %d, dominancia %s)", groupInt(uint64(dsc.CellsSuppressed)), groupInt(uint64(dsc.Cells)), dsc.K, dsc.Dominance)
		if len(parts) > 0 {
			s += ": " + strings.Join(parts, ", ")
		}
		return s + "."
	case RecordLevel:
		return fmt.Sprintf("%s de %s filas no se publican por pertenecer a combinaciones de cuasi-identificadores con menos de %d contribuyentes (k = %d).",
			groupInt(dsc.RowsSuppressed), groupInt(dsc.SourceRows), dsc.K, dsc.K)
	}
	return "sin supresión (datos públicos)."
}

func disclosureShort(rel *Release) string {
	switch rel.Disclosure.Level {
	case Aggregate:
		return groupInt(uint64(rel.Disclosure.CellsSuppressed)) + " celdas"
	case RecordLevel:
		return groupInt(rel.Disclosure.RowsSuppressed) + " filas"
	}
	return "—"
}

func render(w io.Writer, page string, data any) error {
	t, err := pageTemplates.Clone()
	if err != nil {
		return err
	}
	if t, err = t.ParseFS(templateFiles, "templates/"+page); err != nil {
		return err
	}
	return t.ExecuteTemplate(w, "base", data)
}

func roleName(r Role) string {
	switch r {
	case Dimension:
		return "dimensión"
	case Flag:
		return "indicador de supresión"
	}
	return string(r)
}

func typeName(t string) string {
	switch kindOf(t) {
	case kindInt:
		return "entero"
	case kindDecimal:
		if nullable(t) {
			return "número decimal (puede estar vacío)"
		}
		return "número decimal"
	case kindDate:
		return "fecha (AAAA-MM-DD)"
	case kindDateTime:
		return "fecha y hora UTC"
	}
	return "texto"
}

func displayValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 {
			return x.Format("2006-01-02")
		}
		return x.Format("2006-01-02 15:04:05")
	case decimal.Decimal:
		return x.StringFixed(2)
	}
	return fmt.Sprint(v)
}

func spanishDate(t time.Time) string { return formato.Date(t) }

func spanishDateTime(t time.Time) string {
	return fmt.Sprintf("%s a las %s (UTC)", formato.Date(t), t.UTC().Format("15:04"))
}

// groupInt writes n with dots between thousands: 1.234.567.
func groupInt(n uint64) string { return formato.Number(int64(n)) }

// plural writes a count with its noun: "1 visita", "1.234 visitas".
func plural(n uint64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return groupInt(n) + " " + many
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return strings.Replace(fmt.Sprintf("%.1f GB", float64(n)/(1<<30)), ".", ",", 1)
	case n >= 1<<20:
		return strings.Replace(fmt.Sprintf("%.1f MB", float64(n)/(1<<20)), ".", ",", 1)
	case n >= 1<<10:
		return strings.Replace(fmt.Sprintf("%.1f kB", float64(n)/(1<<10)), ".", ",", 1)
	}
	return fmt.Sprintf("%d bytes", n)
}
