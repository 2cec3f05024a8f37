package ingest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shopspring/decimal"
)

// FuzzDecodeCSV feeds arbitrary bytes after a liquidation header through
// the whole pipeline with varying settings. Besides not panicking, the
// books must balance, every reject must say where and what, and (one row
// per physical line when multiline is off and the encoding keeps line
// breaks) every line must be accounted for.
func FuzzDecodeCSV(f *testing.F) {
	files, _ := filepath.Glob("testdata/bad/*.csv")
	for i, p := range files {
		b, _ := os.ReadFile(p)
		if j := bytes.IndexByte(b, '\n'); j >= 0 && strings.HasPrefix(string(b), "liquidation_id") {
			b = b[j+1:]
		}
		if len(b) > 512 { // small seeds keep minimization short
			b = b[:512]
		}
		f.Add(byte(i), b)
	}
	f.Add(byte(0), []byte("L-1,18001,predial,2024,1,x,2024-01-01,,1,1,1\n"))
	f.Add(byte(7), []byte("\"a\nb\",\"\"\"\n\r\n,,,\xff\xfe"))
	hdr := "liquidation_id,municipality_code,tax,tax_year,taxpayer_id,taxpayer_name,issue_date,due_date,avaluo,estrato,total_amount\n"
	f.Fuzz(func(t *testing.T, mode byte, body []byte) {
		encs := []string{"utf-8", "windows-1252", "auto", "latin-1"}
		nums := []NumbersConfig{{Decimal: "."}, {Decimal: ",", Thousands: "."}, {}}
		cfg := SourceConfig{Name: "fuzz", Kind: SourceFile, Record: KindLiquidation, File: &FileConfig{Path: "in.csv"},
			Encoding: encs[mode&3], Numbers: nums[int(mode>>2&3)%3], LazyQuotes: mode&16 != 0, Multiline: mode&32 != 0,
			Delimiter: ",", MaxFieldBytes: 64, MaxRecordBytes: 256, Mojibake: []string{"warn", "repair", "reject", "warn"}[mode>>6]}
		content := append([]byte(hdr), body...)
		st, err := Open(context.Background(), cfg, WithFS(fstest.MapFS{"in.csv": {Data: content}}), WithBatchSize(7))
		if err != nil {
			return // a header-level error is fine
		}
		defer st.Close()
		var recs, rejs int
		err = st.Each(context.Background(), func(r []Record, j []Reject) error {
			recs += len(r)
			rejs += len(j)
			for _, x := range j {
				if x.Line < 2 || x.Field == "" || x.Code == "" || x.Reason == "" || x.File != "in.csv" {
					t.Fatalf("reject without context: %+v", x)
				}
			}
			for _, x := range r {
				if x.Provenance().Line < 2 {
					t.Fatalf("record without line: %+v", x.Provenance())
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Each: %v", err)
		}
		s := st.Stats()
		if s.Read != s.Records+s.Rejects+s.Blank || int(s.Records) != recs || int(s.Rejects) != rejs {
			t.Fatalf("books do not balance: %+v (records %d rejects %d)", s, recs, rejs)
		}
		if !cfg.Multiline && cfg.Encoding != "auto" {
			lines := bytes.Count(body, []byte("\n"))
			if len(body) > 0 && body[len(body)-1] != '\n' {
				lines++
			}
			if int(s.Read) != lines {
				t.Fatalf("%d rows read from %d lines", s.Read, lines)
			}
		}
	})
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"1.234.567,89", "1,234,567.89", "335680000.0", "-$ 1.234", "(1.000)", "1e5", ",5", "1 234,5", "", "1.2.3"} {
		f.Add(s, byte(0))
		f.Add(s, byte(1))
		f.Add(s, byte(2))
	}
	f.Fuzz(func(t *testing.T, s string, mode byte) {
		formats := []NumberFormat{{Decimal: ',', Thousands: '.'}, {Decimal: '.', Thousands: ','}, {}, {Decimal: '.'}}
		got, code := ParseNumber(s, formats[mode&3])
		if code != "" {
			if got != "" {
				t.Fatalf("error %s with a value %q", code, got)
			}
			return
		}
		d, err := decimal.NewFromString(got)
		if err != nil {
			t.Fatalf("ParseNumber(%q) = %q, not a decimal: %v", s, got, err)
		}
		again, code := ParseNumber(got, NumberFormat{Decimal: '.'})
		if code != "" {
			t.Fatalf("canonical %q does not parse again: %s", got, code)
		}
		if d2, _ := decimal.NewFromString(again); !d2.Equal(d) {
			t.Fatalf("%q -> %q -> %q", s, got, again)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"21/11/2026", "2026-11-21T10:00:00.000Z", "21 de noviembre de 2026", "45000", "20261121", "1/2/03 4:05 p. m."} {
		f.Add(s, "")
		f.Add(s, "dd/mm/yyyy[ hh:MI[:SS] tt]")
		f.Add(s, "yyyymmdd")
		f.Add(s, "excel")
	}
	f.Fuzz(func(t *testing.T, s, format string) {
		var formats []string
		if format != "" {
			formats = []string{format}
		}
		got, err := ParseDate(s, formats)
		if err != nil {
			return
		}
		if _, _, _, ok := parseISODate(got); !ok {
			t.Fatalf("ParseDate(%q, %q) = %q", s, format, got)
		}
		if _, err := ParseDateTime(s, formats, nil); err != nil {
			t.Fatalf("date %q parses but not as a date-time: %v", s, err)
		}
	})
}
