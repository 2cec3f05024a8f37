package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"

	"github.com/shopspring/decimal"
)

// Manifest describes what Generate wrote: every file with its rows, the
// rows that are bad on purpose (so that loaded + quarantined = read can be
// asserted), the liquidations that deliberately do not match the rules or
// cannot be verified, and the figures the data set is calibrated to. It is
// also written as dir/manifest.json.
type Manifest struct {
	Generator string  `json:"generator"`
	Seed      uint64  `json:"seed"`
	Scale     float64 `json:"scale"`
	// Cutoff is the "as of" date of the exports.
	Cutoff string `json:"cutoff"`
	// Config is the job configuration, relative to the folder.
	Config string `json:"config"`
	// Definitions explain the figures.
	Definitions map[string]string `json:"definitions"`
	Totals      Totals            `json:"totals"`
	Files       []FileInfo        `json:"files"`
	// Municipalities are the figures actually produced, by municipality.
	Municipalities []MunicipalityFigures `json:"municipalities"`
	GEL            []GELProgress         `json:"gel"`
	Calibration    Calibration           `json:"calibration"`
}

// Totals add up the files.
type Totals struct {
	Files         int   `json:"files"`
	DataRows      int64 `json:"data_rows"`
	Records       int64 `json:"records"`
	Rejected      int64 `json:"rejected"`
	Liquidations  int64 `json:"liquidations"`
	Payments      int64 `json:"payments"`
	GEL           int64 `json:"gel_measurements"`
	Discrepancies int64 `json:"discrepancies"`
	Unverifiable  int64 `json:"unverifiable"`
	Bytes         int64 `json:"bytes"`
}

// FileInfo is one written file.
type FileInfo struct {
	// Path is relative to the folder, with forward slashes.
	Path string `json:"path"`
	// Source is the name of the ingest source (and of the job) that reads it.
	Source       string `json:"source"`
	Record       string `json:"record"`
	Municipality string `json:"municipality,omitempty"`
	// Year is the vigencia (liquidations) or the calendar year of payment
	// (payments).
	Year      int    `json:"year,omitempty"`
	Encoding  string `json:"encoding"`
	Delimiter string `json:"delimiter"`
	Bytes     int64  `json:"bytes"`
	SHA256    string `json:"sha256"`
	// DataRows are the rows after the header (ingest's Stats.Read);
	// Records the good ones (Stats.Records); Rejected the bad ones.
	DataRows int `json:"data_rows"`
	Records  int `json:"records"`
	Rejected int `json:"rejected"`
	// BadRows counts the bad rows by the reject code ingest gives them;
	// BadRowList gives their physical lines.
	BadRows    map[string]int `json:"bad_rows"`
	BadRowList []BadRow       `json:"bad_row_list"`
	// Discrepancies count the liquidations deliberately off the rules, by
	// kind (the core finds them as "discrepancy"); Unverifiable those
	// deliberately missing an input or a rule ("unverifiable").
	Discrepancies        map[string]int `json:"discrepancies,omitempty"`
	DiscrepancyExamples  []string       `json:"discrepancy_examples,omitempty"`
	Unverifiable         map[string]int `json:"unverifiable,omitempty"`
	UnverifiableExamples []string       `json:"unverifiable_examples,omitempty"`
	// Cartera counts the payments of vigencias before the export (no
	// liquidation id) in a payments file.
	Cartera int `json:"cartera_payments,omitempty"`
}

// BadRow is one deliberately bad row.
type BadRow struct {
	Line int    `json:"line"`
	Code string `json:"code"`
}

// MunicipalityFigures are the figures produced for one municipality.
type MunicipalityFigures struct {
	Code string `json:"code"`
	Name string `json:"name"`
	// Liquidations by tax; Payments by tax.
	Liquidations map[string]int64 `json:"liquidations"`
	Payments     map[string]int64 `json:"payments"`
	// CollectionsByYear: pesos paid by calendar year of payment (all
	// taxes), and by year and tax.
	CollectionsByYear    map[string]string            `json:"collections_by_year"`
	CollectionsByYearTax map[string]map[string]string `json:"collections_by_year_and_tax"`
	// Quarters: payments by channel and declarations by filing channel,
	// per quarter (of payment, of filing) and tax.
	Quarters      []QuarterFigures `json:"quarters"`
	Discrepancies map[string]int64 `json:"discrepancies"`
	Unverifiable  map[string]int64 `json:"unverifiable"`
}

