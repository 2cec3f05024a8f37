package liquidation

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// Tax names accepted in Request.Tax.
const (
	TaxPredial = "predial"
	TaxICA     = "ica"
	TaxReteICA = "reteica"
)

// Request is one liquidation to compute or verify. It is JSON-serializable; money
// values accept JSON strings or numbers and are parsed exactly as decimals.
type Request struct {
	// ID is an opaque identifier echoed in the result (e.g. the ETL row key).
	ID string `json:"id,omitempty"`
	// Tax is "predial", "ica" or "reteica".
	Tax string `json:"tax"`
	// Municipality is the 5-digit DIVIPOLA code.
	Municipality string `json:"municipality"`
	// Year is the vigencia (predial), año gravable (ICA) or year of the period (ReteICA).
	Year int `json:"year"`

	Predial *PredialInput `json:"predial,omitempty"`
	ICA     *ICAInput     `json:"ica,omitempty"`
	ReteICA *ReteICAInput `json:"reteica,omitempty"`

	// PaymentDate is when the amount was (or will be) paid: it drives pronto-pago
	// discounts and late-payment interest.
	PaymentDate Date `json:"payment_date,omitzero"`
	// FilingDate is when the declaration was filed (ICA, ReteICA): it drives the
	// late-filing sanction. Defaults to PaymentDate.
	FilingDate Date `json:"filing_date,omitzero"`

	// Declared holds published amounts by line code (e.g. "P05", "20", "R04").
	Declared map[string]decimal.Decimal `json:"declared,omitempty"`
	// DeclaredTotal is the published total to pay.
	DeclaredTotal decimal.NullDecimal `json:"declared_total,omitzero"`

	// Explain asks for the parameters used by each line (off on the fast path).
	Explain bool `json:"explain,omitempty"`
}

// PredialInput are the inputs of the impuesto predial unificado.
type PredialInput struct {
	// Avaluo is the avalúo catastral (or autoavalúo) in pesos.
	Avaluo decimal.NullDecimal `json:"avaluo,omitzero"`
	// Destino is the destino económico code of the municipality's rules (e.g. "habitacional").
	Destino string `json:"destino"`
	// Estrato is the socioeconomic stratum 1..6 (0 = not applicable).
	Estrato int `json:"estrato,omitempty"`
	// ImpuestoAnterior is last year's predial tax (same concept), for the increase limits.
	ImpuestoAnterior decimal.NullDecimal `json:"impuesto_anterior,omitzero"`
	// FormacionCatastral: the avalúo comes from a formación catastral this year (Ley 44 de 1990 art. 6).
	FormacionCatastral bool `json:"formacion_catastral,omitempty"`
	// ActualizacionCatastral: the property was subject to actualización catastral (Ley 1995 de 2019 art. 2).
	ActualizacionCatastral bool `json:"actualizacion_catastral,omitempty"`
	// Exceptions to the limits.
	PrimeraInscripcion bool `json:"primera_inscripcion,omitempty"`
	NuevaConstruccion  bool `json:"nueva_construccion,omitempty"`
	CambioDestino      bool `json:"cambio_destino,omitempty"`
	CambioArea         bool `json:"cambio_area,omitempty"`
	Autoavaluo         bool `json:"autoavaluo,omitempty"`
}

// ICAInput are the inputs of the ICA declaration (renglones of the Formulario Único
// Nacional, Resolución 4056 de 2017). Unset optional amounts are zero.
type ICAInput struct {
	IngresosTotales     decimal.NullDecimal `json:"ingresos_totales,omitzero"`     // renglón 8
	IngresosFuera       decimal.NullDecimal `json:"ingresos_fuera,omitzero"`       // renglón 9
	Devoluciones        decimal.NullDecimal `json:"devoluciones,omitzero"`         // renglón 11
	Exportaciones       decimal.NullDecimal `json:"exportaciones,omitzero"`        // renglón 12
	ActivosFijos        decimal.NullDecimal `json:"activos_fijos,omitzero"`        // renglón 13
	Excluidos           decimal.NullDecimal `json:"excluidos,omitzero"`            // renglón 14
	Exentos             decimal.NullDecimal `json:"exentos,omitzero"`              // renglón 15
	Actividades         []ICAActivity       `json:"actividades"`                   // renglón 17 detail
	UnidadesFinancieras decimal.NullDecimal `json:"unidades_financieras,omitzero"` // renglón 22
	SobretasaSeguridad  decimal.NullDecimal `json:"sobretasa_seguridad,omitzero"`  // renglón 24
	Exencion            decimal.NullDecimal `json:"exencion,omitzero"`             // renglón 26
	Retenciones         decimal.NullDecimal `json:"retenciones,omitzero"`          // renglón 27
	Autorretenciones    decimal.NullDecimal `json:"autorretenciones,omitzero"`     // renglón 28
	AnticipoAnterior    decimal.NullDecimal `json:"anticipo_anterior,omitzero"`    // renglón 29
	// LiquidarAnticipo: whether this year's anticipo (renglón 30) is due. Default true.
	LiquidarAnticipo   *bool               `json:"liquidar_anticipo,omitempty"`
	SaldoFavorAnterior decimal.NullDecimal `json:"saldo_favor_anterior,omitzero"` // renglón 32
	Sancion            SanctionInput       `json:"sancion,omitzero"`
}

