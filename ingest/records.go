package ingest

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Record is a decoded, validated row of one kind. The concrete types are
// *Liquidation, *Payment, *GELMeasurement, *BudgetLine and *Entity.
type Record interface {
	Kind() Kind
	Provenance() *Origin
}

// Origin says where a record or a reject came from.
type Origin struct {
	Source string // SourceConfig.Name
	File   string // file path, or URL of the document or Socrata dataset
	Page   int    // Socrata page, 1-based (0 for files and plain HTTP documents)
	Line   int    // CSV: physical line where the row starts (the header is line 1 when present)
	Index  int    // JSON: 1-based index of the object in its page or document
	Row    int64  // 1-based sequence number of the data row within the stream
	// Warnings are non-fatal findings on a record: a 4-digit DIVIPOLA code
	// that was left-padded, mojibake in a text field, and so on.
	Warnings []Issue
}

// Where formats the location for people: "archivo «x», línea 12" or
// "«url», página 2, registro 17".
func (o Origin) Where() string {
	switch {
	case o.Page > 0:
		return fmt.Sprintf("«%s», página %d, registro %d", o.File, o.Page, o.Index)
	case o.Index > 0:
		return fmt.Sprintf("«%s», registro %d", o.File, o.Index)
	default:
		return fmt.Sprintf("archivo «%s», línea %d", o.File, o.Line)
	}
}

// Liquidation is a tax liquidation (predial bill) or declaration (ICA,
// ReteICA) as published by a municipality, with the inputs the liquidation
// core needs to recompute it. Personal fields (see Schema.PersonalFields)
// are parsed only so the ETL can pseudonymize or drop them.
type Liquidation struct {
	Origin Origin `csv:"-"`

	LiquidationID    string `csv:"liquidation_id"`
	MunicipalityCode string `csv:"municipality_code"`
	Tax              string `csv:"tax"`
	TaxYear          int    `csv:"tax_year"`
	Period           string `csv:"period"`

	TaxpayerID      string `csv:"taxpayer_id"`
	TaxpayerIDDV    string `csv:"taxpayer_id_dv"`
	TaxpayerIDType  string `csv:"taxpayer_id_type"`
	TaxpayerKind    string `csv:"taxpayer_kind"`
	TaxpayerName    string `csv:"taxpayer_name"`
	TaxpayerAddress string `csv:"taxpayer_address"`
	TaxpayerPhone   string `csv:"taxpayer_phone"`
	TaxpayerEmail   string `csv:"taxpayer_email"`
	PropertyID      string `csv:"property_id"`

	IssueDate     Date   `csv:"issue_date"`
	DueDate       *Date  `csv:"due_date,omitempty"`
	FilingChannel string `csv:"filing_channel"`

	// Predial inputs.
	Avaluo       *decimal.Decimal `csv:"avaluo,omitempty"`
	Destino      string           `csv:"destino"`
	Estrato      *int             `csv:"estrato,omitempty"`
	Sector       string           `csv:"sector"`
	AreaM2       *decimal.Decimal `csv:"area_m2,omitempty"`
	BuiltAreaM2  *decimal.Decimal `csv:"built_area_m2,omitempty"`
	PriorYearTax *decimal.Decimal `csv:"prior_year_tax,omitempty"`
	RatePerMille *decimal.Decimal `csv:"rate_per_mille,omitempty"`

	// ICA inputs.
	GrossIncome   *decimal.Decimal `csv:"gross_income,omitempty"`
	IncomeOutside *decimal.Decimal `csv:"income_outside,omitempty"`
	Deductions    *decimal.Decimal `csv:"deductions,omitempty"`
	TaxableIncome *decimal.Decimal `csv:"taxable_income,omitempty"`
	CIIU          string           `csv:"ciiu"`

	// Billed or declared lines.
	TaxAmount          *decimal.Decimal `csv:"tax_amount,omitempty"`
	AvisosTableros     *decimal.Decimal `csv:"avisos_tableros,omitempty"`
	SobretasaBomberil  *decimal.Decimal `csv:"sobretasa_bomberil,omitempty"`
	SobretasaAmbiental *decimal.Decimal `csv:"sobretasa_ambiental,omitempty"`
	Discount           *decimal.Decimal `csv:"discount,omitempty"`
	Interest           *decimal.Decimal `csv:"interest,omitempty"`
	Sanctions          *decimal.Decimal `csv:"sanctions,omitempty"`
	Withholdings       *decimal.Decimal `csv:"withholdings,omitempty"`
	TotalAmount        decimal.Decimal  `csv:"total_amount"`
}

// Payment is a payment of a municipal tax.
type Payment struct {
	Origin Origin `csv:"-"`

	PaymentID        string          `csv:"payment_id"`
	LiquidationID    string          `csv:"liquidation_id"`
	MunicipalityCode string          `csv:"municipality_code"`
	Tax              string          `csv:"tax"`
	TaxYear          int             `csv:"tax_year"`
	TaxpayerID       string          `csv:"taxpayer_id"`
	TaxpayerIDDV     string          `csv:"taxpayer_id_dv"`
	PaidAt           time.Time       `csv:"paid_at"`
	Amount           decimal.Decimal `csv:"amount"`
	Channel          string          `csv:"channel"`
	Bank             string          `csv:"bank"`
}

