package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shopspring/decimal"
)

// withGocsvDecoding decodes with gocsv instead of the compiled plan.
func withGocsvDecoding() Option { return func(o *options) { o.gocsv = true } }

// itemsOf reads a whole source as a list of comparable texts, one per
// record or reject, in file order; "" and the error when Open fails.
func itemsOf(t *testing.T, cfg SourceConfig, opts ...Option) ([]string, error) {
	t.Helper()
	st, err := Open(context.Background(), cfg, opts...)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var out []string
	for {
		it, err := st.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, describeItem(t, it))
	}
}

// describeItem renders a record with every field (pointers followed,
// decimals with their coefficient and exponent, not just their value) or
// a reject.
func describeItem(t *testing.T, it Item) string {
	t.Helper()
	if it.Reject != nil {
		b, _ := json.Marshal(it.Reject)
		return "reject " + string(b)
	}
	var b strings.Builder
	describeValue(&b, reflect.ValueOf(it.Record).Elem())
	return b.String()
}

func describeValue(b *strings.Builder, v reflect.Value) {
	switch {
	case v.Type() == decimalType:
		d := v.Interface().(decimal.Decimal)
		b.WriteString(d.Coefficient().String() + "e" + decimal.New(int64(d.Exponent()), 0).String())
	case v.Type() == dateType, v.Type() == timeType:
		b.WriteString(v.Addr().Interface().(interface{ String() string }).String())
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			b.WriteString("nil")
		} else {
			b.WriteString("&")
			describeValue(b, v.Elem())
		}
	case v.Kind() == reflect.Struct:
		b.WriteString("{")
		for i := 0; i < v.NumField(); i++ {
			b.WriteString(v.Type().Field(i).Name + ":")
			describeValue(b, v.Field(i))
			b.WriteString(" ")
		}
		b.WriteString("}")
	default:
		b.WriteString(strings.ReplaceAll(reflect.ValueOf(v.Interface()).String(), " ", "␠"))
		if v.Kind() != reflect.String {
			j, _ := json.Marshal(v.Interface())
			b.Write(j)
		}
	}
}

// compareDecoders reads a source with the compiled plan and with gocsv and
// requires the same records, field by field, and the same rejects.
func compareDecoders(t *testing.T, cfg SourceConfig, opts ...Option) int {
	t.Helper()
	plan, perr := itemsOf(t, cfg, opts...)
	ref, rerr := itemsOf(t, cfg, append(opts, withGocsvDecoding())...)
	if (perr == nil) != (rerr == nil) || (perr != nil && perr.Error() != rerr.Error()) {
		t.Fatalf("%s: errors differ: plan %v, gocsv %v", cfg.Name, perr, rerr)
	}
	if len(plan) != len(ref) {
		t.Fatalf("%s: plan gave %d items, gocsv %d", cfg.Name, len(plan), len(ref))
	}
	for i := range plan {
		if plan[i] != ref[i] {
			t.Fatalf("%s: item %d differs:\nplan  %s\ngocsv %s", cfg.Name, i+1, plan[i], ref[i])
		}
	}
	return len(plan)
}

func TestEveryKindHasAPlan(t *testing.T) {
	for _, k := range []Kind{KindLiquidation, KindPayment, KindGEL, KindBudgetLine, KindEntity, KindGELAction, KindGDIndex} {
		if _, isGocsv := decoderFor(k, false); isGocsv {
			t.Errorf("%s records are decoded by gocsv: a field type has no plan", k)
		}
	}
}

