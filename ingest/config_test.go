package ingest

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const exampleYAML = `
sources:
  - name: florencia-predial
    kind: file
    record: liquidation
    file: {dir: exports/florencia, pattern: "predial_*.csv", recursive: true}
    encoding: windows-1252
    delimiter: ";"
    numbers: {decimal: ",", thousands: "."}
    dates: {formats: ["dd/mm/yyyy", "yyyy-mm-dd"], timezone: America/Bogota}
    mapping:
      "No. Factura": liquidation_id
      "Cédula/NIT": taxpayer_id
    defaults: {municipality_code: "18001", tax: predial}
    values: {filing_channel: {"OVT": web}}
  - name: datos-abiertos-pagos
    kind: socrata
    record: payment
    socrata: {domain: www.datos.gov.co, dataset: abcd-1234, app_token_env: SOCRATA_APP_TOKEN, page_size: 5000, incremental: true}
    request: {timeout: 90s, stall_timeout: 20, retries: -1, backoff_min: 250ms}
  - name: gel-caqueza
    kind: http
    record: gel_measurement
    http: {url: "https://example.org/gel.csv", headers_from_env: {Authorization: GEL_API_KEY}}
`

func TestParseSources(t *testing.T) {
	list, err := ParseSources([]byte(exampleYAML))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("%d sources", len(list))
	}
	f := list[0]
	if f.File.Dir != "exports/florencia" || !f.File.Recursive || f.Mapping["Cédula/NIT"] != "taxpayer_id" || f.Values["filing_channel"]["OVT"] != "web" {
		t.Errorf("file source %+v", f)
	}
	s := list[1]
	if s.Socrata.PageSize != 5000 || time.Duration(s.Request.Timeout) != 90*time.Second ||
		time.Duration(s.Request.StallTimeout) != 20*time.Second || s.Request.Retries != -1 ||
		time.Duration(s.Request.BackoffMin) != 250*time.Millisecond {
		t.Errorf("socrata source %+v %+v", s.Socrata, s.Request)
	}
	if rs := requestSettings(s.Request); rs.retries != 0 || rs.backoffMax != 30*time.Second {
		t.Errorf("settings %+v", rs)
	}
}

