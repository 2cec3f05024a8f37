package dashboards

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestSpanishFormats(t *testing.T) {
	cases := map[string]string{
		"0": "$ 0", "999": "$ 999", "1000": "$ 1.000", "1234567": "$ 1.234.567",
		"1234.5": "$ 1.234,50", "-25000": "-$ 25.000", "100000000000": "$ 100.000.000.000",
	}
	for in, want := range cases {
		if got := Pesos(decimal.RequireFromString(in)); got != want {
			t.Errorf("Pesos(%s) = %q, want %q", in, got, want)
		}
	}
	if got := Number(6263); got != "6.263" {
		t.Errorf("Number = %q", got)
	}
	if got := Date(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)); got != "21 de noviembre de 2026" {
		t.Errorf("Date = %q", got)
	}
	if got := ShortMonth(time.Date(2020, 9, 1, 0, 0, 0, 0, time.UTC)); got != "sep. 2020" {
		t.Errorf("ShortMonth = %q", got)
	}
}
