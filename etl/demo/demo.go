// Package demo generates the observatory's synthetic demonstration data for
// Florencia (18001), Bucaramanga (68001) and Cáqueza (25151): the files a
// municipal tax system, a treasury and a GEL self-assessment would export,
// and the ETL job configuration that loads them.
//
// Generate writes, into a folder:
//
//	observatorio.yaml                  jobs and ingest sources (demo: true, etl.jobs)
//	manifest.json                      every file's rows, bad rows, deliberate deviations; the figures produced
//	florencia/liquidaciones_YYYY.csv   Windows-1252, ";", 1.234.567,89, dd/mm/yyyy, Spanish headers
//	florencia/pagos_YYYY.csv           same format, by calendar year of payment
//	bucaramanga/liquidaciones_YYYY.csv UTF-8 with BOM, ",", 1234567.89, ISO dates, separate check digit
//	bucaramanga/pagos_YYYY.csv
//	caqueza/liquidaciones_YYYY.csv     UTF-8, ";", 1234567,89, 5-mar-2020, two title lines, CIIU without leading zero
//	caqueza/pagos_YYYY.csv             d/m/yyyy H:MI, one title line
//	gel/mediciones_gel.csv             Gobierno en Línea criteria (framework gel2008)
//	reference/divipola.csv, reference/fut_presupuesto_ingresos_caqueta.csv   copies of the real files
//
// Liquidations (predial 2012-2025, ICA años gravables 2011-2024, ReteICA
// 2019-2025) carry the inputs the liquidation core needs and raw personal
// data (cédulas, NITs with check digit, names, addresses, phones, e-mails)
// that the ETL must pseudonymize or drop. Their amounts are computed by the
// liquidation core through etl/recompute (the ETL's own mapping), except a
// documented 2 % deliberately off the rules and 1 % deliberately
// unverifiable; each file also has a handful of rows ingest must reject.
// The data set reproduces the seed documents' figures: Bucaramanga's third
// quarter of 2020 (6,263 electronic payments, 5,638 declarations filed on
// line), Florencia's 20 % rise in collections in 2013 and Cáqueza's GEL
// diagnosis of August 2009 (90/70/5/0/0). The manifest's definitions say
// how each figure is counted; BENCHMARKS.md measures the generation.
//
// Everything is a function of Options.Seed and Options.Scale: the same
// seed and scale give the same bytes (on the same platform), whatever the
// number of workers; Scale multiplies every population and reaches tens of
// millions of rows at constant memory (rows are streamed to buffered files).
//
// GenerateRows is the walking skeleton's earlier generator, kept until the
// ETL loads these files.
package demo

import "context"

// Options select and size the data set.
type Options struct {
	// Seed: the same seed (and scale) gives the same bytes.
	Seed uint64
	// Scale multiplies every population: 1 (the default, `make run`) is
	// about 283,000 liquidations and 270,000 payments (100 MB); 40 is about
	// 22 million rows.
	Scale float64
	// FirstYear and LastYear are read by GenerateRows only (Generate always
	// covers 2011-2025, the years the calibration needs).
	FirstYear int
	LastYear  int
	// Workers computes rows in parallel (0: GOMAXPROCS). The files are the
	// same bytes whatever the number of workers.
	Workers int
}

// DefaultOptions is the data set `make run` loads.
func DefaultOptions() Options {
	return Options{Seed: 20261121, FirstYear: 2019, LastYear: 2024, Scale: 1}
}

// Generate writes the demo data set into dir (created if needed; existing
// files of the same names are replaced) and returns its manifest, also
// written as dir/manifest.json. Cancelling ctx stops it between tasks.
func Generate(ctx context.Context, dir string, o Options) (*Manifest, error) {
	return generateFiles(ctx, dir, o)
}