// TestPlanMatchesGocsv decodes the corpus of bad files, the good files and
// the real reference files both ways.
func TestPlanMatchesGocsv(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.csv")
	files = append(files, "testdata/ok/bom_crlf_tab.tsv")
	n := 0
	for _, f := range files {
		cfg := corpusConfig(f)
		cfg.Encoding, cfg.Delimiter = "auto", "auto"
		cfg.Name = filepath.Base(f)
		n += compareDecoders(t, cfg)
	}
	pay := SourceConfig{Name: "payments", Kind: SourceFile, Record: KindPayment, File: &FileConfig{Path: "testdata/ok/payments.csv"},
		Encoding: "auto", Delimiter: "auto"}
	n += compareDecoders(t, pay)
	for _, name := range []string{"divipola", "fut-ingresos-caqueta"} {
		cfg, err := ReferenceSource(name)
		if err != nil {
			t.Fatal(err)
		}
		n += compareDecoders(t, cfg, WithFS(ReferenceFS()))
	}
	if n < 1000 {
		t.Fatalf("only %d items compared", n)
	}
	t.Logf("%d records and rejects decoded alike", n)
}

// TestPlainDecimal checks the fast path against NewFromString: the same
// coefficient and exponent, or no fast path.
func TestPlainDecimal(t *testing.T) {
	for _, s := range []string{"0", "-0", "1", "-1", "1.5", "1.50", "0.05", "-0.05", "123456789012345678", "1234567890123456789",
		"12345678901234567.8", "999999999999999999", "-999999999999999999", "1.", ".5", "1e5", "", "-", "1..2", "00012", "0.000",
		"9223372036854775807", "4039000000000.75"} {
		want, werr := decimal.NewFromString(s)
		coef, exp, ok := plainDecimal(s)
		if !ok {
			continue
		}
		if werr != nil {
			t.Errorf("%q: fast path accepted what NewFromString refuses (%v)", s, werr)
			continue
		}
		got := decimal.New(coef, exp)
		if got.Coefficient().Cmp(want.Coefficient()) != 0 || got.Exponent() != want.Exponent() {
			t.Errorf("%q: fast %se%d, NewFromString %se%d", s, got.Coefficient(), got.Exponent(), want.Coefficient(), want.Exponent())
		}
	}
}

// FuzzPlanMatchesGocsv feeds arbitrary rows of each record kind through
// both decoders.
func FuzzPlanMatchesGocsv(f *testing.F) {
	files, _ := filepath.Glob("testdata/bad/*.csv")
	for i, p := range files {
		b, _ := os.ReadFile(p)
		if len(b) > 512 {
			b = b[:512]
		}
		f.Add(byte(i), b)
	}
	f.Add(byte(1), []byte("payment_id,liquidation_id,municipality_code,tax,tax_year,taxpayer_id,paid_at,amount,channel\nP-1,L-1,68001,ica,2020,900123456-7,2020-08-03T10:15:00-05:00,\"1.234,50\",pse\n"))
	f.Add(byte(2), []byte("framework,phase,criterion,entity_code,measured_on,value,unit,synthetic\ngel-2008,informacion,avance,25151,2009-08-31,90,porcentaje,si\n"))
	f.Add(byte(3), []byte("department_code,entity_code,entity_name,rubro,year,final_budget,value_2025\n18,18001,Florencia,1.1.01,2020,\"1.000,5\",\n"))
	kinds := []Kind{KindLiquidation, KindPayment, KindGEL, KindBudgetLine}
	f.Fuzz(func(t *testing.T, mode byte, content []byte) {
		cfg := SourceConfig{Name: "fuzz", Kind: SourceFile, Record: kinds[mode&3], File: &FileConfig{Path: "in.csv"},
			Encoding: []string{"utf-8", "auto"}[mode>>2&1], Delimiter: "auto",
			Numbers: []NumbersConfig{{Decimal: "."}, {Decimal: ",", Thousands: "."}}[mode>>3&1],
			Dates:   DatesConfig{Formats: []string{"yyyy-mm-dd", "dd/mm/yyyy"}}, MaxFieldBytes: 128, MaxRecordBytes: 1024}
		compareDecoders(t, cfg, WithFS(fstest.MapFS{"in.csv": {Data: content}}), WithBatchSize(5))
	})
}
