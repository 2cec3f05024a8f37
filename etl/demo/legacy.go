// The walking skeleton's generator (GenerateRows): rows handed to callbacks,
// loaded straight into the warehouse by etl.LoadDemo. It stays until the
// ETL loads the files written by Generate; its output must not change
// (cmd/observatory's tests count its rows).

package demo

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"
)

// Municipality is one demo municipality and its relative size.
type Municipality struct {
	Code   string
	Name   string
	Weight int // liquidations per year at scale 1
}

// Municipalities are the demo's three municipalities.
var Municipalities = []Municipality{
	{Code: "68001", Name: "Bucaramanga", Weight: 500},
	{Code: "18001", Name: "Florencia", Weight: 250},
	{Code: "25151", Name: "Cáqueza", Weight: 100},
}

// Liquidation is one synthetic liquidation as a municipal tax system would
// export it, with the taxpayer's raw id and name.
type Liquidation struct {
	ID            string
	Municipality  string
	Tax           string // predial | ica | reteica
	TaxYear       int
	TaxpayerID    string // raw cédula or NIT: personal, never stored
	TaxpayerName  string // personal, never stored
	TaxpayerKind  string // natural | juridica
	FilingChannel string // web | presencial
	IssueDate     time.Time
	DueDate       time.Time
	BaseAmount    decimal.Decimal
	Inputs        map[string]any
	BilledTotal   decimal.Decimal
	SourceLine    int
}

// InputsJSON is the inputs as stored (no personal data in them).
func (l *Liquidation) InputsJSON() string {
	b, _ := json.Marshal(l.Inputs)
	return string(b)
}

// Payment is one synthetic payment.
type Payment struct {
	ID            string
	LiquidationID string
	Municipality  string
	Tax           string
	TaxYear       int
	TaxpayerID    string
	PaidAt        time.Time
	Amount        decimal.Decimal
	Channel       string // web | pse | tarjeta | banco | presencial
	SourceLine    int
}

var (
	destinos = []struct {
		name  string
		tarif int64 // por mil
	}{{"habitacional", 5}, {"habitacional", 7}, {"comercial", 9}, {"industrial", 10}, {"lote_urbanizable_no_edificado", 16}}
	givenNames = []string{"María", "José", "Luz", "Carlos", "Ana", "Jorge", "Diana", "Luis", "Sandra", "Andrés"}
	surnames   = []string{"Rodríguez", "Gómez", "Martínez", "Díaz", "Pérez", "Ramírez", "Torres", "Rojas", "Vargas", "Moreno"}
	companies  = []string{"Comercializadora", "Distribuidora", "Inversiones", "Servicios", "Agroindustrias"}
)

