package liquidation

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"
)

// Ref is the legal reference carried by every parameter.
type Ref struct {
	Norm     string `yaml:"norm" json:"norm"`
	Article  string `yaml:"article" json:"article"`
	Source   string `yaml:"source,omitempty" json:"source,omitempty"`
	Verified bool   `yaml:"verified" json:"verified"`
	Note     string `yaml:"note,omitempty" json:"note,omitempty"`
}

// Cite renders "Norm, Article" for explanation lines.
func (r Ref) Cite() string {
	switch {
	case r.Norm == "":
		return r.Article
	case r.Article == "":
		return r.Norm
	}
	return r.Norm + ", " + r.Article
}

// num is a decimal read from YAML text exactly (never through float64).
type num struct {
	decimal.Decimal
	ok bool
}

func (n *num) UnmarshalYAML(v *yaml.Node) error {
	if v.Kind != yaml.ScalarNode {
		return fmt.Errorf("línea %d: se esperaba un número decimal", v.Line)
	}
	d, err := decimal.NewFromString(strings.TrimSpace(v.Value))
	if err != nil {
		return fmt.Errorf("línea %d: %q no es un número decimal", v.Line, v.Value)
	}
	// Bound the representation so that adversarial files cannot make arithmetic
	// arbitrarily expensive (rescaling 10^exponent).
	if d.Exponent() < -12 || d.Exponent() > 18 || len(v.Value) > 40 {
		return fmt.Errorf("línea %d: número %q fuera del rango admitido (hasta 18 dígitos enteros y 12 decimales)", v.Line, v.Value)
	}
	n.Decimal, n.ok = d, true
	return nil
}

// UnmarshalYAML reads YYYY-MM-DD.
func (d *Date) UnmarshalYAML(v *yaml.Node) error {
	if v.Kind != yaml.ScalarNode {
		return fmt.Errorf("línea %d: se esperaba una fecha AAAA-MM-DD", v.Line)
	}
	p, err := ParseDate(strings.TrimSpace(v.Value))
	if err != nil {
		return fmt.Errorf("línea %d: %v", v.Line, err)
	}
	*d = p
	return nil
}

// ---- file schema (shared by national and municipal files) ----

type rulesFile struct {
	SchemaVersion int    `yaml:"schema_version"`
	Kind          string `yaml:"kind"`
	Name          string `yaml:"name"`

	// national
	UVT           []yearValue        `yaml:"uvt"`
	IPC           []yearValue        `yaml:"ipc"`
	SMMLV         []yearValue        `yaml:"smmlv"`
	Usury         *usuryTable        `yaml:"usury"`
	Interest      []interestSpec     `yaml:"interest"`
	Rounding      []roundingSpec     `yaml:"rounding"`
	Sanctions     *sanctionSpecs     `yaml:"sanctions"`
	PredialLimits *predialLimitSpecs `yaml:"predial_limits"`
	Reliefs       []reliefSpec       `yaml:"reliefs"`

	// municipal
	Divipola     string                 `yaml:"divipola"`
	Department   string                 `yaml:"department"`
	Illustrative bool                   `yaml:"illustrative"`
	Note         string                 `yaml:"note"`
	Sources      []string               `yaml:"sources"`
	Destinos     map[string]destinoSpec `yaml:"destinos"`
	Predial      *predialSpec           `yaml:"predial"`
	ICA          *icaSpec               `yaml:"ica"`
	ReteICA      *reteicaSpec           `yaml:"reteica"`
}

type yearValue struct {
	Year  int `yaml:"year"`
	Value num `yaml:"value"`
	Ref   Ref `yaml:"ref"`
}

type usuryTable struct {
	Ref     Ref         `yaml:"ref"`
	Periods []usurySpec `yaml:"periods"`
}

type usurySpec struct {
	From     Date   `yaml:"from"`
	To       Date   `yaml:"to"`
	Rate     num    `yaml:"rate"`
	Verified bool   `yaml:"verified"`
	Source   string `yaml:"source"`
	Note     string `yaml:"note"`
}

type interestSpec struct {
	From             Date `yaml:"from"`
	To               Date `yaml:"to"`
	PointsBelowUsury num  `yaml:"points_below_usury"`
	DayBasis         int  `yaml:"day_basis"`
	Ref              Ref  `yaml:"ref"`
}

