package ingest

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

// corpusConfig is the declaration shared by the files of testdata/bad.
func corpusConfig(path string) SourceConfig {
	return SourceConfig{
		Name: "corpus", Kind: SourceFile, Record: KindLiquidation,
		File:      &FileConfig{Path: path},
		Encoding:  "utf-8",
		Delimiter: ",",
		Numbers:   NumbersConfig{Decimal: ".", Thousands: "none"},
		Dates:     DatesConfig{Formats: []string{"yyyy-mm-dd", "dd/mm/yyyy"}},
	}
}

// physicalLines counts the lines of a file, a last line without a line
// break included.
func physicalLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := strings.Count(string(b), "\n")
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

type want struct {
	line  int
	code  string
	field string
}

type corpusCase struct {
	file    string
	adjust  func(*SourceConfig)
	records int
	blank   int
	rejects []want
	check   func(t *testing.T, recs []Liquidation, rejs []Reject, st Stats)
}

func readAll(t *testing.T, cfg SourceConfig, opts ...Option) ([]Liquidation, []Reject, Stats) {
	t.Helper()
	st, err := Open(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer st.Close()
	var recs []Liquidation
	var rejs []Reject
	if err := EachOf(context.Background(), st, func(r []Liquidation, j []Reject) error {
		recs = append(recs, r...)
		rejs = append(rejs, j...)
		return nil
	}); err != nil {
		t.Fatalf("EachOf: %v", err)
	}
	return recs, rejs, st.Stats()
}

func TestBadCorpus(t *testing.T) {
	cases := []corpusCase{
		{file: "wrong_encoding.csv", records: 2,
			rejects: []want{{2, CodeEncoding, "taxpayer_name"}, {4, CodeEncoding, "taxpayer_name"}},
			check: func(t *testing.T, recs []Liquidation, rejs []Reject, st Stats) {
				if st.WarningsByCode[CodeEncodingGuess] != 1 || len(st.Parts[0].Warnings) != 1 {
					t.Errorf("expected a file-level encoding warning, got %v", st.Parts[0].Warnings)
				}
				if !strings.Contains(rejs[0].Reason, "Latin-1") || !strings.Contains(rejs[0].Raw, `\xe9`) {
					t.Errorf("reject %s", rejs[0])
				}
			}},
		{file: "missing_columns.csv", records: 3,
			rejects: []want{{3, CodeColumnsMissing, "due_date"}, {5, CodeColumnsMissing, "tax_year"}}},
		{file: "extra_columns.csv", records: 3,
			rejects: []want{{4, CodeColumnsExtra, "(columna 12)"}, {5, CodeColumnsExtra, "(columna 12)"}}},
		{file: "quotes.csv", records: 4,
			rejects: []want{{4, CodeQuoteStray, "taxpayer_name"}, {5, CodeQuoteUnterm, "taxpayer_name"}, {7, CodeColumnsExtra, "(columna 12)"}},
			check: func(t *testing.T, recs []Liquidation, rejs []Reject, st Stats) {
				names := []string{recs[0].TaxpayerName, recs[1].TaxpayerName, recs[2].TaxpayerName}
				if names[0] != "Gomez, Ana" || names[1] != `Calle "B" Perez` || names[2] != `Doble "comilla" ok` {
					t.Errorf("names %q", names)
				}
				if recs[3].LiquidationID != "L-007" || recs[3].Origin.Line != 8 {
					t.Errorf("parsing did not resume after the bad lines: %+v", recs[3].Origin)
				}
			}},
		{file: "invalid_numbers.csv", records: 3,
			adjust: func(c *SourceConfig) { c.Delimiter = ";"; c.Numbers = NumbersConfig{Decimal: ",", Thousands: "."} },
			rejects: []want{{3, CodeNumber, "avaluo"}, {4, CodeNumber, "avaluo"}, {5, CodeNumber, "total_amount"},
				{6, CodeRange, "avaluo"}, {7, CodeRange, "estrato"}, {8, CodeInteger, "tax_year"}, {11, CodeRequired, "total_amount"}},
			check: func(t *testing.T, recs []Liquidation, rejs []Reject, st Stats) {
				got := []string{recs[0].TotalAmount.String(), recs[1].TotalAmount.String(), recs[2].TotalAmount.String(), recs[0].Avaluo.String()}
				if strings.Join(got, " ") != "270000.5 1234567.89 -1000 45000000" {
					t.Errorf("amounts %v", got)
				}
			}},
		{file: "invalid_dates.csv", records: 2,
			rejects: []want{{3, CodeDate, "issue_date"}, {4, CodeDate, "issue_date"}, {5, CodeDate, "issue_date"},
				{6, CodeDate, "issue_date"}, {8, CodeDate, "due_date"}, {9, CodeRequired, "issue_date"}},
			check: func(t *testing.T, recs []Liquidation, rejs []Reject, st Stats) {
				if recs[0].IssueDate.String() != "2024-02-15" || recs[1].IssueDate.String() != "2024-02-01" {
					t.Errorf("dates %v %v", recs[0].IssueDate, recs[1].IssueDate)
				}
				if !strings.Contains(rejs[0].Reason, "31/02/2024") || !strings.Contains(rejs[0].Reason, "dd/mm/yyyy") {
					t.Errorf("reason %q", rejs[0].Reason)
				}
			}},
		{file: "duplicate_keys.csv", records: 3,
			rejects: []want{{4, CodeDuplicateKey, "liquidation_id"}, {6, CodeDuplicateKey, "liquidation_id"}},
			check: func(t *testing.T, recs []Liquidation, rejs []Reject, st Stats) {
				if !strings.Contains(rejs[0].Reason, "línea 2") || !strings.Contains(rejs[1].Reason, "línea 3") {
					t.Errorf("reasons %q / %q", rejs[0].Reason, rejs[1].Reason)
				}
			}},
		{file: "huge_field.csv", records: 2,
			rejects: []want{{3, CodeFieldTooLarge, "taxpayer_name"}},
			check: func(t *testing.T, recs []Liquidation, rejs []Reject, st Stats) {
				if len(rejs[0].Raw) > 2*rawCap || len(rejs[0].Record) > 2*rawRecordCap {
					t.Errorf("reject keeps %d/%d bytes of the huge field", len(rejs[0].Raw), len(rejs[0].Record))
				}
			}},
		{file: "huge_field.csv", records: 2,
			adjust:  func(c *SourceConfig) { c.MaxRecordBytes = 70000 },
			rejects: []want{{3, CodeRecordTooLarge, "(registro)"}}},
		{file: "truncated.csv", records: 2,
			rejects: []want{{4, CodeTruncated, "tax_year"}}},
		{file: "truncated_quote.csv", records: 1,
			rejects: []want{{3, CodeQuoteUnterm, "taxpayer_name"}},
			check: func(t *testing.T, recs []Liquidation, rejs []Reject, st Stats) {
				if !strings.Contains(rejs[0].Reason, "truncado") {
					t.Errorf("reason %q", rejs[0].Reason)
				}
			}},
		{file: "bad_values.csv", records: 3,
			rejects: []want{{2, CodeNotAllowed, "tax"}, {3, CodeMunicipality, "municipality_code"}, {4, CodeMunicipalityUnk, "municipality_code"},
				{6, CodeCheckDigit, "taxpayer_id_dv"}, {7, CodeTaxpayerID, "taxpayer_id"}, {8, CodeRequired, "taxpayer_id"}},
			check: func(t *testing.T, recs []Liquidation, rejs []Reject, st Stats) {
				if recs[0].MunicipalityCode != "05001" || len(recs[0].Origin.Warnings) != 1 || recs[0].Origin.Warnings[0].Code != CodePadded {
					t.Errorf("padded code: %+v", recs[0])
				}
				if recs[1].TaxpayerID != "1117500008" {
					t.Errorf("id %q", recs[1].TaxpayerID)
				}
				if recs[2].TaxpayerID != "900123456" || recs[2].TaxpayerIDDV != "8" || recs[2].Tax != TaxICA {
					t.Errorf("NIT %q dv %q tax %q", recs[2].TaxpayerID, recs[2].TaxpayerIDDV, recs[2].Tax)
				}
				if !strings.Contains(rejs[3].Reason, "el correcto es 8") {
					t.Errorf("reason %q", rejs[3].Reason)
				}
			}},
		{file: "blank_lines.csv", records: 3, blank: 3},
		{file: "latin1_semicolon.csv", records: 4,
			adjust: func(c *SourceConfig) {
				c.Encoding, c.Delimiter = "latin-1", "auto"
				c.Numbers = NumbersConfig{Decimal: ",", Thousands: "."}
				c.Dates.Formats = []string{"dd/mm/yyyy"}
				c.Mapping = map[string]string{
					"Nº Liquidación": "liquidation_id", "Código DANE": "municipality_code", "Impuesto": "tax",
					"Vigencia": "tax_year", "Cédula/NIT": "taxpayer_id", "Nombre o razón social": "taxpayer_name",
					"Fecha expedición": "issue_date", "Fecha límite": "due_date", "Avalúo catastral": "avaluo",
					"Estrato": "estrato", "Total a pagar": "total_amount",
				}
			},
			rejects: []want{{5, CodeNotAllowed, "tax"}},
			check: func(t *testing.T, recs []Liquidation, rejs []Reject, st Stats) {
				r := recs[0]
				if r.TaxpayerName != "José Muñoz" || r.Avaluo.String() != "125400000" || r.TotalAmount.String() != "1254000.5" ||
					r.TaxpayerID != "1117500001" || r.Tax != TaxPredial || r.IssueDate.String() != "2024-02-15" {
					t.Errorf("first record %+v", r)
				}
				if recs[1].Tax != TaxICA || recs[1].Avaluo != nil || recs[1].Estrato != nil || recs[1].TaxpayerIDDV != "8" {
					t.Errorf("ICA record %+v", recs[1])
				}
				if recs[2].MunicipalityCode != "05001" {
					t.Errorf("padded %q", recs[2].MunicipalityCode)
				}
				if !strings.Contains(rejs[0].Reason, "Vehículos") || !strings.Contains(rejs[0].Record, "Iñaki Núñez") {
					t.Errorf("reject %s / %q", rejs[0], rejs[0].Record)
				}
				if p := st.Parts[0]; p.Encoding != "latin-1" || p.Delimiter != ";" || len(p.Ignored) != 0 {
					t.Errorf("part %+v", p)
				}
			}},
		{file: "mojibake.csv", records: 3,
			adjust: func(c *SourceConfig) { c.Mojibake = "repair" },
			check: func(t *testing.T, recs []Liquidation, rejs []Reject, st Stats) {
				if recs[0].TaxpayerName != "JOSÉ MUÑOZ" || recs[0].Origin.Warnings[0].Code != CodeMojibakeRepaired {
					t.Errorf("repair: %q %v", recs[0].TaxpayerName, recs[0].Origin.Warnings)
				}
				if recs[1].Origin.Warnings[0].Code != CodeIrreversible || len(recs[2].Origin.Warnings) != 0 {
					t.Errorf("warnings %v %v", recs[1].Origin.Warnings, recs[2].Origin.Warnings)
				}
			}},
		{file: "mojibake.csv", records: 1,
			adjust:  func(c *SourceConfig) { c.Mojibake = "reject" },
			rejects: []want{{2, CodeMojibake, "taxpayer_name"}, {3, CodeMojibake, "taxpayer_name"}}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := "testdata/bad/" + tc.file
			cfg := corpusConfig(path)
			if tc.adjust != nil {
				tc.adjust(&cfg)
			}
			recs, rejs, st := readAll(t, cfg)
			dataRows := physicalLines(t, path) - 1
			if len(recs)+len(rejs)+int(st.Blank) != dataRows {
				t.Errorf("records %d + rejects %d + blank %d != %d data lines", len(recs), len(rejs), st.Blank, dataRows)
			}
			if st.Read != st.Records+st.Rejects+st.Blank || st.Records != int64(len(recs)) || st.Rejects != int64(len(rejs)) {
				t.Errorf("stats %+v", st)
			}
			if len(recs) != tc.records || int(st.Blank) != tc.blank {
				t.Errorf("got %d records, %d blank; want %d, %d", len(recs), st.Blank, tc.records, tc.blank)
			}
			for i, r := range rejs {
				if r.File != path || r.Line < 2 || r.Field == "" || r.Code == "" || r.Reason == "" || r.Source != "corpus" || r.Record == "" {
					t.Errorf("reject %d lacks context: %+v", i, r)
				}
				if i < len(tc.rejects) {
					w := tc.rejects[i]
					if r.Line != w.line || r.Code != w.code || r.Field != w.field {
						t.Errorf("reject %d: line %d %s %q, want line %d %s %q (%s)", i, r.Line, r.Code, r.Field, w.line, w.code, w.field, r)
					}
				}
			}
			if len(rejs) != len(tc.rejects) {
				for _, r := range rejs {
					t.Logf("%s", r)
				}
				t.Errorf("got %d rejects, want %d", len(rejs), len(tc.rejects))
			}
			for _, r := range recs {
				if r.Origin.File != path || r.Origin.Line < 2 || r.Origin.Source != "corpus" {
					t.Errorf("record origin %+v", r.Origin)
				}
			}
			if tc.check != nil && !t.Failed() {
				tc.check(t, recs, rejs, st)
			}
		})
	}
}

