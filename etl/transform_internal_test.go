package etl

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// TestAppendDecimal checks the fast formatting against decimal's String.
func TestAppendDecimal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []decimal.Decimal{decimal.Zero, decimal.New(0, -3), decimal.New(-5, -1), decimal.New(1, -19), decimal.New(120, 3),
		decimal.New(-9223372036854775807, -4), decimal.RequireFromString("-0.000100"), decimal.RequireFromString("123456789012345678901234.5")}
	for range 100000 {
		c := r.Int64N(1_000_000_000_000) * int64(1-2*r.IntN(2))
		if r.IntN(3) == 0 {
			c *= 1000
		}
		cases = append(cases, decimal.New(c, int32(r.IntN(24)-20)))
	}
	for _, d := range cases {
		if got, want := string(appendDecimal(nil, d)), d.String(); got != want {
			t.Fatalf("coefficient %s exponent %d: got %s, want %s", d.Coefficient(), d.Exponent(), got, want)
		}
	}
}

// TestLiquidationInputsJSON: the inputs column is valid JSON whatever the
// source's text holds, and reads back as the source's values.
func TestLiquidationInputsJSON(t *testing.T) {
	avaluo, tax := decimal.RequireFromString("40000000.50"), decimal.RequireFromString("-0.010")
	estrato := 3
	l := &ingest.Liquidation{Period: "01 \"bis\" \\ \x01\t\nñ", Destino: "habitacional", Estrato: &estrato, CIIU: "4711",
		Avaluo: &avaluo, TaxAmount: &tax}
	s := string(appendLiquidationInputs(nil, l))
	var got map[string]string
	if err := json.Unmarshal([]byte(s), &got); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	want := map[string]string{"periodo": l.Period, "destino": "habitacional", "estrato": "3", "ciiu": "4711",
		"avaluo": "40000000.5", "impuesto": "-0.01"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if s := string(appendLiquidationInputs(nil, &ingest.Liquidation{})); s != "{}" {
		t.Errorf("empty inputs: %s", s)
	}
}

// TestStagingTablesAreWorkingTables: a backup taken while a run loads
// leaves its staging tables out as working tables, not as foreign ones.
func TestStagingTablesAreWorkingTables(t *testing.T) {
	s := newStaging(nil, "bucaramanga liquidaciones (predial)", NewRunID())
	if what, ok := warehouse.WorkingTable(s.name("liquidations")); !ok || what == "" {
		t.Errorf("%s is not a working table", s.name("liquidations"))
	}
}
