package ingest

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Kind names a record kind. Each kind has a Schema and a Go struct.
type Kind string

// The record kinds the ingest layer produces.
const (
	KindLiquidation Kind = "liquidation"
	KindPayment     Kind = "payment"
	KindGEL         Kind = "gel_measurement"
	KindBudgetLine  Kind = "budget_line"
	KindEntity      Kind = "entity"
)

// FieldType says how a field's text is parsed, validated and normalized.
type FieldType string

// Field types. The canonical text each one is normalized to before gocsv
// decodes it is given in brackets.
const (
	TypeText         FieldType = "text"         // trimmed text [as is]
	TypeCode         FieldType = "code"         // identifier, no spaces at the ends [as is]
	TypeEnum         FieldType = "enum"         // one of Allowed, synonyms accepted [allowed value]
	TypeMunicipality FieldType = "municipality" // DIVIPOLA municipality code [5 digits]
	TypeDepartment   FieldType = "department"   // DIVIPOLA department code [2 digits]
	TypeEntityCode   FieldType = "entity_code"  // 5-digit entity code (FUT: dd000 = department) [5 digits]
	TypeTaxpayerID   FieldType = "taxpayer_id"  // cédula / NIT / other id [digits or A-Z0-9, no dots or dashes]
	TypeCheckDigit   FieldType = "check_digit"  // NIT check digit [one digit]
	TypeCIIU         FieldType = "ciiu"         // CIIU Rev. 4 A.C. activity [4 digits]
	TypeInteger      FieldType = "integer"      // [base-10 integer]
	TypeDecimal      FieldType = "decimal"      // [-1234567.89]
	TypeDate         FieldType = "date"         // [2006-01-02]
	TypeDateTime     FieldType = "datetime"     // [RFC 3339 with offset]
	TypeBool         FieldType = "bool"         // [true|false]
	TypeURL          FieldType = "url"          // absolute http(s) URL [as is]
	TypeEmail        FieldType = "email"        // e-mail address (personal; not validated) [as is]
	TypePhone        FieldType = "phone"        // phone number (personal; not validated) [as is]
)

// Treatment says what the ETL must do with a personal field before anything
// is published (DESIGN.md, "Personal data and tax reserve").
type Treatment string

// Treatments of personal fields.
const (
	TreatNone         Treatment = ""
	TreatPseudonymize Treatment = "pseudonymize" // keyed HMAC of the normalized value
	TreatDrop         Treatment = "drop"         // never leaves the ETL
)

// Field describes one field of a record kind. The same description drives
// parsing, validation, the reject reasons and the data dictionary.
type Field struct {
	Name        string    // canonical name; also the gocsv tag of the struct field
	Type        FieldType // parsing and validation rule
	Required    bool      // an empty value rejects the row
	Key         bool      // part of the kind's key (duplicates within a file are rejected)
	Personal    bool      // identifies a person: the ETL applies Treatment
	Treatment   Treatment // pseudonymize or drop (only when Personal)
	Allowed     []string  // allowed canonical values (enums)
	Synonyms    map[string]string
	Min, Max    string // inclusive numeric bounds ("" = none)
	MustExist   bool   // municipality codes: must be in DANE's DIVIPOLA list
	Description string // Spanish, for the data dictionary

	synonyms map[string]string // folded synonym or allowed value -> canonical value
	min, max *decimal.Decimal
}

// Schema is the field list of a record kind, in the order of the struct's
// fields.
type Schema struct {
	Kind        Kind
	Description string // Spanish
	Fields      []Field
	Key         []string // names of the key fields, in order

	index    map[string]int
	goType   reflect.Type
	keyIndex []int
}

// Field returns the field with that canonical name.
func (s *Schema) Field(name string) (Field, bool) {
	i, ok := s.index[name]
	if !ok {
		return Field{}, false
	}
	return s.Fields[i], true
}

// Names returns the canonical field names in order.
func (s *Schema) Names() []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Name
	}
	return out
}