type roundingSpec struct {
	From     Date `yaml:"from"`
	To       Date `yaml:"to"`
	Multiple num  `yaml:"multiple"`
	Ref      Ref  `yaml:"ref"`
}

type sanctionSpecs struct {
	LateFiling []lateFilingSpec `yaml:"late_filing"`
	Reduction  []reductionSpec  `yaml:"reduction"`
	Minimum    []minimumSpec    `yaml:"minimum"`
}

type lateFilingSpec struct {
	From                         Date `yaml:"from"`
	To                           Date `yaml:"to"`
	MonthlyPercent               num  `yaml:"monthly_percent"`
	CapPercent                   num  `yaml:"cap_percent"`
	NoTaxIncomeMonthlyPercent    num  `yaml:"no_tax_income_monthly_percent"`
	NoTaxIncomeCapPercent        num  `yaml:"no_tax_income_cap_percent"`
	NoTaxBalanceMultiple         num  `yaml:"no_tax_balance_multiple"`
	NoTaxCapUVT                  num  `yaml:"no_tax_cap_uvt"`
	NoIncomeEquityMonthlyPercent num  `yaml:"no_income_equity_monthly_percent"`
	NoIncomeEquityCapPercent     num  `yaml:"no_income_equity_cap_percent"`
	Ref                          Ref  `yaml:"ref"`
}

type reductionSpec struct {
	From  Date `yaml:"from"`
	To    Date `yaml:"to"`
	Tiers []struct {
		CleanYears int `yaml:"clean_years"`
		PayPercent num `yaml:"pay_percent"`
	} `yaml:"tiers"`
	Ref Ref `yaml:"ref"`
}

type minimumSpec struct {
	From Date `yaml:"from"`
	To   Date `yaml:"to"`
	UVT  num  `yaml:"uvt"`
	Ref  Ref  `yaml:"ref"`
}

type predialLimitSpecs struct {
	Ley44   []ley44Spec   `yaml:"ley44_art6"`
	Ley1995 []ley1995Spec `yaml:"ley1995_art2"`
}

type ley44Spec struct {
	From     Date `yaml:"from"`
	To       Date `yaml:"to"`
	Multiple num  `yaml:"multiple"`
	Ref      Ref  `yaml:"ref"`
}

type ley1995Spec struct {
	From                         Date  `yaml:"from"`
	To                           Date  `yaml:"to"`
	IPCPlusPoints                num   `yaml:"ipc_plus_points"`
	NotUpdatedMaxIncreasePercent num   `yaml:"not_updated_max_increase_percent"`
	LowStrata                    []int `yaml:"low_strata"`
	LowStrataMaxSMMLV            num   `yaml:"low_strata_max_smmlv"`
	LowStrataIPCPercent          num   `yaml:"low_strata_ipc_percent"`
	IPCYearOffset                int   `yaml:"ipc_year_offset"`
	Ref                          Ref   `yaml:"ref"`
}

type reliefSpec struct {
	ID                   string `yaml:"id"`
	Label                string `yaml:"label"`
	Enabled              *bool  `yaml:"enabled"`
	From                 Date   `yaml:"from"`
	To                   Date   `yaml:"to"`
	ObligationsDueBefore Date   `yaml:"obligations_due_before"`
	WaiveInterest        bool   `yaml:"waive_interest"`
	WaiveSanctions       bool   `yaml:"waive_sanctions"`
	Windows              []struct {
		Until             Date `yaml:"until"`
		PayCapitalPercent num  `yaml:"pay_capital_percent"`
	} `yaml:"windows"`
	Ref *Ref `yaml:"ref"`
}

type destinoSpec struct {
	Label           string `yaml:"label"`
	Vivienda        bool   `yaml:"vivienda"`
	LoteUrbanizable bool   `yaml:"lote_urbanizable"`
}

type predialSpec struct {
	Tariffs            []predialTariffSpec `yaml:"tariffs"`
	SobretasaAmbiental []ambientalSpec     `yaml:"sobretasa_ambiental"`
	SobretasaBomberil  []percentSpec       `yaml:"sobretasa_bomberil"`
	DueDates           []dueSpec           `yaml:"due_dates"`
	Discounts          []discountSpec      `yaml:"discounts"`
}

