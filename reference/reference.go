// Package reference ships the real reference data the observatory needs at
// run time and in tests: DANE's DIVIPOLA list, the FUT revenue budgets of
// Caquetá's entities and recorded Socrata SODA responses. The files are
// embedded so that the binary works without the repository next to it.
package reference

import "embed"

// Files holds the reference files, addressed by their names in this folder
// (for example "divipola.csv" or "socrata/bike_counts_page_1.json").
//
//go:embed divipola.csv fut_presupuesto_ingresos_caqueta.csv socrata
var Files embed.FS

// DIVIPOLA returns the DIVIPOLA list as shipped (UTF-8, comma separated,
// header row; 1,122 units).
func DIVIPOLA() []byte {
	b, err := Files.ReadFile("divipola.csv")
	if err != nil {
		panic(err) // embedded at build time: cannot fail
	}
	return b
}
