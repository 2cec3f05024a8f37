package warehouse

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// TestScaledInt64MatchesTheGeneralPath: wherever the int64 fast path takes
// a decimal, it writes the bytes roundDecimal and putScaled write; where
// the general path fails, it declines. Over random coefficients and
// exponents around each column's scale, and the edges of the columns.
func TestScaledInt64MatchesTheGeneralPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var cases []decimal.Decimal
	for _, s := range []string{"0", "-0.005", "0.005", "0.004999", "-0.015", "0.015", "1.995", "-1.995",
		"9999999999999999.99", "9999999999999999.994", "9999999999999999.995", "-9999999999999999.995", "10000000000000000",
		"99999999.9999", "-99999999.99995", "123456789012345678", "1234567890123456789", "0.000001", "1e-19", "5e-19"} {
		cases = append(cases, decimal.RequireFromString(s))
	}
	for range 20000 {
		coef := rng.Int64N(1_000_000_000_000_000_000)
		if rng.IntN(2) == 0 {
			coef = rng.Int64N(10_000_000)
		}
		if rng.IntN(2) == 0 {
			coef = -coef
		}
		cases = append(cases, decimal.New(coef, int32(rng.IntN(16)-10)))
	}
	taken := 0
	for _, typ := range []string{"Decimal(18, 2)", "Decimal(9, 4)", "Decimal(18, 0)", "Decimal(38, 2)", "Nullable(Decimal(18, 6))"} {
		c := parseColType(typ)
		for _, d := range cases {
			v, ok := c.scaledInt64(d)
			rd, err := c.roundDecimal(d)
			if !ok {
				continue
			}
			taken++
			if err != nil {
				t.Fatalf("%s %s: fast path took %d where the general path fails: %v", typ, d, v, err)
			}
			want := make([]byte, c.width())
			putScaled(want, rd, c.scale)
			got := make([]byte, c.width())
			putUint(got, uint64(v))
			if len(got) == 16 && v < 0 {
				putUint(got[8:], ^uint64(0))
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s %s: fast %d (%x), general %s (%x)", typ, d, v, got, rd, want)
			}
		}
	}
	if taken < 40000 {
		t.Fatalf("fast path taken only %d times", taken)
	}
	t.Logf("fast path taken %d times", taken)
}

// TestDaysSinceEpoch: the day count from Unix seconds is the UTC calendar
// day, for instants before and after 1970 in any zone.
func TestDaysSinceEpoch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	bogota := time.FixedZone("COT", -5*3600)
	for range 100000 {
		tm := time.Unix(rng.Int64N(2*200*365*86400)-200*365*86400, 0)
		if rng.IntN(2) == 0 {
			tm = tm.In(bogota)
		}
		y, m, d := tm.UTC().Date()
		want := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
		if got := daysSinceEpoch(tm); got != want {
			t.Fatalf("%s: %d, want %d", tm, got, want)
		}
	}
	if got := time.Unix(maxDay*86400, 0).UTC(); !got.Equal(maxDate) {
		t.Fatalf("maxDay %d is %s, not 2105-12-31", maxDay, got)
	}
}
