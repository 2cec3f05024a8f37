// Command gen writes the test corpus of ingest/testdata (bad files and a
// few good ones) in their real encodings. Run from the ingest folder:
//
//	go run ./testdata/gen
//
// The files are committed; this program documents how they were made.
package main

import (
	"log"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

const hdr = "liquidation_id,municipality_code,tax,tax_year,taxpayer_id,taxpayer_name,issue_date,due_date,avaluo,estrato,total_amount\n"

// row builds a standard row; fields can be overridden by index.
func row(id string, over map[int]string) string {
	f := []string{id, "18001", "predial", "2024", "1117500" + strings.TrimPrefix(id, "L-"), "Ana Gomez", "2024-02-01", "2024-03-31", "45000000", "2", "270000"}
	for i, v := range over {
		f[i] = v
	}
	return strings.Join(f, ",")
}

func write(name string, content []byte) {
	p := filepath.Join("testdata", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o644); err != nil {
		log.Fatal(err)
	}
}

func latin1(s string) []byte {
	b, err := charmap.ISO8859_1.NewEncoder().String(s)
	if err != nil {
		log.Fatal(err)
	}
	return []byte(b)
}

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

func main() {
	// Latin-1 bytes in a source declared UTF-8: rows with accents are rejected.
	write("bad/wrong_encoding.csv", latin1(hdr+lines(
		row("L-001", map[int]string{5: "Juan Pérez"}),
		row("L-002", nil),
		row("L-003", map[int]string{5: "María Muñoz", 7: ""}),
		row("L-004", map[int]string{5: "Luis Diaz"}),
	)))

	write("bad/missing_columns.csv", []byte(hdr+lines(
		row("L-001", nil),
		"L-002,18001,predial,2024,1117500002,Ana Gomez,2024-02-01",
		row("L-003", nil),
		"L-004,18001,predial",
		row("L-005", nil),
	)))

	write("bad/extra_columns.csv", []byte(hdr+lines(
		row("L-001", nil),
		row("L-002", nil)+",",
		row("L-003", map[int]string{5: "Perez, Juan"}),
		row("L-004", nil)+",EXTRA",
		row("L-005", nil),
	)))

	write("bad/quotes.csv", []byte(hdr+lines(
		row("L-001", map[int]string{5: `"Gomez, Ana"`}),
		row("L-002", map[int]string{5: `Calle "B" Perez`}),
		row("L-003", map[int]string{5: `"Ana "La Mona" Gomez"`}),
		`L-004,18001,predial,2024,1117500004,"Ana Gomez,2024-02-01,2024-03-31,45000000,2,270000`,
		row("L-005", map[int]string{5: `"Doble ""comilla"" ok"`}),
		row("L-006", map[int]string{5: "Perez, Juan"}),
		row("L-007", nil),
	)))

	semi := strings.ReplaceAll(hdr, ",", ";")
	srow := func(id string, over map[int]string) string {
		base := map[int]string{8: "45.000.000", 10: "270.000,50"}
		for k, v := range over {
			base[k] = v
		}
		return joinSemi(id, base)
	}
	write("bad/invalid_numbers.csv", []byte(semi+lines(
		srow("L-001", nil),
		srow("L-002", map[int]string{8: "45.00.000"}),
		srow("L-003", map[int]string{8: "abc"}),
		srow("L-004", map[int]string{10: "1,234,56"}),
		srow("L-005", map[int]string{8: "-5.000"}),
		srow("L-006", map[int]string{9: "9"}),
		srow("L-007", map[int]string{3: "2024,5"}),
		srow("L-008", map[int]string{10: "$ 1.234.567,89"}),
		srow("L-009", map[int]string{10: "(1.000)"}),
		srow("L-010", map[int]string{10: ""}),
	)))

	write("bad/invalid_dates.csv", []byte(hdr+lines(
		row("L-001", map[int]string{6: "15/02/2024"}),
		row("L-002", map[int]string{6: "31/02/2024"}),
		row("L-003", map[int]string{6: "2024-13-01"}),
		row("L-004", map[int]string{6: "ayer"}),
		row("L-005", map[int]string{6: "2024/01/15"}),
		row("L-006", map[int]string{6: "1/2/2024"}),
		row("L-007", map[int]string{7: "15-03-2024"}),
		row("L-008", map[int]string{6: ""}),
	)))

	write("bad/duplicate_keys.csv", []byte(hdr+lines(
		row("L-001", nil),
		row("L-002", nil),
		row("L-001", map[int]string{10: "999"}),
		row("L-003", nil),
		row("L-002", nil),
	)))

	write("bad/huge_field.csv", []byte(hdr+lines(
		row("L-001", nil),
		row("L-002", map[int]string{5: strings.Repeat("x", 80_000)}),
		row("L-003", nil),
	)))

	write("bad/empty.csv", nil)

	write("bad/truncated.csv", []byte(hdr+lines(
		row("L-001", nil),
		row("L-002", nil),
	)+"L-003,18001,pred"))

	write("bad/truncated_quote.csv", []byte(hdr+lines(
		row("L-001", nil),
	)+`L-002,18001,predial,2024,1117500002,"Ana Gom`))

	write("bad/bad_values.csv", []byte(hdr+lines(
		row("L-001", map[int]string{2: "vehiculos"}),
		row("L-002", map[int]string{1: "123"}),
		row("L-003", map[int]string{1: "99999"}),
		row("L-004", map[int]string{1: "5001"}),
		row("L-005", map[int]string{4: "900.123.456-1"}),
		row("L-006", map[int]string{4: "12#45"}),
		row("L-007", map[int]string{4: ""}),
		row("L-008", map[int]string{4: "0001117500008"}),
		row("L-009", map[int]string{4: "900.123.456-8", 2: "Industria y Comercio"}),
	)))

	write("bad/blank_lines.csv", []byte(hdr+lines(
		row("L-001", nil),
		"",
		row("L-002", nil),
		",,,,,,,,,,",
		"   ",
		row("L-003", nil),
	)))

	// A municipality's export: Latin-1, ';', decimal commas, Spanish headers.
	write("bad/latin1_semicolon.csv", latin1(lines(
		"Nº Liquidación;Código DANE;Impuesto;Vigencia;Cédula/NIT;Nombre o razón social;Fecha expedición;Fecha límite;Avalúo catastral;Estrato;Total a pagar",
		"FL-2024-0001;18001;Impuesto Predial Unificado;2024;1.117.500.001;José Muñoz;15/02/2024;31/03/2024;125.400.000,00;2;1.254.000,50",
		"FL-2024-0002;18001;Industria y Comercio;2024;900.123.456-8;Comercializadora El Caguán S.A.S.;20/03/2024;30/04/2024;;;3.480.000",
		"FL-2024-0003;5001;predial;2024;43.123.456;Ángela Peña;15/02/2024;31/03/2024;98.000.000;3;980.000",
		"FL-2024-0004;18001;Vehículos;2024;1.117.500.004;Iñaki Núñez;15/02/2024;31/03/2024;50.000.000;2;500.000",
		"FL-2024-0005;18001;predial;2024;1.117.500.005;Sofía Ortíz;15/02/2024;31/03/2024;75.500.000,5;2;755.005,00",
	)))

	// UTF-8 with BOM, CRLF line ends and tabs, to be sniffed.
	write("ok/bom_crlf_tab.tsv", []byte("\xef\xbb\xbf"+strings.ReplaceAll(strings.ReplaceAll(hdr+lines(
		row("L-001", map[int]string{5: "Ñandú Córdoba"}),
		row("L-002", nil),
	), ",", "\t"), "\n", "\r\n")))

	// Text damaged by a double encoding (UTF-8 read as Windows-1252).
	write("bad/mojibake.csv", []byte(hdr+lines(
		row("L-001", map[int]string{5: "JOSÃ‰ MUÃ‘OZ"}),
		row("L-002", map[int]string{5: "DEGÃ?ELLO"}),
		row("L-003", map[int]string{5: "JOSÉ MUÑOZ"}),
	)))

	write("ok/payments.csv", []byte(lines(
		"Recibo,Liquidación,Municipio,Impuesto,Vigencia,Documento,Fecha pago,Valor,Canal",
		"R-1,L-001,18001,Predial,2024,1117500001,15/03/2024 10:32,270000,PSE",
		"R-2,L-002,18001,Predial,2024,1117500002,16/03/2024 08:05:09,312000,Oficina",
		"R-3,,18001,ICA,2024,900123456-8,2024-04-30T17:45:00-05:00,3480000,Tarjeta de crédito",
		"R-4,L-004,18001,Predial,2024,1117500004,2024-03-20,500000,Ventanilla",
		"R-5,L-005,18001,Predial,2024,1117500005,20/03/2024 14:00,755005,Internet",
		"R-6,L-006,18001,Predial,2024,1117500006,20/03/2024 14:00,100,Giro postal",
	)))
}

func joinSemi(id string, over map[int]string) string {
	f := []string{id, "18001", "predial", "2024", "1117500" + strings.TrimPrefix(id, "L-"), "Ana Gomez", "2024-02-01", "2024-03-31", "45000000", "2", "270000"}
	for i, v := range over {
		f[i] = v
	}
	return strings.Join(f, ";")
}
