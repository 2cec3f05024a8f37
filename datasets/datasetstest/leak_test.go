package datasetstest

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/observatorio-civico/observatorio/etl/demo"
)

// TestScanner: the leak scanner finds ids, names, plain hashes and stored
// pseudonyms anywhere in a body, and does not take amounts for ids.
func TestScanner(t *testing.T) {
	f := &Fixture{Liquidations: []demo.Liquidation{{TaxpayerID: "900.123.456-7", TaxpayerName: "María Pérez Gómez"}, {TaxpayerID: "10007919"}}}
	s := f.Scanner(Key)
	sum := sha256.Sum256([]byte("9001234567"))
	cases := map[string]bool{
		"codigo,nombre\n68001,María Pérez Gómez\n":               true,
		`{"contribuyente":"` + hex.EncodeToString(sum[:]) + `"}`: true,
		"x;" + strings.ToUpper(hex.EncodeToString(sum[:16])):     true, // a truncated plain hash
		"a,10007919,b":                    true,
		"id 9001234567 fin":               true,
		"monto,10007919.00":               false,
		"monto;10007919,00":               false,
		"n,210007919":                     false,
		"nada personal aquí, 68001, 5.00": false,
	}
	for body, leak := range cases {
		if got := len(s.Find([]byte(body))) > 0; got != leak {
			t.Errorf("%q: fuga %v, se esperaba %v", body, got, leak)
		}
	}
}