// QuarterFigures are one quarter's counts for one tax.
type QuarterFigures struct {
	Quarter            string           `json:"quarter"` // 2020-Q3
	Tax                string           `json:"tax"`
	Payments           map[string]int64 `json:"payments_by_channel,omitempty"`
	ElectronicPayments int64            `json:"electronic_payments"`
	// Liquidations by the quarter of their issue date (bills) or filing
	// date (declarations), and those issued or filed on line.
	Liquidations       int64 `json:"liquidations"`
	LiquidationsOnline int64 `json:"liquidations_online"`
}

// GELProgress is one phase of one measurement.
type GELProgress struct {
	Entity    string `json:"entity"`
	Date      string `json:"date"`
	Phase     string `json:"phase"`
	Criteria  int    `json:"criteria"`
	Met       int    `json:"met"`
	Percent   string `json:"percent"`
	Synthetic bool   `json:"synthetic"`
}

// Calibration are the seed figures as produced.
type Calibration struct {
	// Bucaramanga, third quarter of 2020 (seed 001).
	BucaramangaQ3 BucaramangaQ3 `json:"bucaramanga_2020_q3"`
	// Florencia's collections, 2013 over 2012 (seed 000).
	Florencia FlorenciaGrowth `json:"florencia_2013_over_2012"`
	// Cáqueza's GEL diagnosis of August 2009 (seed 002): percent by phase.
	CaquezaGEL2009 map[string]string `json:"caqueza_gel_2009_08"`
}

// BucaramangaQ3 are the counts of the third quarter of 2020.
type BucaramangaQ3 struct {
	ElectronicPayments      map[string]int64 `json:"electronic_payments"`
	ElectronicPaymentsTotal int64            `json:"electronic_payments_total"`
	OnlineDeclarations      map[string]int64 `json:"online_declarations"`
	OnlineDeclarationsTotal int64            `json:"online_declarations_total"`
}

// FlorenciaGrowth compares Florencia's collections of 2013 and 2012.
type FlorenciaGrowth struct {
	Collections2012 string `json:"collections_2012"`
	Collections2013 string `json:"collections_2013"`
	// Ratio is 2013 / 2012 (target 1.20 ± 0.005).
	Ratio string `json:"ratio"`
}

var taxNames = [3]string{"predial", "ica", "reteica"}
var channelNames = [5]string{"web", "pse", "tarjeta", "banco", "presencial"}

func definitions() map[string]string {
	return map[string]string{
		"electronic_payment":  "pago cuyo canal canónico es web, pse o tarjeta (banco y presencial no lo son)",
		"online_declaration":  "liquidación de ICA o ReteICA con filing_channel = web, contada por el trimestre de su issue_date (fecha de presentación)",
		"collections":         "suma de amount de los pagos por año calendario de paid_at (hora de Colombia), todos los impuestos, incluidos los pagos de vigencias anteriores sin liquidación (cartera)",
		"quarter":             "trimestre calendario de paid_at (pagos) o de issue_date (liquidaciones)",
		"bad_rows":            "filas malas a propósito: ingest las rechaza con el código indicado; records + rejected = data_rows",
		"discrepancies":       "liquidaciones (2 %, al azar) cuyos valores se alteraron a propósito después de liquidarlas con el núcleo: la verificación da discrepancy",
		"unverifiable":        "liquidaciones (1 %, al azar) a las que se les quitó a propósito un dato (impuesto anterior, avalúo) o que usan un destino o una actividad sin regla: la verificación da unverifiable",
		"liquidation_amounts": "valores liquidados o declarados sin fecha de pago (como los compara etl/recompute): sin descuento por pronto pago ni intereses; el pago los aplica",
		"payment_amount":      "total del núcleo de liquidación a la fecha de pago (descuento, alivio del Decreto 678 de 2020, intereses), redondeado al peso",
	}
}

