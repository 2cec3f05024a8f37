package etl

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/etl/recompute"
	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/internal/jsontext"
	"github.com/observatorio-civico/observatorio/liquidation"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// Warehouse columns the ETL writes, per table, in order.
var (
	LiquidationColumns = []string{"liquidation_id", "municipality_code", "tax", "tax_year", "taxpayer_pseudonym", "taxpayer_kind",
		"filing_channel", "issue_date", "due_date", "base_amount", "inputs", "billed_total", "expected_total",
		"verification_status", "verification_diff", "verification_detail", "source", "source_file", "source_line", "run_id", "loaded_at"}
	PaymentColumns = []string{"payment_id", "liquidation_id", "municipality_code", "tax", "tax_year", "taxpayer_pseudonym",
		"paid_at", "paid_date", "amount", "channel", "source", "source_file", "source_line", "run_id", "loaded_at"}
	GELColumns = []string{"framework", "phase", "criterion", "entity_code", "measured_on", "value", "unit", "evidence_url", "synthetic",
		"source", "source_file", "source_line", "run_id", "loaded_at"}
	BudgetColumns = []string{"department_code", "entity_code", "entity_name", "rubro", "year", "budget_final", "budget_constant_2025",
		"source", "source_file", "source_line", "run_id", "loaded_at"}
	EntityColumns     = []string{"code", "department_code", "department_name", "name", "kind", "updated_at"}
	QuarantineColumns = []string{"job", "source", "source_file", "source_line", "field", "raw", "code", "reason", "run_id", "quarantined_at"}
)

// tableOf is the warehouse table of each record kind.
var tableOf = map[ingest.Kind]string{
	ingest.KindLiquidation: "liquidations",
	ingest.KindPayment:     "payments",
	ingest.KindGEL:         "gel_measurements",
	ingest.KindBudgetLine:  "budget_lines",
	ingest.KindEntity:      "entities",
	ingest.KindGELAction:   "gel_action_items",
	ingest.KindGDIndex:     "gel_index_scores",
}

var columnsOf = map[ingest.Kind][]string{
	ingest.KindLiquidation: LiquidationColumns,
	ingest.KindPayment:     PaymentColumns,
	ingest.KindGEL:         GELColumns,
	ingest.KindBudgetLine:  BudgetColumns,
	ingest.KindEntity:      EntityColumns,
	ingest.KindGELAction:   GELActionColumns,
	ingest.KindGDIndex:     GDIndexColumns,
}

// transformer turns decoded records into warehouse rows. It is where
// personal data stops: taxpayer ids become keyed pseudonyms, names,
// addresses, phones and emails are never copied, and every liquidation is
// recomputed by the liquidation core and stored with its verdict.
type transformer struct {
	pseudo *Pseudonymizer
	rules  *liquidation.Rules
	runID  string
	now    time.Time
	// A worker's request and verifier (forWorker), refilled and reused for
	// each liquidation.
	req      *liquidation.Request
	verifier *liquidation.Verifier
	// scratch holds a row's pseudonym, then its inputs, while they are
	// copied into the block. A per-row array escaped to the heap (the hash
	// writes through an interface): 512 bytes of garbage per liquidation,
	// a quarter of the load's allocations.
	scratch []byte
}

// forWorker is a copy of t for one transform goroutine; rows are written
// only through such copies.
func (t *transformer) forWorker() *transformer {
	w := *t
	w.req = &liquidation.Request{}
	w.verifier = t.rules.Verifier()
	w.scratch = nil
	return &w
}

// line is the row's position in its source: the physical line for CSV, the
// row's sequence number for JSON documents and Socrata pages.
func line(o *ingest.Origin) int64 {
	if o.Line > 0 {
		return int64(o.Line)
	}
	return o.Row
}

func dec(d *decimal.Decimal) decimal.Decimal {
	if d == nil {
		return decimal.Zero
	}
	return *d
}