// ICAActivity is one taxed activity (CIIU code and its gross taxable income).
type ICAActivity struct {
	CIIU     string              `json:"ciiu"`
	Ingresos decimal.NullDecimal `json:"ingresos,omitzero"`
}

// SanctionInput holds the facts the late-filing sanction depends on.
type SanctionInput struct {
	// InfraccionAnterior is the date of the last time the same conduct was committed
	// (ET art. 640); unset means none.
	InfraccionAnterior Date `json:"infraccion_anterior,omitzero"`
	// SinReduccion disables the art. 640 reduction (e.g. after an emplazamiento).
	SinReduccion bool `json:"sin_reduccion,omitempty"`
	// PatrimonioLiquidoAnterior: used when there is neither tax nor income (art. 641).
	PatrimonioLiquidoAnterior decimal.NullDecimal `json:"patrimonio_liquido_anterior,omitzero"`
}

// ReteICAInput is the agent's periodic declaration of ICA withholdings.
type ReteICAInput struct {
	// Periodo is the period number within Year (1..6 bimonthly, 1..12 monthly).
	Periodo int `json:"periodo"`
	// Pagos are the payments subject to withholding in the period.
	Pagos []ReteICAPago `json:"pagos"`
	// Devoluciones are withholdings reversed in the period (anulaciones, rescisiones).
	Devoluciones decimal.NullDecimal `json:"devoluciones,omitzero"`
	Sancion      SanctionInput       `json:"sancion,omitzero"`
}

// ReteICAPago is one payment to a supplier.
type ReteICAPago struct {
	Base decimal.NullDecimal `json:"base,omitzero"`
	CIIU string              `json:"ciiu"`
	// Tipo selects the minimum base ("compras" or "servicios" in the demo rules).
	Tipo  string `json:"tipo"`
	Fecha Date   `json:"fecha,omitzero"`
}

// FieldError is an invalid or missing input, named by its JSON path.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// RuleMissingError means the rules do not cover the request (no tariff for that
// destino/year, no due date...). Rule names the rule id.
type RuleMissingError struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

func (e *RuleMissingError) Error() string { return e.Rule + ": " + e.Message }

func fieldErr(field, format string, a ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

func ruleErr(rule, format string, a ...any) *RuleMissingError {
	return &RuleMissingError{Rule: rule, Message: fmt.Sprintf(format, a...)}
}

func validMoney(field string, v decimal.NullDecimal, required bool) (decimal.Decimal, error) {
	if !v.Valid {
		if required {
			return decimal.Zero, fieldErr(field, "es obligatorio")
		}
		return decimal.Zero, nil
	}
	if v.Decimal.Sign() < 0 {
		return decimal.Zero, fieldErr(field, "no puede ser negativo (%s)", v.Decimal.String())
	}
	if v.Decimal.Exponent() < -6 {
		return decimal.Zero, fieldErr(field, "tiene más de 6 decimales (%s)", v.Decimal.String())
	}
	if tooBig(v.Decimal) {
		return decimal.Zero, fieldErr(field, "excede el máximo admitido (%s)", maxMoney.String())
	}
	return v.Decimal, nil
}

// maxMoney bounds inputs (10^16 pesos) so that adversarial values cannot make the
// arithmetic arbitrarily expensive.
var maxMoney = decimal.New(1, 16)

func (req *Request) validateCommon() error {
	switch req.Tax {
	case TaxPredial, TaxICA, TaxReteICA:
	case "":
		return fieldErr("tax", `es obligatorio ("predial", "ica" o "reteica")`)
	default:
		return fieldErr("tax", `impuesto desconocido %q (use "predial", "ica" o "reteica")`, req.Tax)
	}
	if !isDivipola(req.Municipality) {
		return fieldErr("municipality", "debe ser el código DIVIPOLA de 5 dígitos, no %q", req.Municipality)
	}
	if req.Year < 1990 || req.Year > 2100 {
		return fieldErr("year", "año fuera de rango (1990-2100): %d", req.Year)
	}
	for code, v := range req.Declared {
		if v.Exponent() < -6 || tooBig(v) {
			return fieldErr("declared."+code, "valor fuera de rango o con más de 6 decimales")
		}
	}
	if req.DeclaredTotal.Valid && (req.DeclaredTotal.Decimal.Exponent() < -6 || tooBig(req.DeclaredTotal.Decimal)) {
		return fieldErr("declared_total", "valor fuera de rango o con más de 6 decimales")
	}
	return nil
}

// tooBig reports |d| > 10^16 without allocating (digits of the coefficient plus the
// exponent give the magnitude).
func tooBig(d decimal.Decimal) bool {
	if d.Exponent() > 18 {
		return true
	}
	mag := d.NumDigits() + int(d.Exponent()) // |d| < 10^mag
	if mag <= 16 {
		return false
	}
	return d.Abs().GreaterThan(maxMoney)
}