func TestParseSourcesErrors(t *testing.T) {
	cases := map[string]string{
		"unknown key":   "- {name: a, kind: file, record: entity, file: {path: x.csv}, delimeter: ';'}",
		"nested typo":   "- {name: a, kind: file, record: entity, file: {pth: x.csv}}",
		"literal token": "- {name: a, kind: socrata, record: payment, socrata: {domain: d.org, dataset: abcd-1234, app_token: s3cr3t}}",
		"token in env":  "- {name: a, kind: socrata, record: payment, socrata: {domain: d.org, dataset: abcd-1234, app_token_env: 'abc def'}}",
		"bad dataset":   "- {name: a, kind: socrata, record: payment, socrata: {domain: d.org, dataset: payments}}",
		"bad kind":      "- {name: a, kind: ftp, record: entity}",
		"bad record":    "- {name: a, kind: file, record: vehicle, file: {path: x.csv}}",
		"bad mapping":   "- {name: a, kind: file, record: entity, file: {path: x.csv}, mapping: {Col: nombre}}",
		"bad value":     "- {name: a, kind: file, record: payment, file: {path: x.csv}, values: {channel: {Caja: efectivo}}}",
		"bad delimiter": "- {name: a, kind: file, record: entity, file: {path: x.csv}, delimiter: '::'}",
		"bad numbers":   "- {name: a, kind: file, record: entity, file: {path: x.csv}, numbers: {decimal: ',', thousands: ','}}",
		"bad dates":     "- {name: a, kind: file, record: entity, file: {path: x.csv}, dates: {formats: ['dd/mm/[yyyy']}}",
		"bad duration":  "- {name: a, kind: http, record: entity, http: {url: 'http://x'}, request: {timeout: soon}}",
		"two names":     "- {name: a, kind: file, record: entity, file: {path: x.csv}}\n- {name: a, kind: file, record: entity, file: {path: y.csv}}",
		"no header":     "- {name: a, kind: file, record: entity, file: {path: x.csv}, header: false}",
		"bad encoding":  "- {name: a, kind: file, record: entity, file: {path: x.csv}, encoding: ebcdic}",
	}
	for name, y := range cases {
		if _, err := ParseSources([]byte(y)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if name == "literal token" && !strings.Contains(err.Error(), "app_token_env") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSchemas(t *testing.T) {
	for _, s := range Schemas() {
		if len(s.Fields) == 0 || s.Description == "" {
			t.Errorf("%s: empty", s.Kind)
		}
		for _, f := range s.Fields {
			if f.Description == "" {
				t.Errorf("%s.%s: no description", s.Kind, f.Name)
			}
			if f.Personal != (f.Treatment != TreatNone) {
				t.Errorf("%s.%s: personal %v treatment %q", s.Kind, f.Name, f.Personal, f.Treatment)
			}
		}
	}
	liq, _ := SchemaFor(KindLiquidation)
	got := strings.Join(liq.PersonalFields(), ",")
	if got != "taxpayer_id,taxpayer_name,taxpayer_address,taxpayer_phone,taxpayer_email,property_id" {
		t.Errorf("personal fields %s", got)
	}
	if f, _ := liq.Field("tax"); strings.Join(f.Allowed, "|") != "predial|ica|reteica" || !f.Required {
		t.Errorf("tax field %+v", f)
	}
	if _, err := SchemaFor("vehicle"); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestHeaderlessGlobGzipAndNext(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, gz bool) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var w io.Writer = f
		var zw *gzip.Writer
		if gz {
			zw = gzip.NewWriter(f)
			w = zw
		}
		if _, err := io.WriteString(w, content); err != nil {
			t.Fatal(err)
		}
		if zw != nil {
			_ = zw.Close()
		}
		_ = f.Close()
	}
	write("a_2023.csv", "P-1|2023|18001|1000\nP-2|2023|18001|x\n", false)
	write("b_2024.csv.gz", "P-1|2024|18001|2000\nP-1|2024|18001|3000\n", true)
	write("notes.txt", "ignored\n", false)
	cfg := SourceConfig{Name: "sin-encabezado", Kind: SourceFile, Record: KindPayment,
		File: &FileConfig{Path: filepath.Join(dir, "*_20*.csv*")}, Header: new(bool), Delimiter: "|",
		Columns:  []string{"payment_id", "tax_year", "municipality_code", "amount"},
		Defaults: map[string]string{"tax": "ica", "taxpayer_id": "800197268-4", "paid_at": "2024-01-01", "channel": "Corresponsal bancario"}}
	st, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var items []Item
	for {
		it, err := st.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	if len(items) != 4 {
		t.Fatalf("%d items", len(items))
	}
	// in file order: record, reject (amount x), record (same key, new file), reject (duplicate)
	p0, _ := items[0].Record.(*Payment)
	p2, _ := items[2].Record.(*Payment)
	if p0 == nil || items[1].Reject == nil || p2 == nil || items[3].Reject == nil {
		t.Fatalf("items %+v", items)
	}
	if p0.Channel != ChannelBank || p0.TaxpayerID != "800197268" || p0.TaxpayerIDDV != "4" || p0.Origin.Line != 1 {
		t.Errorf("p0 %+v", p0)
	}
	if r := items[1].Reject; r.Line != 2 || r.Code != CodeNumber || r.Field != "amount" {
		t.Errorf("reject %s", r)
	}
	if p2.Amount.String() != "2000" || !strings.HasSuffix(p2.Origin.File, "b_2024.csv.gz") || p2.Origin.Line != 1 {
		t.Errorf("p2 %+v", p2.Origin)
	}
	if r := items[3].Reject; r.Code != CodeDuplicateKey || r.Line != 2 || !strings.Contains(r.Reason, "línea 1") {
		t.Errorf("reject %s", r)
	}
	if s := st.Stats(); len(s.Parts) != 2 || s.Read != 4 {
		t.Errorf("stats %+v", s)
	}
}

func TestWithFSDirAndEachOfType(t *testing.T) {
	fsys := fstest.MapFS{
		"in/x/1.csv": {Data: []byte("department_code,municipality_code,department_name,municipality_name,kind\n25,25151,CUNDINAMARCA,CÁQUEZA,Municipio\n")},
		"in/2.csv":   {Data: []byte("department_code,municipality_code,department_name,municipality_name,kind\n5,5001,ANTIOQUIA,MEDELLÍN,Municipio\n")},
	}
	cfg := SourceConfig{Name: "fs", Kind: SourceFile, Record: KindEntity, File: &FileConfig{Dir: "in", Recursive: true}}
	st, err := Open(context.Background(), cfg, WithFS(fsys))
	if err != nil {
		t.Fatal(err)
	}
	if err := EachOf(context.Background(), st, func([]Payment, []Reject) error { return nil }); err == nil {
		t.Fatal("EachOf with the wrong type accepted")
	}
	var ents []Entity
	if err := EachOf(context.Background(), st, func(r []Entity, j []Reject) error { ents = append(ents, r...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2 || ents[0].MunicipalityCode != "05001" || ents[0].DepartmentCode != "05" || ents[1].MunicipalityName != "CÁQUEZA" {
		t.Fatalf("%+v", ents)
	}
	if s := st.Stats(); s.WarningsByCode[CodePadded] != 2 {
		t.Errorf("warnings %v", s.WarningsByCode)
	}
	if _, err := Open(context.Background(), SourceConfig{Name: "none", Kind: SourceFile, Record: KindEntity,
		File: &FileConfig{Path: "nothing/*.csv"}}, WithFS(fsys)); err == nil || !strings.Contains(err.Error(), CodeNoFiles) {
		t.Fatalf("no files: %v", err)
	}
}

func TestNDJSONFile(t *testing.T) {
	fsys := fstest.MapFS{"gel/caqueza.ndjson": {Data: []byte(
		`{"marco":"gel-2008","fase":"Información","criterio":"Fase completa","entidad":"25151","fecha":"2009-08-31","valor":90,"evidencia":{"url":"https://example.org/gel.pdf"}}
{"marco":"gel-2008","fase":"Interacción","criterio":"Fase completa","entidad":"25151","fecha":"2009-08-31","valor":"70","sintetico":"no"}
{"marco":"gel-2008","fase":"Transacción","criterio":"Fase completa","entidad":"25151","fecha":"2009-08-31","valor":105}
`)}}
	cfg := SourceConfig{Name: "gel", Kind: SourceFile, Record: KindGEL, File: &FileConfig{Path: "gel/*.ndjson"},
		Mapping: map[string]string{"marco": "framework", "fase": "phase", "criterio": "criterion", "entidad": "entity_code",
			"fecha": "measured_on", "valor": "value", "evidencia": "evidence_url", "sintetico": "synthetic"}}
	st, err := Open(context.Background(), cfg, WithFS(fsys))
	if err != nil {
		t.Fatal(err)
	}
	var recs []GELMeasurement
	var rejs []Reject
	if err := EachOf(context.Background(), st, func(r []GELMeasurement, j []Reject) error {
		recs, rejs = append(recs, r...), append(rejs, j...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || len(rejs) != 1 || rejs[0].Code != CodeRange || rejs[0].Index != 3 || rejs[0].Field != "value" {
		t.Fatalf("recs %+v rejs %v", recs, rejs)
	}
	if recs[0].EvidenceURL != "https://example.org/gel.pdf" || recs[0].Unit != "percent" || recs[0].Value.String() != "90" ||
		recs[1].Synthetic || recs[0].Phase != "Información" || recs[0].MeasuredOn.String() != "2009-08-31" {
		t.Errorf("records %+v", recs)
	}
}
