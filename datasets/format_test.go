package datasets

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

var testCols = []Column{
	{Name: "texto", Type: "String"},
	{Name: "monto", Type: "Nullable(Decimal(18, 2))"},
	{Name: "n", Type: "UInt32"},
	{Name: "fecha", Type: "Date"},
}

// tsv is what the engine writes (TabSeparated escaping).
const tsv = "Cáqueza\t1234.50\t7\t2024-03-31\n" +
	"=HYPERLINK(\"http://x\")\t-12.00\t0\t2024-01-01\n" +
	"+57 300\t\\N\t1\t2024-01-02\n" +
	"-resta\t0.10\t2\t2024-01-03\n" +
	"@SUM(A1)\t5.00\t3\t2024-01-04\n" +
	"\\tcon tab\t5.00\t3\t2024-01-04\n" +
	"a;b,c \"comillas\"\\nlínea\t5.00\t3\t2024-01-04\n" +
	"\\\\N literal\t5.00\t3\t2024-01-04\n"

func convert(t *testing.T, w rowWriter, chunks ...string) {
	t.Helper()
	s := newTSVSink(testCols, w)
	for _, c := range chunks {
		if _, err := s.Write([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// pieces splits s at awkward places (inside fields, escapes and lines).
func pieces(s string) []string {
	var out []string
	for len(s) > 0 {
		n := 7
		if n > len(s) {
			n = len(s)
		}
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}

func TestCSVWriter(t *testing.T) {
	var b bytes.Buffer
	convert(t, newCSVWriter(&b, false), pieces(tsv)...)
	if !strings.HasSuffix(b.String(), "\r\n") || strings.Contains(strings.ReplaceAll(b.String(), "\r\n", ""), "\n\n") {
		t.Errorf("líneas no terminadas en CRLF")
	}
	r := csv.NewReader(&b)
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"texto", "monto", "n", "fecha"},
		{"Cáqueza", "1234.50", "7", "2024-03-31"},
		{`=HYPERLINK("http://x")`, "-12.00", "0", "2024-01-01"},
		{"+57 300", "", "1", "2024-01-02"},
		{"-resta", "0.10", "2", "2024-01-03"},
		{"@SUM(A1)", "5.00", "3", "2024-01-04"},
		{"\tcon tab", "5.00", "3", "2024-01-04"},
		{"a;b,c \"comillas\"\nlínea", "5.00", "3", "2024-01-04"},
		{`\N literal`, "5.00", "3", "2024-01-04"},
	}
	for i := range want {
		if strings.Join(recs[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("fila %d: %q, se esperaba %q", i, recs[i], want[i])
		}
	}
}

func TestExcelWriter(t *testing.T) {
	var b bytes.Buffer
	convert(t, newCSVWriter(&b, true), pieces(tsv)...)
	out := b.String()
	if !strings.HasPrefix(out, "\xEF\xBB\xBFtexto;monto;n;fecha\r\n") {
		t.Fatalf("sin BOM o sin punto y coma: %q", out[:20])
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\xEF\xBB\xBF")))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Cáqueza", "1234,50", "7", "2024-03-31"},
		{`'=HYPERLINK("http://x")`, "-12,00", "0", "2024-01-01"}, // text neutralized, number untouched
		{"'+57 300", "", "1", "2024-01-02"},
		{"'-resta", "0,10", "2", "2024-01-03"},
		{"'@SUM(A1)", "5,00", "3", "2024-01-04"},
		{"'\tcon tab", "5,00", "3", "2024-01-04"},
		{"a;b,c \"comillas\"\nlínea", "5,00", "3", "2024-01-04"},
	}
	for i := range want {
		if strings.Join(recs[i+1], "|") != strings.Join(want[i], "|") {
			t.Errorf("fila %d: %q, se esperaba %q", i+1, recs[i+1], want[i])
		}
	}
	// No cell of the file starts with a formula character outside quotes.
	for _, line := range strings.Split(out, "\r\n") {
		for _, f := range strings.Split(line, ";") {
			if f != "" && strings.ContainsRune("=+@\t", rune(f[0])) {
				t.Errorf("celda sin neutralizar: %q", f)
			}
		}
	}
}

func TestJSONWriter(t *testing.T) {
	var b bytes.Buffer
	convert(t, newJSONWriter(&b, true), pieces(tsv)...)
	var rows []map[string]any
	if err := json.Unmarshal(b.Bytes(), &rows); err != nil {
		t.Fatalf("JSON inválido: %v\n%s", err, b.String())
	}
	if len(rows) != 8 || rows[0]["texto"] != "Cáqueza" || rows[0]["monto"] != 1234.5 || rows[0]["n"] != 7.0 || rows[0]["fecha"] != "2024-03-31" || rows[2]["monto"] != nil {
		t.Errorf("valores: %v", rows[:3])
	}
	if !bytes.Contains(b.Bytes(), []byte(`"monto":1234.50`)) {
		t.Errorf("el decimal no sale exacto: %s", b.String()[:80])
	}
	var empty bytes.Buffer
	convert(t, newJSONWriter(&empty, true))
	if strings.TrimSpace(empty.String()) != "[\n]" {
		t.Errorf("sin filas: %q", empty.String())
	}
}

func TestTSVSinkTruncated(t *testing.T) {
	s := newTSVSink(testCols, newCSVWriter(&bytes.Buffer{}, false))
	s.Write([]byte("a\t1.00\t1\t2024-01-01\nb\t2.00"))
	if err := s.Close(); err == nil {
		t.Fatal("una salida cortada a mitad de fila debe ser un error")
	}
	s = newTSVSink(testCols, newCSVWriter(&bytes.Buffer{}, false))
	if _, err := s.Write([]byte("a\t1.00\n")); err == nil {
		t.Fatal("una fila con menos campos debe ser un error")
	}
}

func TestParseFilters(t *testing.T) {
	d, _ := Get("liquidaciones")
	q, _ := url.ParseQuery("codigo_municipio=68001,18001&vigencia=2023&desde_vigencia=2020&perfil=excel")
	fs, err := d.ParseFilters(q, "perfil")
	if err != nil || len(fs) != 2 || len(fs[0].Values) != 2 || fs[1].From != "2020" {
		t.Fatalf("%+v %v", fs, err)
	}
	where, params := d.where(fs)
	if !strings.Contains(where, "codigo_municipio IN {f0:In(String)}") || !strings.Contains(where, "vigencia >= {f1d:UInt16}") || len(params) != 3 {
		t.Errorf("%s %v", where, params)
	}
	for _, bad := range [][2]string{{"contribuyente", "abc"}, {"rango_facturado", "x"}, {"vigencia", "dos mil"}, {"nombre", "Pérez"}, {"vigencia", "1;DROP TABLE x"}, {"desde_fecha", "2024-01-01"}} {
		if _, err := d.ParseFilters(url.Values{bad[0]: {bad[1]}}); err == nil || !IsBadRequest(err) {
			t.Errorf("%s=%s: se esperaba un error del usuario, no %v", bad[0], bad[1], err)
		}
	}
}

func TestCatalog(t *testing.T) {
	if err := CheckCatalog(); err != nil {
		t.Fatal(err)
	}
	if len(Catalog) < 9 {
		t.Fatalf("el catálogo tiene %d conjuntos", len(Catalog))
	}
	for _, d := range Catalog {
		if d.Title == "" || d.TitleEN == "" || d.Description == "" || d.DescriptionEN == "" || d.License == "" || d.LicenseURL == "" ||
			len(d.Sources) == 0 || d.Provenance == "" || d.Frequency == "" || d.Periodicity == "" || len(d.Tags) == 0 || len(d.BuildQueries) == 0 {
			t.Errorf("%s: metadatos incompletos", d.ID)
		}
		if d.Params == nil {
			t.Errorf("%s: Params nil", d.ID)
		}
	}
	// A catalog with an identifier that is not pseudonymized is refused.
	saved := Catalog[0].Columns[0]
	Catalog[0].Columns[0].Pseudonymized = false
	err := CheckCatalog()
	Catalog[0].Columns[0] = saved
	if err == nil || !strings.Contains(err.Error(), "sin seudonimizar") {
		t.Errorf("un identificador sin seudonimizar debe impedir publicar: %v", err)
	}
}

// TestPinned: the audit of the secondary suppression finds a cell that a
// published total determines, and only such cells.
func TestPinned(t *testing.T) {
	// x + y = k1 (x, y unknown); y = k2: both determined.
	m := [][]float64{{1, 1}, {0, 1}}
	if got := pinned(m, 2); len(got) != 2 {
		t.Errorf("%v", got)
	}
	// x + y = k1 alone: neither.
	if got := pinned([][]float64{{1, 1}}, 2); len(got) != 0 {
		t.Errorf("%v", got)
	}
	// x - y - z = 0 and y + z = k: x determined.
	if got := pinned([][]float64{{1, -1, -1}, {0, 1, 1}}, 3); len(got) != 1 || got[0] != 0 {
		t.Errorf("%v", got)
	}
}