// figures turns a municipality's counters into its manifest entry.
func figures(m *muniProfile, st *muniStats) MunicipalityFigures {
	f := MunicipalityFigures{Code: m.code, Name: m.name, Liquidations: map[string]int64{}, Payments: map[string]int64{},
		CollectionsByYear: map[string]string{}, CollectionsByYearTax: map[string]map[string]string{},
		Discrepancies: map[string]int64{}, Unverifiable: map[string]int64{}}
	for y := 0; y < yearSlots; y++ {
		year := strconv.Itoa(2011 + y)
		var sum int64
		for t := 0; t < 3; t++ {
			f.Liquidations[taxNames[t]] += st.liqN[y][t]
			sum += st.paySum[y][t]
			if st.paySum[y][t] != 0 {
				if f.CollectionsByYearTax[year] == nil {
					f.CollectionsByYearTax[year] = map[string]string{}
				}
				f.CollectionsByYearTax[year][taxNames[t]] = strconv.FormatInt(st.paySum[y][t], 10)
			}
			for k, n := range st.dev[y][t] {
				if n == 0 {
					continue
				}
				if k < uPrior {
					f.Discrepancies[devNames[k]] += n
				} else {
					f.Unverifiable[devNames[k]] += n
				}
			}
			for q := 0; q < 4; q++ {
				qf := QuarterFigures{Quarter: fmt.Sprintf("%s-Q%d", year, q+1), Tax: taxNames[t], Payments: map[string]int64{}}
				for c := 0; c < 5; c++ {
					n := st.pay[y][q][t][c]
					f.Payments[taxNames[t]] += n
					if n > 0 {
						qf.Payments[channelNames[c]] = n
					}
					if c < 3 {
						qf.ElectronicPayments += n
					}
				}
				qf.LiquidationsOnline = st.decl[y][q][t][0]
				qf.Liquidations = st.decl[y][q][t][0] + st.decl[y][q][t][1]
				if len(qf.Payments) > 0 || qf.Liquidations > 0 {
					f.Quarters = append(f.Quarters, qf)
				}
			}
		}
		if sum != 0 {
			f.CollectionsByYear[year] = strconv.FormatInt(sum, 10)
		}
	}
	return f
}

func (man *Manifest) finish(stats map[string]*muniStats) {
	for _, m := range profiles {
		man.Municipalities = append(man.Municipalities, figures(m, stats[m.code]))
	}
	sort.SliceStable(man.Files, func(i, j int) bool { return man.Files[i].Path < man.Files[j].Path })
	t := &man.Totals
	for _, f := range man.Files {
		t.Files++
		t.DataRows += int64(f.DataRows)
		t.Records += int64(f.Records)
		t.Rejected += int64(f.Rejected)
		t.Bytes += f.Bytes
		switch f.Record {
		case "liquidation":
			t.Liquidations += int64(f.Records)
		case "payment":
			t.Payments += int64(f.Records)
		case "gel_measurement":
			t.GEL += int64(f.Records)
		}
		for _, n := range f.Discrepancies {
			t.Discrepancies += int64(n)
		}
		for _, n := range f.Unverifiable {
			t.Unverifiable += int64(n)
		}
	}
	// calibration
	b := stats[bucaramanga.code]
	q3 := BucaramangaQ3{ElectronicPayments: map[string]int64{}, OnlineDeclarations: map[string]int64{}}
	for t := 0; t < 3; t++ {
		for c := 0; c < 3; c++ {
			q3.ElectronicPayments[taxNames[t]] += b.pay[slot(2020)][2][t][c]
		}
		q3.ElectronicPaymentsTotal += q3.ElectronicPayments[taxNames[t]]
		if t > 0 {
			q3.OnlineDeclarations[taxNames[t]] = b.decl[slot(2020)][2][t][0]
			q3.OnlineDeclarationsTotal += b.decl[slot(2020)][2][t][0]
		}
	}
	man.Calibration.BucaramangaQ3 = q3
	fl := stats[florencia.code]
	var c12, c13 int64
	for t := 0; t < 3; t++ {
		c12 += fl.paySum[slot(2012)][t]
		c13 += fl.paySum[slot(2013)][t]
	}
	man.Calibration.Florencia = FlorenciaGrowth{Collections2012: strconv.FormatInt(c12, 10), Collections2013: strconv.FormatInt(c13, 10)}
	if c12 > 0 {
		man.Calibration.Florencia.Ratio = decimal.NewFromInt(c13).DivRound(decimal.NewFromInt(c12), 6).String()
	}
	man.Calibration.CaquezaGEL2009 = map[string]string{}
	for _, p := range man.GEL {
		if p.Entity == "25151" && p.Date == "2009-08-31" {
			man.Calibration.CaquezaGEL2009[p.Phase] = p.Percent
		}
	}
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
