package dashboards

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/warehouse"
)

func TestMonthlyCollectionsOptionIsEscapedJSONWithAria(t *testing.T) {
	jan := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	feb := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	evil := "</script><script>alert(1)</script>__f__function(){alert(2)}__f__"
	res := &warehouse.Result{
		Columns: []warehouse.Column{{Name: "mes"}, {Name: "codigo_municipio"}, {Name: "municipio"}, {Name: "impuesto"}, {Name: "pagos"}, {Name: "recaudo"}, {Name: "suprimido"}},
		Rows: [][]any{
			{jan, "68001", "BUCARAMANGA", "predial", uint64(10), decimal.RequireFromString("1500000.50"), uint64(0)},
			{jan, "68001", "BUCARAMANGA", "ica", uint64(10), decimal.RequireFromString("500000"), uint64(0)},
			{feb, "99999", evil, "ica", uint64(1), nil, uint64(1)},
		},
	}
	c, err := MonthlyCollections(res)
	if err != nil {
		t.Fatal(err)
	}
	s := string(c.Option)
	if strings.Contains(s, "</script>") || strings.Contains(s, "<script>") {
		t.Fatalf("option JSON carries raw markup: %s", s)
	}
	var m map[string]any
	if err := json.Unmarshal(c.Option, &m); err != nil {
		t.Fatal(err)
	}
	aria := m["aria"].(map[string]any)
	if aria["enabled"] != true || aria["decal"].(map[string]any)["show"] != true {
		t.Fatalf("aria = %v", aria)
	}
	series := m["series"].([]any)
	if len(series) != 2 {
		t.Fatalf("%d series", len(series))
	}
	// Bucaramanga's January is the sum over taxes, exact.
	if !strings.Contains(s, "2000000.5") {
		t.Fatalf("sum missing: %s", s)
	}
	if c.Table.Rows[0][1] != "$ 2.000.000,50" {
		t.Fatalf("table = %v", c.Table.Rows)
	}
	if len(c.Table.Notes) != 1 || !strings.Contains(c.Table.Notes[0], "1 celdas") {
		t.Fatalf("suppression note = %v", c.Table.Notes)
	}
	if _, ok := m["xAxis"]; !ok {
		t.Fatalf("no xAxis in %s", s)
	}
}