// GELMeasurement is one measurement of a Gobierno en Línea / Gobierno
// Digital criterion for an entity on a date.
type GELMeasurement struct {
	Origin Origin `csv:"-"`

	Framework   string          `csv:"framework"`
	Phase       string          `csv:"phase"`
	Criterion   string          `csv:"criterion"`
	EntityCode  string          `csv:"entity_code"`
	MeasuredOn  Date            `csv:"measured_on"`
	Value       decimal.Decimal `csv:"value"`
	Unit        string          `csv:"unit"`
	EvidenceURL string          `csv:"evidence_url"`
	Source      string          `csv:"source"`
	Synthetic   bool            `csv:"synthetic"`
}

// BudgetLine is a FUT / CUIPO final revenue budget line.
type BudgetLine struct {
	Origin Origin `csv:"-"`

	DepartmentCode string           `csv:"department_code"`
	DepartmentName string           `csv:"department_name"`
	EntityCode     string           `csv:"entity_code"`
	EntityName     string           `csv:"entity_name"`
	Rubro          string           `csv:"rubro"`
	Year           int              `csv:"year"`
	FinalBudget    decimal.Decimal  `csv:"final_budget"`
	Value2025      *decimal.Decimal `csv:"value_2025,omitempty"`
}

// Entity is a DIVIPOLA unit.
type Entity struct {
	Origin Origin `csv:"-"`

	DepartmentCode   string `csv:"department_code"`
	MunicipalityCode string `csv:"municipality_code"`
	DepartmentName   string `csv:"department_name"`
	MunicipalityName string `csv:"municipality_name"`
	UnitKind         string `csv:"kind"` // municipio, isla or area_no_municipalizada
}

// Kind implements Record.
func (*Liquidation) Kind() Kind { return KindLiquidation }

// Kind implements Record.
func (*Payment) Kind() Kind { return KindPayment }

// Kind implements Record.
func (*GELMeasurement) Kind() Kind { return KindGEL }

// Kind implements Record.
func (*BudgetLine) Kind() Kind { return KindBudgetLine }

// Kind implements Record.
func (*Entity) Kind() Kind { return KindEntity }

// Provenance implements Record.
func (r *Liquidation) Provenance() *Origin { return &r.Origin }

// Provenance implements Record.
func (r *Payment) Provenance() *Origin { return &r.Origin }

// Provenance implements Record.
func (r *GELMeasurement) Provenance() *Origin { return &r.Origin }

// Provenance implements Record.
func (r *BudgetLine) Provenance() *Origin { return &r.Origin }

// Provenance implements Record.
func (r *Entity) Provenance() *Origin { return &r.Origin }

// Date is a calendar date without time of day or zone.
type Date struct {
	y int32
	m uint8
	d uint8
}

// NewDate returns the date; it does not normalize out-of-range values.
func NewDate(year int, month time.Month, day int) Date {
	return Date{int32(year), uint8(month), uint8(day)}
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date { return NewDate(t.Date()) }

// Year, Month and Day return the date's parts.
func (d Date) Year() int { return int(d.y) }

// Month returns the month.
func (d Date) Month() time.Month { return time.Month(d.m) }

// Day returns the day of the month.
func (d Date) Day() int { return int(d.d) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns midnight UTC of the date.
func (d Date) Time() time.Time {
	return time.Date(int(d.y), time.Month(d.m), int(d.d), 0, 0, 0, 0, time.UTC)
}

// String formats the date as 2006-01-02.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.y, d.m, d.d)
}

// MarshalText implements encoding.TextMarshaler (2006-01-02).
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses 2006-01-02.
func (d *Date) UnmarshalText(b []byte) error { return d.UnmarshalCSV(string(b)) }

// MarshalCSV implements gocsv.TypeMarshaller.
func (d Date) MarshalCSV() (string, error) { return d.String(), nil }

// UnmarshalCSV implements gocsv.TypeUnmarshaller (canonical form 2006-01-02).
func (d *Date) UnmarshalCSV(s string) error {
	if s == "" {
		*d = Date{}
		return nil
	}
	y, m, dd, ok := parseISODate(s)
	if !ok {
		return fmt.Errorf("ingest: %q is not a date in the form 2006-01-02", s)
	}
	*d = NewDate(y, time.Month(m), dd)
	return nil
}

// parseISODate parses exactly YYYY-MM-DD and checks the calendar.
func parseISODate(s string) (y, m, d int, ok bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	y, ok1 := atoiFixed(s[0:4])
	m, ok2 := atoiFixed(s[5:7])
	d, ok3 := atoiFixed(s[8:10])
	if !ok1 || !ok2 || !ok3 || !validDate(y, m, d) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

func atoiFixed(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 || y < 1 || y > 9999 {
		return false
	}
	return d <= daysIn(y, m)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