type predialTariffSpec struct {
	From  Date `yaml:"from"`
	To    Date `yaml:"to"`
	Ref   Ref  `yaml:"ref"`
	Bands []struct {
		Destino    string `yaml:"destino"`
		Estratos   []int  `yaml:"estratos"`
		AvaluoUpTo num    `yaml:"avaluo_up_to"`
		Rate       num    `yaml:"rate"`
	} `yaml:"bands"`
}

type ambientalSpec struct {
	From Date   `yaml:"from"`
	To   Date   `yaml:"to"`
	Mode string `yaml:"mode"`
	Rate num    `yaml:"rate"`
	Ref  Ref    `yaml:"ref"`
}

type percentSpec struct {
	From    Date `yaml:"from"`
	To      Date `yaml:"to"`
	Percent num  `yaml:"percent"`
	Ref     Ref  `yaml:"ref"`
}

type dueSpec struct {
	Year int  `yaml:"year"`
	Date Date `yaml:"date"`
	Due  Date `yaml:"due"`
	Ref  Ref  `yaml:"ref"`
}

type discountSpec struct {
	Year      int      `yaml:"year"`
	AppliesTo []string `yaml:"applies_to"`
	BaseLine  string   `yaml:"base_line"`
	Windows   []struct {
		Until   Date `yaml:"until"`
		Percent num  `yaml:"percent"`
	} `yaml:"windows"`
	Ref Ref `yaml:"ref"`
}

type icaSpec struct {
	Tariffs           []icaTariffSpec `yaml:"tariffs"`
	AvisosTableros    []percentSpec   `yaml:"avisos_tableros"`
	SobretasaBomberil []percentSpec   `yaml:"sobretasa_bomberil"`
	Anticipo          []struct {
		From                 Date `yaml:"from"`
		To                   Date `yaml:"to"`
		Percent              num  `yaml:"percent"`
		SubtractWithholdings bool `yaml:"subtract_withholdings"`
		Ref                  Ref  `yaml:"ref"`
	} `yaml:"anticipo"`
	Filing    []dueSpec      `yaml:"filing"`
	Discounts []discountSpec `yaml:"discounts"`
}

type icaTariffSpec struct {
	From       Date `yaml:"from"`
	To         Date `yaml:"to"`
	Ref        Ref  `yaml:"ref"`
	Activities []struct {
		CIIU  string `yaml:"ciiu"`
		Label string `yaml:"label"`
		Kind  string `yaml:"kind"`
		Rate  num    `yaml:"rate"`
	} `yaml:"activities"`
}

type reteicaSpec struct {
	MinimumBases []struct {
		From      Date           `yaml:"from"`
		To        Date           `yaml:"to"`
		Inclusive bool           `yaml:"inclusive"`
		Bases     map[string]num `yaml:"bases"`
		Ref       Ref            `yaml:"ref"`
	} `yaml:"minimum_bases"`
	Filing []struct {
		Year        int    `yaml:"year"`
		Periodicity string `yaml:"periodicity"`
		Ref         Ref    `yaml:"ref"`
		Periods     []struct {
			Period int  `yaml:"period"`
			From   Date `yaml:"from"`
			To     Date `yaml:"to"`
			Due    Date `yaml:"due"`
		} `yaml:"periods"`
	} `yaml:"filing"`
}

// parseRulesFile decodes one YAML file strictly (unknown keys are errors).
func parseRulesFile(name string, data []byte) (*rulesFile, error) {
	var f rulesFile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if strings.Contains(err.Error(), "EOF") && len(strings.TrimSpace(string(data))) == 0 {
			return nil, &RulesError{File: name, Key: "", Message: "el archivo está vacío"}
		}
		return nil, &RulesError{File: name, Key: "", Message: translateYAMLError(err)}
	}
	return &f, nil
}

func translateYAMLError(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: ")
	s = strings.ReplaceAll(s, "unmarshal errors:\n  ", "")
	s = strings.ReplaceAll(s, "\n  ", "; ")
	s = strings.ReplaceAll(s, "line ", "línea ")
	s = strings.ReplaceAll(s, "field ", "clave ")
	s = strings.ReplaceAll(s, "not found in type", "desconocida en")
	s = strings.ReplaceAll(s, "cannot unmarshal", "no se puede leer")
	return s
}

// RulesError names the file and the key of an invalid rules file.
type RulesError struct {
	File    string
	Key     string
	Message string
}

func (e *RulesError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s: %s", e.File, e.Message)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Key, e.Message)
}