// PersonalFields returns the names of the fields marked personal.
func (s *Schema) PersonalFields() []string {
	var out []string
	for _, f := range s.Fields {
		if f.Personal {
			out = append(out, f.Name)
		}
	}
	return out
}

// SchemaFor returns the schema of a kind.
func SchemaFor(k Kind) (*Schema, error) {
	s, ok := schemas[k]
	if !ok {
		return nil, fmt.Errorf("ingest: unknown record kind %q (known: %s)", k, strings.Join(kindNames(), ", "))
	}
	return s, nil
}

// Schemas returns every schema, sorted by kind.
func Schemas() []*Schema {
	out := make([]*Schema, 0, len(schemas))
	for _, k := range kindNames() {
		out = append(out, schemas[Kind(k)])
	}
	return out
}

func kindNames() []string {
	var out []string
	for k := range schemas {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}

// Canonical values of the enums.
const (
	TaxPredial = "predial"
	TaxICA     = "ica"
	TaxReteICA = "reteica"

	ChannelWeb        = "web"
	ChannelPSE        = "pse"
	ChannelCard       = "tarjeta"
	ChannelBank       = "banco"
	ChannelPresencial = "presencial"

	TaxpayerNatural  = "natural"
	TaxpayerJuridica = "juridica"
)

var taxField = Field{Name: "tax", Type: TypeEnum, Required: true,
	Allowed: []string{TaxPredial, TaxICA, TaxReteICA},
	Synonyms: map[string]string{
		"impuesto predial": TaxPredial, "impuesto predial unificado": TaxPredial, "ipu": TaxPredial, "predial unificado": TaxPredial,
		"industria y comercio": TaxICA, "impuesto de industria y comercio": TaxICA, "industria y comercio y avisos": TaxICA,
		"impuesto de industria y comercio y avisos y tableros": TaxICA, "ica y avisos": TaxICA,
		"rete ica": TaxReteICA, "retencion ica": TaxReteICA, "retencion de ica": TaxReteICA,
		"retencion de industria y comercio": TaxReteICA, "reteica a proveedores": TaxReteICA,
	},
	Description: "Impuesto: predial (Impuesto Predial Unificado), ica (Industria y Comercio) o reteica (retención de ICA)"}

var idTypeField = Field{Name: "taxpayer_id_type", Type: TypeEnum,
	Allowed: []string{"cc", "nit", "ce", "ti", "pasaporte", "pep", "nuip", "otro"},
	Synonyms: map[string]string{
		"cedula": "cc", "cedula de ciudadania": "cc", "c c": "cc", "cedula ciudadania": "cc",
		"numero de identificacion tributaria": "nit", "n i t": "nit",
		"cedula de extranjeria": "ce", "c e": "ce", "tarjeta de identidad": "ti", "t i": "ti",
		"pa": "pasaporte", "pp": "pasaporte", "permiso especial de permanencia": "pep", "registro civil": "nuip",
	},
	Description: "Tipo de documento del contribuyente (cc, nit, ce, ti, pasaporte, pep, nuip, otro)"}

var taxpayerKindField = Field{Name: "taxpayer_kind", Type: TypeEnum,
	Allowed: []string{TaxpayerNatural, TaxpayerJuridica},
	Synonyms: map[string]string{
		"persona natural": TaxpayerNatural, "pn": TaxpayerNatural, "n": TaxpayerNatural,
		"persona juridica": TaxpayerJuridica, "pj": TaxpayerJuridica, "j": TaxpayerJuridica,
		"empresa": TaxpayerJuridica, "sociedad": TaxpayerJuridica,
	},
	Description: "Naturaleza del contribuyente: natural o juridica"}

var webOrPresencial = map[string]string{
	"internet": ChannelWeb, "en linea": ChannelWeb, "online": ChannelWeb, "virtual": ChannelWeb,
	"oficina virtual": ChannelWeb, "oficina virtual tributaria": ChannelWeb, "portal": ChannelWeb,
	"pagina web": ChannelWeb, "sitio web": ChannelWeb,
	"oficina": ChannelPresencial, "ventanilla": ChannelPresencial, "taquilla": ChannelPresencial,
	"fisico": ChannelPresencial, "papel": ChannelPresencial, "caja": ChannelPresencial,
	"punto de atencion": ChannelPresencial, "sede": ChannelPresencial,
}

func money(name, desc string) Field {
	return Field{Name: name, Type: TypeDecimal, Description: desc + " (pesos)"}
}

func moneyNonNeg(name, desc string) Field {
	f := money(name, desc)
	f.Min = "0"
	return f
}

var municipalityField = Field{Name: "municipality_code", Type: TypeMunicipality, Required: true, MustExist: true,
	Description: "Código DIVIPOLA del municipio (5 dígitos)"}

var taxpayerIDField = Field{Name: "taxpayer_id", Type: TypeTaxpayerID, Required: true, Personal: true, Treatment: TreatPseudonymize,
	Description: "Cédula o NIT del contribuyente, normalizado (sin puntos, guiones ni dígito de verificación); el ETL lo reemplaza por un seudónimo"}

var checkDigitField = Field{Name: "taxpayer_id_dv", Type: TypeCheckDigit,
	Description: "Dígito de verificación del NIT, si la fuente lo trae"}

var schemas = map[Kind]*Schema{}

func init() {
	register(&Schema{Kind: KindLiquidation, Key: []string{"liquidation_id"},
		Description: "Liquidación o declaración de un impuesto municipal (predial, ICA, ReteICA)",
		Fields: []Field{
			{Name: "liquidation_id", Type: TypeCode, Required: true, Key: true, Description: "Número de la liquidación, factura o declaración en la fuente"},
			municipalityField,
			taxField,
			{Name: "tax_year", Type: TypeInteger, Required: true, Min: "1990", Max: "2100", Description: "Vigencia (año gravable)"},
			{Name: "period", Type: TypeCode, Description: "Periodo dentro de la vigencia (p. ej. bimestre de ICA o ReteICA)"},
			taxpayerIDField,
			checkDigitField,
			idTypeField,
			taxpayerKindField,
			{Name: "taxpayer_name", Type: TypeText, Personal: true, Treatment: TreatDrop, Description: "Nombre o razón social (dato personal: se descarta)"},
			{Name: "taxpayer_address", Type: TypeText, Personal: true, Treatment: TreatDrop, Description: "Dirección (dato personal: se descarta)"},
			{Name: "taxpayer_phone", Type: TypePhone, Personal: true, Treatment: TreatDrop, Description: "Teléfono (dato personal: se descarta)"},
			{Name: "taxpayer_email", Type: TypeEmail, Personal: true, Treatment: TreatDrop, Description: "Correo electrónico (dato personal: se descarta)"},
			{Name: "property_id", Type: TypeCode, Personal: true, Treatment: TreatPseudonymize, Description: "Número predial o ficha catastral (identifica al propietario: se seudonimiza)"},
			{Name: "issue_date", Type: TypeDate, Required: true, Description: "Fecha de expedición de la liquidación o de presentación de la declaración"},
			{Name: "due_date", Type: TypeDate, Description: "Fecha límite de pago"},
			{Name: "filing_channel", Type: TypeEnum, Allowed: []string{ChannelWeb, ChannelPresencial}, Synonyms: webOrPresencial,
				Description: "Canal de liquidación o presentación: web o presencial"},
			moneyNonNeg("avaluo", "Avalúo catastral o autoavalúo del predio"),
			{Name: "destino", Type: TypeText, Description: "Destino económico del predio según la fuente (habitacional, comercial, lote...)"},
			{Name: "estrato", Type: TypeInteger, Min: "0", Max: "6", Description: "Estrato socioeconómico (0 si no aplica)"},
			{Name: "sector", Type: TypeEnum, Allowed: []string{"urbano", "rural"},
				Synonyms:    map[string]string{"urbana": "urbano", "u": "urbano", "rural": "rural", "r": "rural"},
				Description: "Sector del predio: urbano o rural"},
			{Name: "area_m2", Type: TypeDecimal, Min: "0", Description: "Área del terreno (m²)"},
			{Name: "built_area_m2", Type: TypeDecimal, Min: "0", Description: "Área construida (m²)"},
			moneyNonNeg("prior_year_tax", "Impuesto predial liquidado el año anterior (para los límites de incremento)"),
			{Name: "rate_per_mille", Type: TypeDecimal, Min: "0", Max: "100", Description: "Tarifa aplicada por la fuente (por mil)"},
			moneyNonNeg("gross_income", "ICA: total de ingresos ordinarios y extraordinarios (renglón 8)"),
			moneyNonNeg("income_outside", "ICA: ingresos fuera del municipio (renglón 9)"),
			moneyNonNeg("deductions", "ICA: devoluciones, exportaciones, activos fijos, excluidos y exentos (renglones 11 a 15)"),
			money("taxable_income", "ICA: ingresos gravables (renglón 16)"),
			{Name: "ciiu", Type: TypeCIIU, Description: "ICA: actividad económica principal, código CIIU Rev. 4 A.C."},
			money("tax_amount", "Impuesto liquidado: predial (avalúo × tarifa) o ICA (renglón 20)"),
			money("avisos_tableros", "ICA: avisos y tableros (renglón 21)"),
			money("sobretasa_bomberil", "Sobretasa bomberil"),
			money("sobretasa_ambiental", "Sobretasa ambiental"),
			money("discount", "Descuento por pronto pago"),
			money("interest", "Intereses de mora"),
			money("sanctions", "Sanciones"),
			money("withholdings", "ICA: retenciones, autorretenciones y anticipo del año anterior (renglones 26 a 29)"),
			{Name: "total_amount", Type: TypeDecimal, Required: true, Description: "Total facturado (predial) o total a pagar declarado (ICA, renglón 38), en pesos"},
		}}, reflect.TypeOf(Liquidation{}))

	register(&Schema{Kind: KindPayment, Key: []string{"payment_id"},
		Description: "Pago o recaudo de un impuesto municipal",
		Fields: []Field{
			{Name: "payment_id", Type: TypeCode, Required: true, Key: true, Description: "Identificador del pago o recibo en la fuente"},
			{Name: "liquidation_id", Type: TypeCode, Description: "Liquidación o declaración que paga, si la fuente la indica"},
			municipalityField,
			taxField,
			{Name: "tax_year", Type: TypeInteger, Required: true, Min: "1990", Max: "2100", Description: "Vigencia pagada"},
			taxpayerIDField,
			checkDigitField,
			{Name: "paid_at", Type: TypeDateTime, Required: true, Description: "Fecha y hora del pago (hora de Colombia si la fuente no indica zona)"},
			{Name: "amount", Type: TypeDecimal, Required: true, Description: "Valor pagado (pesos)"},
			{Name: "channel", Type: TypeEnum, Required: true,
				Allowed: []string{ChannelWeb, ChannelPSE, ChannelCard, ChannelBank, ChannelPresencial},
				Synonyms: mergeSynonyms(webOrPresencial, map[string]string{
					"pago pse": ChannelPSE, "boton pse": ChannelPSE, "boton de pago pse": ChannelPSE, "debito pse": ChannelPSE,
					"tarjeta de credito": ChannelCard, "tarjeta credito": ChannelCard, "tarjeta de debito": ChannelCard,
					"tarjeta debito": ChannelCard, "tc": ChannelCard, "td": ChannelCard, "datafono": ChannelCard,
					"bancos": ChannelBank, "entidad bancaria": ChannelBank, "consignacion": ChannelBank,
					"consignacion bancaria": ChannelBank, "corresponsal": ChannelBank, "corresponsal bancario": ChannelBank,
					"efectivo": ChannelPresencial,
				}),
				Description: "Canal de pago: web, pse, tarjeta, banco o presencial"},
			{Name: "bank", Type: TypeText, Description: "Entidad recaudadora"},
		}}, reflect.TypeOf(Payment{}))

	register(&Schema{Kind: KindGEL, Key: []string{"framework", "phase", "criterion", "entity_code", "measured_on"},
		Description: "Medición de un criterio o indicador de Gobierno en Línea / Gobierno Digital para una entidad",
		Fields: []Field{
			{Name: "framework", Type: TypeCode, Required: true, Key: true, Description: "Marco de medición (p. ej. gel-2008, gel-2014, gobierno-digital-2018, furag-igd)"},
			{Name: "phase", Type: TypeText, Required: true, Key: true, Description: "Fase o componente (p. ej. Información, Interacción, TIC para servicios)"},
			{Name: "criterion", Type: TypeText, Required: true, Key: true, Description: "Criterio o indicador"},
			{Name: "entity_code", Type: TypeEntityCode, Required: true, Key: true, Description: "Código DIVIPOLA de la entidad (5 dígitos; dd000 para un departamento)"},
			{Name: "measured_on", Type: TypeDate, Required: true, Key: true, Description: "Fecha de la medición"},
			{Name: "value", Type: TypeDecimal, Required: true, Min: "0", Description: "Valor medido: porcentaje de cumplimiento (0 a 100) o puntaje"},
			{Name: "unit", Type: TypeEnum, Allowed: []string{"percent", "score"},
				Synonyms:    map[string]string{"%": "percent", "porcentaje": "percent", "pct": "percent", "puntaje": "score", "puntos": "score", "indice": "score"},
				Description: "Unidad del valor: percent (0 a 100, por omisión) o score"},
			{Name: "evidence_url", Type: TypeURL, Description: "Enlace a la evidencia publicada"},
			{Name: "source", Type: TypeText, Description: "Documento o sistema de donde sale la medición"},
			{Name: "synthetic", Type: TypeBool, Description: "Verdadero si el dato es sintético (ilustrativo), no una medición real"},
		}}, reflect.TypeOf(GELMeasurement{}))

	register(&Schema{Kind: KindBudgetLine, Key: []string{"entity_code", "rubro", "year"},
		Description: "Presupuesto definitivo de ingresos por entidad, rubro y vigencia (FUT / CUIPO)",
		Fields: []Field{
			{Name: "department_code", Type: TypeDepartment, Required: true, Description: "Código DANE del departamento (2 dígitos)"},
			{Name: "department_name", Type: TypeText, Description: "Nombre del departamento"},
			{Name: "entity_code", Type: TypeEntityCode, Required: true, Key: true, Description: "Código de la entidad territorial (5 dígitos; dd000 = el departamento)"},
			{Name: "entity_name", Type: TypeText, Description: "Nombre de la entidad"},
			{Name: "rubro", Type: TypeText, Required: true, Key: true, Description: "Rubro presupuestal de ingresos"},
			{Name: "year", Type: TypeInteger, Required: true, Key: true, Min: "1990", Max: "2100", Description: "Vigencia"},
			{Name: "final_budget", Type: TypeDecimal, Required: true, Description: "Presupuesto definitivo, pesos corrientes"},
			{Name: "value_2025", Type: TypeDecimal, Description: "Presupuesto definitivo en pesos constantes de 2025"},
		}}, reflect.TypeOf(BudgetLine{}))

	register(&Schema{Kind: KindEntity, Key: []string{"municipality_code"},
		Description: "Unidad de la División Político-Administrativa (DIVIPOLA) del DANE",
		Fields: []Field{
			{Name: "department_code", Type: TypeDepartment, Required: true, Description: "Código DANE del departamento (2 dígitos)"},
			{Name: "municipality_code", Type: TypeMunicipality, Required: true, Key: true, Description: "Código DANE del municipio (5 dígitos)"},
			{Name: "department_name", Type: TypeText, Required: true, Description: "Nombre del departamento"},
			{Name: "municipality_name", Type: TypeText, Required: true, Description: "Nombre del municipio"},
			{Name: "kind", Type: TypeEnum, Required: true, Allowed: []string{"municipio", "isla", "area_no_municipalizada"},
				Synonyms:    map[string]string{"area no municipalizada": "area_no_municipalizada", "anm": "area_no_municipalizada"},
				Description: "Tipo de unidad: municipio, isla o área no municipalizada"},
		}}, reflect.TypeOf(Entity{}))
}

func mergeSynonyms(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// register checks that the schema and its Go struct agree (names and order of
// the csv tags, Go types, pointers for optional values) and stores it. A
// mismatch is a programming error and panics at start-up.
func register(s *Schema, t reflect.Type) {
	s.index = make(map[string]int, len(s.Fields))
	s.goType = t
	var tags []reflect.StructField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("csv"), ",")[0]
		if tag == "-" || tag == "" {
			continue
		}
		tags = append(tags, f)
	}
	if len(tags) != len(s.Fields) {
		panic(fmt.Sprintf("ingest: schema %s has %d fields, struct %s has %d csv fields", s.Kind, len(s.Fields), t, len(tags)))
	}
	for i := range s.Fields {
		f := &s.Fields[i]
		sf := tags[i]
		tag := strings.Split(sf.Tag.Get("csv"), ",")
		if tag[0] != f.Name {
			panic(fmt.Sprintf("ingest: schema %s field %d is %q, struct tag is %q", s.Kind, i, f.Name, tag[0]))
		}
		if _, dup := s.index[f.Name]; dup {
			panic(fmt.Sprintf("ingest: schema %s repeats field %q", s.Kind, f.Name))
		}
		s.index[f.Name] = i
		checkGoType(s.Kind, f, sf)
		if f.Type == TypeEnum {
			f.synonyms = map[string]string{}
			for _, a := range f.Allowed {
				f.synonyms[foldValue(a)] = a
			}
			for k, v := range f.Synonyms {
				if !contains(f.Allowed, v) {
					panic(fmt.Sprintf("ingest: schema %s field %s: synonym %q maps to %q, not an allowed value", s.Kind, f.Name, k, v))
				}
				f.synonyms[foldValue(k)] = v
			}
		}
		if f.Min != "" {
			d := decimal.RequireFromString(f.Min)
			f.min = &d
		}
		if f.Max != "" {
			d := decimal.RequireFromString(f.Max)
			f.max = &d
		}
		if f.Key {
			s.keyIndex = append(s.keyIndex, i)
		}
	}
	if len(s.keyIndex) != len(s.Key) {
		panic(fmt.Sprintf("ingest: schema %s: Key lists %v but %d fields are marked Key", s.Kind, s.Key, len(s.keyIndex)))
	}
	for j, k := range s.Key {
		if s.index[k] != s.keyIndex[j] {
			panic(fmt.Sprintf("ingest: schema %s: key %q out of order or not marked", s.Kind, k))
		}
	}
	if _, ok := reflect.PointerTo(t).MethodByName("Provenance"); !ok {
		panic(fmt.Sprintf("ingest: %s does not implement Record", t))
	}
	schemas[s.Kind] = s
}

