package ingest

import (
	"testing"
	"time"
)

func TestParseNumber(t *testing.T) {
	co := NumberFormat{Decimal: ',', Thousands: '.'}
	us := NumberFormat{Decimal: '.', Thousands: ','}
	plain := NumberFormat{Decimal: '.'}
	auto := NumberFormat{}
	cases := []struct {
		in   string
		f    NumberFormat
		want string
		code string
	}{
		{"1.234.567,89", co, "1234567.89", ""},
		{"1,234,567.89", us, "1234567.89", ""},
		{"335680000.0", plain, "335680000.0", ""},
		{"537747949.0000001", plain, "537747949.0000001", ""},
		{"-1.234,5", co, "-1234.5", ""},
		{"$ 1.234", co, "1234", ""},
		{"-$ 1.234", co, "-1234", ""},
		{"$-1.234", co, "-1234", ""},
		{"(1.000)", co, "-1000", ""},
		{"+12", co, "12", ""},
		{",5", co, "0.5", ""},
		{"12,", co, "12", ""},
		{"1234567", co, "1234567", ""},
		{"\u00a01.000\u00a0", co, "1000", ""},
		{"3.3568E8", plain, "3.3568e8", ""},
		{"1.23.4", co, "", CodeNumber},
		{"1,234,56", co, "", CodeNumber},
		{"12a", co, "", CodeNumber},
		{"", co, "", CodeNumber},
		{"-", co, "", CodeNumber},
		{"--1", co, "", CodeNumber},
		{"(-1)", co, "", CodeNumber},
		{"1.234,5", us, "", CodeNumber},
		{"1e5", co, "", CodeNumber},
		{"1,000.", us, "1000", ""},
		{"1.234.567,89", auto, "1234567.89", ""},
		{"1,234,567.89", auto, "1234567.89", ""},
		{"335680000.0", auto, "335680000.0", ""},
		{"1.234.567", auto, "1234567", ""},
		{"0,125", auto, "0.125", ""},
		{"1234.567", auto, "1234.567", ""},
		{"1 234 567,5", auto, "1234567.5", ""},
		{"1.234", auto, "", CodeNumberAmbiguous},
		{"1,234", auto, "", CodeNumberAmbiguous},
		{"1.2.3,4,5", auto, "", CodeNumber},
	}
	for _, c := range cases {
		got, code := ParseNumber(c.in, c.f)
		if got != c.want || code != c.code {
			t.Errorf("ParseNumber(%q, %+v) = %q, %q; want %q, %q", c.in, c.f, got, code, c.want, c.code)
		}
	}
	// auto mode learns the decimal separator from a clear value
	p := numberParser{}
	if _, code := p.parse("12,5"); code != "" {
		t.Fatal(code)
	}
	if got, code := p.parse("1.234"); got != "1234" || code != "" {
		t.Errorf("after learning ',': %q %q", got, code)
	}
	p = numberParser{}
	p.parse("0.5")
	if got, _ := p.parse("1.234"); got != "1.234" {
		t.Errorf("after learning '.': %q", got)
	}
}

func TestParseDate(t *testing.T) {
	cases := []struct {
		in      string
		formats []string
		want    string
		ok      bool
	}{
		{"21/11/2026", nil, "2026-11-21", true},
		{"2026-11-21", nil, "2026-11-21", true},
		{"2026-11-21T10:00:00.000", nil, "2026-11-21", true},
		{"2026-11-21 10:00:00", nil, "2026-11-21", true},
		{"21 de noviembre de 2026", nil, "2026-11-21", true},
		{"1 de Septiembre de 2025", nil, "2025-09-01", true},
		{"21/11/26", []string{"dd/mm/yy"}, "2026-11-21", true},
		{"20261121", []string{"yyyymmdd"}, "2026-11-21", true},
		{"2026112", []string{"yyyymmdd"}, "", false},
		{"11/21/2026", []string{"mm/dd/yyyy"}, "2026-11-21", true},
		{"21-nov-2026", []string{"dd-mmm-yyyy"}, "2026-11-21", true},
		{"21-Dic.-2026", []string{"dd-mmm-yyyy"}, "2026-12-21", true},
		{"02/01/2006", []string{"02/01/2006"}, "2006-01-02", true},
		{"45000", []string{"excel"}, "2023-03-15", true},
		{"29/02/2023", nil, "", false},
		{"29/02/2024", nil, "2024-02-29", true},
		{"31/04/2024", nil, "", false},
		{"00/01/2024", nil, "", false},
		{"1/1/0001", nil, "", false},
		{"hoy", nil, "", false},
		{"", nil, "", false},
		{"2024-01-01x", nil, "", false},
	}
	for _, c := range cases {
		got, err := ParseDate(c.in, c.formats)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseDate(%q, %v) = %q, %v; want %q ok=%v", c.in, c.formats, got, err, c.want, c.ok)
		}
	}
}

