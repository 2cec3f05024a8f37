package etl

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
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