var (
	tDecimal = reflect.TypeOf(decimal.Decimal{})
	tDate    = reflect.TypeOf(Date{})
	tTime    = reflect.TypeOf(time.Time{})
)

func checkGoType(k Kind, f *Field, sf reflect.StructField) {
	var want reflect.Type
	switch f.Type {
	case TypeInteger:
		want = reflect.TypeOf(0)
	case TypeDecimal:
		want = tDecimal
	case TypeDate:
		want = tDate
	case TypeDateTime:
		want = tTime
	case TypeBool:
		want = reflect.TypeOf(false)
	default:
		want = reflect.TypeOf("")
	}
	got := sf.Type
	omit := strings.Contains(sf.Tag.Get("csv"), "omitempty")
	// Text and bool fields have a natural empty value; other optional
	// values are pointers so that "absent" is not confused with zero.
	optionalPtr := !f.Required && want.Kind() != reflect.String && want.Kind() != reflect.Bool
	if optionalPtr {
		if got.Kind() != reflect.Pointer || got.Elem() != want || !omit {
			panic(fmt.Sprintf("ingest: %s.%s must be *%s with omitempty", k, f.Name, want))
		}
		return
	}
	if got != want {
		panic(fmt.Sprintf("ingest: %s.%s must be %s, is %s", k, f.Name, want, got))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