// appendLiquidationInputs appends the non-personal inputs kept with a
// liquidation, as JSON: what the rules used, so the verification can be
// re-run and read. Written by hand, in a fixed order: it runs once per
// source row.
func appendLiquidationInputs(b []byte, l *ingest.Liquidation) []byte {
	start := len(b)
	b = append(b, '{')
	key := func(k string) { // keys are plain ASCII: no escaping
		if len(b) > start+1 {
			b = append(b, ',')
		}
		b = append(append(append(b, '"'), k...), '"', ':')
	}
	str := func(k, v string) {
		if v != "" {
			key(k)
			b = jsontext.AppendString(b, v)
		}
	}
	num := func(k string, d *decimal.Decimal) {
		if d != nil {
			key(k)
			b = append(appendDecimal(append(b, '"'), *d), '"')
		}
	}
	str("periodo", l.Period)
	str("destino", l.Destino)
	if l.Estrato != nil {
		key("estrato")
		b = append(strconv.AppendInt(append(b, '"'), int64(*l.Estrato), 10), '"')
	}
	str("sector", l.Sector)
	num("avaluo", l.Avaluo)
	num("area_m2", l.AreaM2)
	num("area_construida_m2", l.BuiltAreaM2)
	num("impuesto_anterior", l.PriorYearTax)
	num("tarifa_por_mil", l.RatePerMille)
	num("ingresos_brutos", l.GrossIncome)
	num("ingresos_fuera", l.IncomeOutside)
	num("deducciones", l.Deductions)
	num("base_gravable", l.TaxableIncome)
	str("ciiu", l.CIIU)
	num("impuesto", l.TaxAmount)
	num("avisos_tableros", l.AvisosTableros)
	num("sobretasa_bomberil", l.SobretasaBomberil)
	num("sobretasa_ambiental", l.SobretasaAmbiental)
	num("descuento", l.Discount)
	num("intereses", l.Interest)
	num("sanciones", l.Sanctions)
	num("retenciones", l.Withholdings)
	return append(b, '}')
}

// appendDecimal appends d.String() (plain notation, trailing fraction
// zeros trimmed) without formatting a big.Int when the coefficient fits
// in an int64, which every amount in pesos does.
func appendDecimal(b []byte, d decimal.Decimal) []byte {
	exp := int(d.Exponent())
	if !decimal.TrimTrailingZeros || decimal.UseScientificNotation || exp > 0 || exp < -18 || d.NumDigits() > 18 {
		return append(b, d.String()...)
	}
	c := d.CoefficientInt64()
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	if exp == 0 {
		return strconv.AppendInt(b, c, 10)
	}
	var digits [20]byte
	ds := strconv.AppendInt(digits[:0], c, 10)
	frac := -exp
	var whole, fraction []byte
	zeros := 0
	if len(ds) > frac {
		whole, fraction = ds[:len(ds)-frac], ds[len(ds)-frac:]
	} else {
		whole, zeros, fraction = []byte{'0'}, frac-len(ds), ds
	}
	for len(fraction) > 0 && fraction[len(fraction)-1] == '0' {
		fraction = fraction[:len(fraction)-1]
	}
	b = append(b, whole...)
	if len(fraction) == 0 {
		return b
	}
	b = append(b, '.')
	for range zeros {
		b = append(b, '0')
	}
	return append(b, fraction...)
}

func baseAmount(l *ingest.Liquidation) decimal.Decimal {
	switch {
	case l.Avaluo != nil:
		return *l.Avaluo
	case l.TaxableIncome != nil:
		return *l.TaxableIncome
	case l.GrossIncome != nil:
		return *l.GrossIncome
	}
	return decimal.Zero
}