// GenerateRows calls emitL for every liquidation and emitP for every
// payment, in a deterministic order for the seed. It is the walking
// skeleton's generator, used by etl.LoadDemo (which inserts the rows
// directly) until the ETL loads the files Generate writes; it reads
// Options.Seed, Scale, FirstYear and LastYear, and its data set is the one
// `make run` has shown so far (about 5,100 liquidations and 4,300 payments
// at DefaultOptions).
func GenerateRows(o Options, emitL func(*Liquidation) error, emitP func(*Payment) error) error {
	if o.Scale <= 0 {
		o.Scale = 1
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x0b5e7a7))
	lline, pline := 1, 1
	for _, m := range Municipalities {
		// A stable pool of taxpayers per municipality, so that the same
		// people pay year after year (what makes pseudonyms useful).
		pool := int(float64(m.Weight)*o.Scale*0.8) + 10
		for year := o.FirstYear; year <= o.LastYear; year++ {
			n := int(float64(m.Weight) * o.Scale)
			// Online adoption grows over the years: 15% in the first year,
			// about 60% in the last.
			online := 0.15 + 0.45*float64(year-o.FirstYear)/math.Max(1, float64(o.LastYear-o.FirstYear))
			for i := 0; i < n; i++ {
				lline++
				who := rng.IntN(pool)
				l := &Liquidation{
					ID:           fmt.Sprintf("%s-%d-%06d", m.Code, year, i+1),
					Municipality: m.Code,
					TaxYear:      year,
					SourceLine:   lline,
				}
				switch r := rng.Float64(); {
				case r < 0.6:
					fillPredial(rng, l, who)
				case r < 0.9:
					fillICA(rng, l, who)
				default:
					fillReteICA(rng, l, who)
				}
				l.FilingChannel = "presencial"
				if rng.Float64() < online {
					l.FilingChannel = "web"
				}
				if err := emitL(l); err != nil {
					return err
				}
				// 85% pay, most of them in full.
				if rng.Float64() >= 0.85 {
					continue
				}
				amount := l.BilledTotal
				if rng.Float64() < 0.1 {
					amount = amount.Mul(decimal.NewFromFloat(0.5)).Round(0)
				}
				days := rng.IntN(90) - 60
				paid := l.DueDate.AddDate(0, 0, days).Add(time.Duration(8+rng.IntN(10)) * time.Hour).Add(time.Duration(rng.IntN(3600)) * time.Second)
				channel := "presencial"
				if rng.Float64() < online {
					channel = []string{"web", "pse", "pse", "tarjeta"}[rng.IntN(4)]
				} else if rng.Float64() < 0.5 {
					channel = "banco"
				}
				pline++
				p := &Payment{
					ID:            fmt.Sprintf("P%s-%d-%06d", m.Code, year, i+1),
					LiquidationID: l.ID,
					Municipality:  m.Code,
					Tax:           l.Tax,
					TaxYear:       year,
					TaxpayerID:    l.TaxpayerID,
					PaidAt:        paid,
					Amount:        amount,
					Channel:       channel,
					SourceLine:    pline,
				}
				if err := emitP(p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func person(rng *rand.Rand, who int, kind string) (id, name string) {
	if kind == "juridica" {
		return fmt.Sprintf("9%08d-%d", 10000000+who*37, who%10), fmt.Sprintf("%s %s S.A.S.", companies[who%len(companies)], surnames[(who/5)%len(surnames)])
	}
	return fmt.Sprintf("%d", 10000000+who*7919), fmt.Sprintf("%s %s %s", givenNames[who%len(givenNames)], surnames[(who/3)%len(surnames)], surnames[(who/7)%len(surnames)])
}

func lognormal(rng *rand.Rand, median, sigma float64) decimal.Decimal {
	v := median * math.Exp(sigma*rng.NormFloat64())
	return decimal.NewFromInt(int64(v/1000) * 1000)
}

func fillPredial(rng *rand.Rand, l *Liquidation, who int) {
	l.Tax = "predial"
	l.TaxpayerKind = "natural"
	if who%9 == 0 {
		l.TaxpayerKind = "juridica"
	}
	l.TaxpayerID, l.TaxpayerName = person(rng, who, l.TaxpayerKind)
	d := destinos[rng.IntN(len(destinos))]
	l.BaseAmount = lognormal(rng, 90e6, 0.8)
	tax := l.BaseAmount.Mul(decimal.NewFromInt(d.tarif)).Div(decimal.NewFromInt(1000)).Round(0)
	l.Inputs = map[string]any{"destino": d.name, "estrato": 1 + rng.IntN(6), "tarifa_por_mil": d.tarif}
	l.IssueDate = time.Date(l.TaxYear, 1, 15, 0, 0, 0, 0, time.UTC)
	l.DueDate = time.Date(l.TaxYear, 3, 31, 0, 0, 0, 0, time.UTC)
	l.BilledTotal = tax
	// A few bills differ from the statute, so verification has something
	// to find.
	if rng.Float64() < 0.03 {
		l.BilledTotal = tax.Add(decimal.NewFromInt(int64(1000 * (1 + rng.IntN(50)))))
	}
}

func fillICA(rng *rand.Rand, l *Liquidation, who int) {
	l.Tax = "ica"
	l.TaxpayerKind = "juridica"
	if who%3 == 0 {
		l.TaxpayerKind = "natural"
	}
	l.TaxpayerID, l.TaxpayerName = person(rng, who, l.TaxpayerKind)
	l.BaseAmount = lognormal(rng, 400e6, 1.1)
	tarifa := []int64{4, 7, 10}[rng.IntN(3)]
	ica := l.BaseAmount.Mul(decimal.NewFromInt(tarifa)).Div(decimal.NewFromInt(1000))
	avisos := ica.Mul(decimal.NewFromFloat(0.15))
	total := ica.Add(avisos).Div(decimal.NewFromInt(1000)).Round(0).Mul(decimal.NewFromInt(1000)) // art. 577 rounding
	l.Inputs = map[string]any{"ciiu": []string{"4711", "5611", "6201"}[rng.IntN(3)], "tarifa_por_mil": tarifa, "avisos_y_tableros": true}
	l.IssueDate = time.Date(l.TaxYear+1, 3, 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
	l.DueDate = time.Date(l.TaxYear+1, 5, 31, 0, 0, 0, 0, time.UTC)
	l.BilledTotal = total
	if rng.Float64() < 0.04 {
		l.BilledTotal = total.Sub(decimal.NewFromInt(int64(1000 * (1 + rng.IntN(200)))))
	}
}

func fillReteICA(rng *rand.Rand, l *Liquidation, who int) {
	l.Tax = "reteica"
	l.TaxpayerKind = "juridica"
	l.TaxpayerID, l.TaxpayerName = person(rng, who, l.TaxpayerKind)
	l.BaseAmount = lognormal(rng, 60e6, 0.9)
	tarifa := []int64{4, 7, 10}[rng.IntN(3)]
	l.Inputs = map[string]any{"ciiu": "4711", "tarifa_por_mil": tarifa, "periodo": 1 + rng.IntN(6)}
	period := l.Inputs["periodo"].(int)
	l.IssueDate = time.Date(l.TaxYear, time.Month(2*period), 10, 0, 0, 0, 0, time.UTC)
	l.DueDate = l.IssueDate.AddDate(0, 0, 10)
	l.BilledTotal = l.BaseAmount.Mul(decimal.NewFromInt(tarifa)).Div(decimal.NewFromInt(1000)).Div(decimal.NewFromInt(1000)).Round(0).Mul(decimal.NewFromInt(1000))
}