func TestParseDateTime(t *testing.T) {
	cases := []struct {
		in      string
		formats []string
		want    string
	}{
		{"2024-03-15T10:32:00", nil, "2024-03-15T15:32:00Z"},
		{"2024-03-15T10:32:00Z", nil, "2024-03-15T10:32:00Z"},
		{"2024-03-15T10:32:00.5-03:00", nil, "2024-03-15T13:32:00.5Z"},
		{"2024-03-15 10:32", nil, "2024-03-15T15:32:00Z"},
		{"15/03/2024 10:32", nil, "2024-03-15T15:32:00Z"},
		{"15/03/2024 02:05:09 p. m.", []string{"dd/mm/yyyy hh:MI:SS tt"}, "2024-03-15T19:05:09Z"},
		{"15/03/2024 12:05:09 a.m.", []string{"dd/mm/yyyy hh:MI:SS tt"}, "2024-03-15T05:05:09Z"},
		{"2024-03-15", nil, "2024-03-15T05:00:00Z"},
		{"2024-03-15T10:32:00+0100", []string{"yyyy-mm-ddTHH:MI:SSZ"}, "2024-03-15T09:32:00Z"},
	}
	for _, c := range cases {
		got, err := ParseDateTime(c.in, c.formats, nil)
		if err != nil || got.UTC().Format(time.RFC3339Nano) != c.want {
			t.Errorf("ParseDateTime(%q) = %v, %v; want %s", c.in, got.UTC(), err, c.want)
		}
	}
	for _, bad := range []string{"2024-03-15T25:00:00", "2024-03-15T10:60", "15/03/2024 13:00:00 pm"} {
		if _, err := ParseDateTime(bad, []string{"iso", "dd/mm/yyyy hh:MI:SS tt"}, nil); err == nil {
			t.Errorf("ParseDateTime(%q) accepted", bad)
		}
	}
	if _, err := compileDateFormat("dd/mm/[yyyy"); err == nil {
		t.Error("unbalanced [ accepted")
	}
}

func TestTaxpayerID(t *testing.T) {
	cases := []struct{ in, id, dv string }{
		{"1.117.500.001", "1117500001", ""},
		{"900.123.456-8", "900123456", "8"},
		{"900123456 - 8", "900123456", "8"},
		{"  0043123456 ", "43123456", ""},
		{"pa-1234567", "PA1234567", ""},
		{"E 12.345", "E12345", ""},
	}
	for _, c := range cases {
		id, dv, ok := normTaxpayerID(c.in)
		if !ok || id != c.id || dv != c.dv {
			t.Errorf("normTaxpayerID(%q) = %q %q %v", c.in, id, dv, ok)
		}
	}
	for _, bad := range []string{"12", "1@2345", "123456789012345678901", "ñ12345"} {
		if _, _, ok := normTaxpayerID(bad); ok {
			t.Errorf("normTaxpayerID(%q) accepted", bad)
		}
	}
	// DIAN check digits of known NITs
	for nit, dv := range map[string]int{"900123456": 8, "860034313": 7, "899999068": 1, "800197268": 4} {
		if got := nitCheckDigit(nit); got != dv {
			t.Errorf("nitCheckDigit(%s) = %d, want %d", nit, got, dv)
		}
	}
}

func TestMojibake(t *testing.T) {
	cases := []struct {
		in     string
		status int
		fixed  string
	}{
		{"DEGÜELLO", mojibakeNone, ""},
		{"SÃO PAULO", mojibakeNone, ""},
		{"CAQUETÃ\u0081", mojibakeRepairable, "CAQUETÁ"},
		{"JOSÃ‰ MUÃ‘OZ", mojibakeRepairable, "JOSÉ MUÑOZ"},
		{"BogotÃ¡", mojibakeRepairable, "Bogotá"},
		{"DEGÃ?ELLO", mojibakeIrreversible, ""},
		{"Bogot\uFFFD", mojibakeIrreversible, ""},
	}
	for _, c := range cases {
		if got := detectMojibake(c.in); got != c.status {
			t.Errorf("detectMojibake(%q) = %d, want %d", c.in, got, c.status)
		}
		if c.fixed != "" {
			if got, ok := repairMojibake(c.in); !ok || got != c.fixed {
				t.Errorf("repairMojibake(%q) = %q %v", c.in, got, ok)
			}
		}
	}
}