// verificationDetail is the verdict's explanation, stored as JSON: the
// reason when unverifiable, and each published line's status and
// difference. A full match needs no explanation and stores none.
func verificationDetail(v *liquidation.Verification) string {
	if v.Status == liquidation.StatusMatch {
		return ""
	}
	type check struct {
		Code       string `json:"renglon"`
		Status     string `json:"estado"`
		Difference string `json:"diferencia,omitempty"`
		Reason     string `json:"motivo,omitempty"`
	}
	d := struct {
		Reason string  `json:"motivo,omitempty"`
		Field  string  `json:"campo,omitempty"`
		Lines  []check `json:"renglones,omitempty"`
	}{Reason: v.Reason, Field: v.Field}
	for _, c := range v.Lines {
		ch := check{Code: c.Code, Status: string(c.Status), Reason: c.Reason}
		if !c.Difference.IsZero() {
			ch.Difference = c.Difference.String()
		}
		d.Lines = append(d.Lines, ch)
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// liquidation writes a liquidation's row (LiquidationColumns) and returns
// its verification status.
func (t *transformer) liquidation(b *warehouse.Block, l *ingest.Liquidation) string {
	recompute.Fill(t.req, t.rules, l)
	v := t.verifier.Verify(t.req)
	expected, diff := l.TotalAmount, decimal.Zero
	if v.Total != nil {
		diff = v.Total.Difference
		if v.Total.HasExpected {
			expected = v.Total.Expected
		}
	}
	due := l.IssueDate
	if l.DueDate != nil {
		due = *l.DueDate
	}
	o := &l.Origin
	b.String(l.LiquidationID)
	b.String(l.MunicipalityCode)
	b.String(l.Tax)
	b.Int(int64(l.TaxYear))
	b.StringBytes(t.keep(t.pseudo.AppendPseudonym(t.scratch[:0], l.TaxpayerID)))
	b.String(l.TaxpayerKind)
	b.String(l.FilingChannel)
	b.Time(l.IssueDate.Time())
	b.Time(due.Time())
	b.Decimal(baseAmount(l))
	b.StringBytes(t.keep(appendLiquidationInputs(t.scratch[:0], l)))
	b.Decimal(l.TotalAmount)
	b.Decimal(expected)
	b.String(string(v.Status))
	b.Decimal(diff)
	b.String(verificationDetail(v))
	t.provenance(b, o, o.Source)
	return string(v.Status)
}

// keep returns buf after keeping its array as the scratch for the next
// row (the block copies it).
func (t *transformer) keep(buf []byte) []byte {
	t.scratch = buf
	return buf
}

// provenance writes the columns every source row ends with: source, file,
// line, run and load time.
func (t *transformer) provenance(b *warehouse.Block, o *ingest.Origin, source string) {
	b.String(source)
	b.String(o.File)
	b.Int(line(o))
	b.String(t.runID)
	b.Time(t.now)
}

// payment writes a payment's row (PaymentColumns).
func (t *transformer) payment(b *warehouse.Block, p *ingest.Payment) {
	b.String(p.PaymentID)
	b.String(p.LiquidationID)
	b.String(p.MunicipalityCode)
	b.String(p.Tax)
	b.Int(int64(p.TaxYear))
	b.StringBytes(t.keep(t.pseudo.AppendPseudonym(t.scratch[:0], p.TaxpayerID)))
	b.Time(p.PaidAt)
	b.Time(dayIn(p.PaidAt, bogota))
	b.Decimal(p.Amount)
	b.String(p.Channel)
	t.provenance(b, &p.Origin, p.Origin.Source)
}

func (t *transformer) gel(g *ingest.GELMeasurement) []any {
	o := &g.Origin
	synthetic := 0
	if g.Synthetic {
		synthetic = 1
	}
	source := o.Source
	if g.Source != "" {
		source = g.Source
	}
	return []any{g.Framework, g.Phase, g.Criterion, g.EntityCode, g.MeasuredOn.Time(), g.Value, g.Unit, g.EvidenceURL, synthetic,
		source, o.File, line(o), t.runID, t.now}
}

func (t *transformer) budget(b *ingest.BudgetLine) []any {
	o := &b.Origin
	var v2025 any // NULL when the source has no constant-price value
	if b.Value2025 != nil {
		v2025 = *b.Value2025
	}
	return []any{b.DepartmentCode, b.EntityCode, b.EntityName, b.Rubro, b.Year, b.FinalBudget, v2025,
		o.Source, o.File, line(o), t.runID, t.now}
}

var entityKinds = map[string]string{"municipio": "Municipio", "isla": "Isla", "area_no_municipalizada": "Área no municipalizada"}

func (t *transformer) entity(e *ingest.Entity) []any {
	kind := entityKinds[e.UnitKind]
	if kind == "" {
		kind = e.UnitKind
	}
	return []any{e.MunicipalityCode, e.DepartmentCode, e.DepartmentName, e.MunicipalityName, kind, t.now}
}

// write appends a record's row to its table's block and returns the
// liquidation's verification status ("" for other records). Liquidations
// and payments, the large tables, are written value by value; the others
// go through a row of values.
func (t *transformer) write(b *warehouse.Block, r ingest.Record) (string, error) {
	var status string
	switch x := r.(type) {
	case *ingest.Liquidation:
		status = t.liquidation(b, x)
	case *ingest.Payment:
		t.payment(b, x)
	case *ingest.GELMeasurement:
		return "", b.AppendRow(t.gel(x))
	case *ingest.BudgetLine:
		return "", b.AppendRow(t.budget(x))
	case *ingest.Entity:
		return "", b.AppendRow(t.entity(x))
	case *ingest.GELActionItem:
		return "", b.AppendRow(t.gelAction(x))
	case *ingest.GDIndexScore:
		return "", b.AppendRow(t.gdIndex(x))
	default:
		return "", fmt.Errorf("registro de tipo %T sin tabla", r)
	}
	return status, b.EndRow()
}

// sourceFieldOf names the source field behind a warehouse column, where
// the column holds one field as it is.
var sourceFieldOf = map[string]string{
	"billed_total": "total_amount", "tax_year": "tax_year", "amount": "amount", "budget_final": "final_budget",
	"budget_constant_2025": "value_2025", "value": "value", "issue_date": "issue_date", "due_date": "due_date",
	"paid_at": "paid_at", "measured_on": "measured_on",
}

// unfitReject is the quarantine entry of a record with a value its
// warehouse column cannot hold.
func unfitReject(r ingest.Record, ve *warehouse.ValueError) ingest.Reject {
	field := sourceFieldOf[ve.Column]
	if field == "" {
		field = ve.Column
	}
	raw := fmt.Sprint(ve.Value)
	if d, ok := ve.Value.(decimal.Decimal); ok {
		raw = d.String()
	}
	return ingest.Reject{Origin: *r.Provenance(), Issue: ingest.Issue{Field: field, Raw: raw, Code: ingest.CodeRange,
		Reason: fmt.Sprintf("el valor no cabe en la columna %s del almacén: %v", ve.Column, ve.Err)}}
}

// personalOmitted replaces the raw text of a personal field in quarantine:
// a rejected row must not bring a cédula or a name into the warehouse.
const personalOmitted = "[dato personal omitido]"

func (t *transformer) quarantine(job string, rj *ingest.Reject, personal map[string]bool) []any {
	raw := rj.Raw
	if personal[rj.Field] {
		raw = personalOmitted
	}
	return []any{job, rj.Source, rj.File, line(&rj.Origin), rj.Field, raw, rj.Code, rj.Reason, t.runID, t.now}
}

// dayIn is the calendar day of t in loc, as midnight UTC (how Date
// columns are written).
func dayIn(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// bogota is the time zone of payment dates: a payment at 23:30 in Bogotá
// belongs to that day, not to the next UTC day.
var bogota = func() *time.Location {
	loc, err := time.LoadLocation("America/Bogota")
	if err != nil {
		return time.FixedZone("COT", -5*3600) // Colombia has no daylight saving time
	}
	return loc
}()
