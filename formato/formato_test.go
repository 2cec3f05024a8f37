package formato

import (
	"math"
	"testing"
	"time"
)

func TestFormats(t *testing.T) {
	d := time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC)
	for got, want := range map[string]string{
		Date(d): "21 de noviembre de 2026", Month(d): "noviembre de 2026", ShortMonth(d): "nov. 2026",
		Number(0): "0", Number(999): "999", Number(1000): "1.000", Number(6263): "6.263", Number(-1234567): "-1.234.567",
		Number(math.MinInt64): "-9.223.372.036.854.775.808",
		// Colombian time (UTC-5): the date changes with the zone.
		DateTime(d): "21 de noviembre de 2026, 10:00 a. m.", DateTime(time.Date(2026, 11, 21, 17, 0, 0, 0, time.UTC)): "21 de noviembre de 2026, 12:00 m.",
		DateTime(time.Date(2026, 11, 21, 17, 7, 0, 0, time.UTC)): "21 de noviembre de 2026, 12:07 p. m.",
		DateTime(time.Date(2026, 11, 22, 4, 59, 0, 0, time.UTC)): "21 de noviembre de 2026, 11:59 p. m.",
		DateTime(time.Date(2026, 11, 22, 5, 3, 0, 0, time.UTC)):  "22 de noviembre de 2026, 12:03 a. m.",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