func TestEmptyFile(t *testing.T) {
	_, err := Open(context.Background(), corpusConfig("testdata/bad/empty.csv"))
	var se *SourceError
	if !errors.As(err, &se) || se.Code != CodeEmptyFile || !errors.Is(err, ErrEmptyFile) ||
		!strings.Contains(err.Error(), "testdata/bad/empty.csv") || !strings.Contains(err.Error(), "vacío") {
		t.Fatalf("err = %v", err)
	}
}

func TestMissingRequiredColumnInHeader(t *testing.T) {
	cfg := corpusConfig("testdata/bad/latin1_semicolon.csv")
	cfg.Encoding, cfg.Delimiter = "latin-1", ";"
	_, err := Open(context.Background(), cfg)
	var se *SourceError
	if !errors.As(err, &se) || se.Code != CodeMissingColumn || !strings.Contains(se.Reason, "liquidation_id") ||
		!strings.Contains(se.Reason, "Nº Liquidación") {
		t.Fatalf("err = %v", err)
	}
	// with defaults for the missing fields the file opens
}

func TestGoodFiles(t *testing.T) {
	cfg := corpusConfig("testdata/ok/bom_crlf_tab.tsv")
	cfg.Encoding, cfg.Delimiter = "auto", "auto"
	recs, rejs, st := readAll(t, cfg)
	if len(recs) != 2 || len(rejs) != 0 || recs[0].TaxpayerName != "Ñandú Córdoba" || recs[1].TotalAmount.String() != "270000" {
		t.Fatalf("recs %+v rejs %v", recs, rejs)
	}
	if p := st.Parts[0]; p.Delimiter != "\t" || p.Encoding != "utf-8" {
		t.Errorf("part %+v", p)
	}
}
