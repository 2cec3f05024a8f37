package liquidation

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/shopspring/decimal"
)

//go:embed rules/*.yaml
var embeddedRules embed.FS

// Rules is a compiled, immutable rule set. Safe for concurrent use.
type Rules struct {
	nat   national
	munis map[string]*municipality
	files []string
}

// ---- compiled national rules ----

type yearEntry struct {
	year  int
	value decimal.Decimal
	ref   Ref
	cite  string
}

type yearTable []yearEntry

func (t yearTable) get(y int) (yearEntry, bool) {
	for i := range t {
		if t[i].year == y {
			return t[i], true
		}
	}
	return yearEntry{}, false
}

type span struct{ from, to Date } // to zero = open

func (s span) covers(d Date) bool {
	return !d.Before(s.from) && (s.to.IsZero() || !d.After(s.to))
}

type usuryPeriod struct {
	span
	rate     decimal.Decimal // E.A. percent
	net      decimal.Decimal // rate minus points (art. 635)
	points   decimal.Decimal
	verified bool
	source   string
	note     string
	icite    string // interest rule citation
}

type interestRule struct {
	span
	points   decimal.Decimal
	dayBasis int64
	ref      Ref
	cite     string
}

type roundingRule struct {
	span
	multiple decimal.Decimal
	places   int32 // -3 for 1000
	ref      Ref
	cite     string
}

type lateFilingRule struct {
	span
	monthly, capPct, ntIncMonthly, ntIncCap, ntBalMult, ntCapUVT, niEqMonthly, niEqCap decimal.Decimal
	ref                                                                                Ref
	cite                                                                               string
}

type reductionTier struct {
	cleanYears int
	pay        decimal.Decimal
}

type reductionRule struct {
	span
	tiers []reductionTier // sorted by cleanYears desc
	ref   Ref
	cite  string
}

type minimumRule struct {
	span
	uvt  decimal.Decimal
	ref  Ref
	cite string
}

type ley44Rule struct {
	span
	multiple decimal.Decimal
	ref      Ref
	cite     string
}

type ley1995Rule struct {
	span
	plusPoints, notUpdatedPct, lowMaxSMMLV, lowIPCPct decimal.Decimal
	lowStrata                                         uint16 // bit mask of estratos
	ipcOffset                                         int
	ref                                               Ref
	cite                                              string
}

type reliefWindow struct {
	until Date
	pay   decimal.Decimal
}

type reliefRule struct {
	span
	id, label      string
	enabled        bool
	dueBefore      Date
	waiveInterest  bool
	waiveSanctions bool
	windows        []reliefWindow
	ref            Ref
	cite           string
}

type national struct {
	uvt, ipc, smmlv yearTable
	usury           []usuryPeriod
	usuryRef        Ref
	interest        []interestRule
	rounding        []roundingRule
	lateFiling      []lateFilingRule
	reduction       []reductionRule
	minimum         []minimumRule
	ley44           []ley44Rule
	ley1995         []ley1995Rule
	reliefs         []reliefRule
}

// pickSpan returns the index of the entry covering d, or -1.
func pickSpan[T interface{ covers(Date) bool }](list []T, d Date) int {
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].covers(d) {
			return i
		}
	}
	return -1
}

// ---- compiled municipal rules ----

type destino struct {
	label           string
	vivienda        bool
	loteUrbanizable bool
}

type predialBand struct {
	destino  string
	estratos uint16 // 0 = any
	upTo     decimal.Decimal
	hasUpTo  bool
	rate     decimal.Decimal // por mil
	upToM    int64           // upTo in micro-pesos (fast path), valid when upToMOK
	upToMOK  bool
}

type predialTariffSet struct {
	span
	bands   []predialBand
	ref     Ref
	cite    string
	citeTax string // cite + the national article, precomputed for the hot path
}

type ambientalRule struct {
	span
	onAvaluo bool // true: por mil del avalúo (cobrada); false: % del impuesto (transferencia)
	rate     decimal.Decimal
	ref      Ref
	cite     string
}

type percentRule struct {
	span
	pct  decimal.Decimal
	ref  Ref
	cite string
}

type dueRule struct {
	date Date
	ref  Ref
	cite string
}

type discountWindow struct {
	until Date
	pct   decimal.Decimal
}

type discountRule struct {
	appliesTo []string
	baseLine  string
	windows   []discountWindow // ascending by until
	ref       Ref
	cite      string
}

type icaActivity struct {
	ciiu, label, kind string
	rate              decimal.Decimal
}

type icaTariffSet struct {
	span
	acts map[string]*icaActivity
	ref  Ref
	cite string
}

type anticipoRule struct {
	span
	pct      decimal.Decimal
	subtract bool
	ref      Ref
	cite     string
}

type retMinRule struct {
	span
	inclusive bool
	bases     map[string]decimal.Decimal // UVT
	ref       Ref
	cite      string
}

type retPeriod struct {
	period   int
	from, to Date
	due      Date
}

type retFilingYear struct {
	periodicity string
	periods     []retPeriod
	ref         Ref
	cite        string
}

type municipality struct {
	code, name, department string
	illustrative           bool
	note                   string
	sources                []string
	file                   string
	destinos               map[string]destino
	predialTariffs         []predialTariffSet
	ambiental              []ambientalRule
	bomberilPredial        []percentRule
	predialDue             map[int]dueRule
	predialDisc            map[int]discountRule
	icaTariffs             []icaTariffSet
	avisos                 []percentRule
	icaBomberil            []percentRule
	anticipo               []anticipoRule
	icaFiling              map[int]dueRule
	icaDisc                map[int]discountRule
	retMin                 []retMinRule
	retFiling              map[int]retFilingYear
	reliefs                map[string]reliefSwitch
}

type reliefSwitch struct {
	enabled bool
	ref     *Ref
}

// MunicipalityInfo describes a municipality present in the rule set.
type MunicipalityInfo struct {
	Code         string   `json:"code"`
	Name         string   `json:"name"`
	Department   string   `json:"department"`
	Illustrative bool     `json:"illustrative"`
	Note         string   `json:"note,omitempty"`
	Sources      []string `json:"sources,omitempty"`
	File         string   `json:"file"`
}

// Municipalities lists the municipalities of the rule set, sorted by code.
func (r *Rules) Municipalities() []MunicipalityInfo {
	out := make([]MunicipalityInfo, 0, len(r.munis))
	for _, m := range r.munis {
		out = append(out, MunicipalityInfo{m.code, m.name, m.department, m.illustrative, m.note, m.sources, m.file})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Files lists the rule files the set was built from, in load order.
func (r *Rules) Files() []string { return append([]string(nil), r.files...) }

// ---- loading ----

var (
	embeddedOnce sync.Once
	embeddedSet  *Rules
	embeddedErr  error
)

// EmbeddedRules returns the built-in rule set (national rules plus the demo
// municipalities). It is compiled once and shared.
func EmbeddedRules() (*Rules, error) {
	embeddedOnce.Do(func() {
		embeddedSet, embeddedErr = buildRules(nil)
	})
	return embeddedSet, embeddedErr
}

// MustEmbeddedRules is EmbeddedRules that panics on error (the embedded files are
// validated by the package tests).
func MustEmbeddedRules() *Rules {
	r, err := EmbeddedRules()
	if err != nil {
		panic(err)
	}
	return r
}

type source struct {
	name string
	data []byte
}

func embeddedSources() ([]source, error) {
	entries, err := fs.ReadDir(embeddedRules, "rules")
	if err != nil {
		return nil, err
	}
	var out []source
	for _, e := range entries {
		b, err := embeddedRules.ReadFile("rules/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, source{"rules/" + e.Name(), b})
	}
	// national first
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].name == "rules/national.yaml" && out[j].name != "rules/national.yaml"
	})
	return out, nil
}

// LoadRules loads a rules file or a folder of *.yaml / *.yml files and merges it over
// the embedded rules: national files merge entry by entry (an entry with the same year,
// or the same `from` date, replaces the embedded one; others are added); a municipal
// file replaces the embedded municipality with the same DIVIPOLA code or adds a new one.
func LoadRules(path string) (*Rules, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("no se pudo leer las reglas: %w", err)
	}
	var files []string
	if st.IsDir() {
		ents, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			n := e.Name()
			if !e.IsDir() && (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
				files = append(files, filepath.Join(path, n))
			}
		}
		sort.Strings(files)
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: la carpeta no contiene archivos .yaml", path)
		}
	} else {
		files = []string{path}
	}
	var srcs []source
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, source{f, b})
	}
	return buildRules(srcs)
}

// ParseRules builds a rule set from in-memory files (name -> YAML) merged over the
// embedded rules, with the same semantics as LoadRules.
func ParseRules(files map[string][]byte) (*Rules, error) {
	var srcs []source
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		srcs = append(srcs, source{n, files[n]})
	}
	return buildRules(srcs)
}

// isDivipola says whether s has the shape of a DIVIPOLA municipality code:
// five digits. Checked for every liquidation the ETL recomputes, where the
// regular expression it replaces (^[0-9]{5}$) took 3 % of the Go side's CPU.
func isDivipola(s string) bool {
	if len(s) != 5 {
		return false
	}
	for i := 0; i < 5; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

type parsedSource struct {
	name string
	file *rulesFile
}

var (
	embeddedParsedOnce sync.Once
	embeddedParsed     []parsedSource
	embeddedParsedErr  error
)

// parsedEmbedded parses the embedded files once; buildRules never mutates them.
func parsedEmbedded() ([]parsedSource, error) {
	embeddedParsedOnce.Do(func() {
		srcs, err := embeddedSources()
		if err != nil {
			embeddedParsedErr = err
			return
		}
		for _, s := range srcs {
			f, err := parseRulesFile(s.name, s.data)
			if err != nil {
				embeddedParsedErr = err
				return
			}
			embeddedParsed = append(embeddedParsed, parsedSource{s.name, f})
		}
	})
	return embeddedParsed, embeddedParsedErr
}

// buildRules compiles the embedded files followed by the user's files.
func buildRules(user []source) (*Rules, error) {
	all, err := parsedEmbedded()
	if err != nil {
		return nil, err
	}
	all = append([]parsedSource(nil), all...)
	for _, s := range user {
		f, err := parseRulesFile(s.name, s.data)
		if err != nil {
			return nil, err
		}
		all = append(all, parsedSource{s.name, f})
	}
	r := &Rules{munis: map[string]*municipality{}}
	var nat *rulesFile
	natFile := ""
	for _, ps := range all {
		s, f := ps, ps.file
		r.files = append(r.files, s.name)
		v := &validator{file: s.name}
		if f.SchemaVersion != 1 {
			v.fail("schema_version", "debe ser 1")
		}
		switch f.Kind {
		case "national":
			v.checkNational(f)
			if err := v.err(); err != nil {
				return nil, err
			}
			if nat == nil {
				cp := *f // never mutate a (possibly cached) parsed file
				nat, natFile = &cp, s.name
			} else {
				mergeNational(nat, f)
				natFile += " + " + s.name
			}
		case "municipality":
			v.checkMunicipal(f)
			if err := v.err(); err != nil {
				return nil, err
			}
			m := compileMunicipality(f, s.name)
			r.munis[m.code] = m
		default:
			return nil, &RulesError{File: s.name, Key: "kind", Message: `debe ser "national" o "municipality"`}
		}
	}
	if nat == nil {
		return nil, &RulesError{File: "(reglas)", Message: "no hay archivo de reglas nacionales"}
	}
	n, err := compileNational(nat, natFile)
	if err != nil {
		return nil, err
	}
	r.nat = n
	return r, nil
}

// ---- merging of national files ----

func mergeNational(dst, src *rulesFile) {
	dst.UVT = mergeYears(dst.UVT, src.UVT)
	dst.IPC = mergeYears(dst.IPC, src.IPC)
	dst.SMMLV = mergeYears(dst.SMMLV, src.SMMLV)
	if src.Usury != nil {
		if dst.Usury == nil {
			dst.Usury = &usuryTable{}
		} else {
			u := *dst.Usury
			dst.Usury = &u
		}
		if src.Usury.Ref.Norm != "" {
			dst.Usury.Ref = src.Usury.Ref
		}
		dst.Usury.Periods = mergeFrom(dst.Usury.Periods, src.Usury.Periods, func(p usurySpec) Date { return p.From })
	}
	dst.Interest = mergeFrom(dst.Interest, src.Interest, func(p interestSpec) Date { return p.From })
	dst.Rounding = mergeFrom(dst.Rounding, src.Rounding, func(p roundingSpec) Date { return p.From })
	if src.Sanctions != nil {
		if dst.Sanctions == nil {
			dst.Sanctions = &sanctionSpecs{}
		} else {
			c := *dst.Sanctions
			dst.Sanctions = &c
		}
		dst.Sanctions.LateFiling = mergeFrom(dst.Sanctions.LateFiling, src.Sanctions.LateFiling, func(p lateFilingSpec) Date { return p.From })
		dst.Sanctions.Reduction = mergeFrom(dst.Sanctions.Reduction, src.Sanctions.Reduction, func(p reductionSpec) Date { return p.From })
		dst.Sanctions.Minimum = mergeFrom(dst.Sanctions.Minimum, src.Sanctions.Minimum, func(p minimumSpec) Date { return p.From })
	}
	if src.PredialLimits != nil {
		if dst.PredialLimits == nil {
			dst.PredialLimits = &predialLimitSpecs{}
		} else {
			c := *dst.PredialLimits
			dst.PredialLimits = &c
		}
		dst.PredialLimits.Ley44 = mergeFrom(dst.PredialLimits.Ley44, src.PredialLimits.Ley44, func(p ley44Spec) Date { return p.From })
		dst.PredialLimits.Ley1995 = mergeFrom(dst.PredialLimits.Ley1995, src.PredialLimits.Ley1995, func(p ley1995Spec) Date { return p.From })
	}
	dst.Reliefs = append([]reliefSpec(nil), dst.Reliefs...)
	for _, rs := range src.Reliefs {
		replaced := false
		for i := range dst.Reliefs {
			if dst.Reliefs[i].ID == rs.ID {
				dst.Reliefs[i], replaced = rs, true
			}
		}
		if !replaced {
			dst.Reliefs = append(dst.Reliefs, rs)
		}
	}
}

func mergeYears(dst, src []yearValue) []yearValue {
	out := append([]yearValue(nil), dst...)
	for _, s := range src {
		found := false
		for i := range out {
			if out[i].Year == s.Year {
				out[i], found = s, true
			}
		}
		if !found {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Year < out[j].Year })
	return out
}

func mergeFrom[T any](dst, src []T, key func(T) Date) []T {
	out := append([]T(nil), dst...)
	for _, s := range src {
		found := false
		for i := range out {
			if key(out[i]) == key(s) {
				out[i], found = s, true
			}
		}
		if !found {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return key(out[i]).Before(key(out[j])) })
	return out
}

// ---- validation ----

type validator struct {
	file string
	errs []error
}

func (v *validator) fail(key, format string, a ...any) {
	if len(v.errs) < 20 {
		v.errs = append(v.errs, &RulesError{File: v.file, Key: key, Message: fmt.Sprintf(format, a...)})
	}
}

func (v *validator) err() error { return errors.Join(v.errs...) }

func (v *validator) ref(key string, r Ref) {
	if strings.TrimSpace(r.Norm) == "" && strings.TrimSpace(r.Article) == "" {
		v.fail(key, "falta la referencia legal (norm y article)")
	}
}

func (v *validator) nonneg(key string, n num, required bool) {
	if !n.ok {
		if required {
			v.fail(key, "es obligatorio")
		}
		return
	}
	if n.Sign() < 0 {
		v.fail(key, "no puede ser negativo (%s)", n.String())
	}
}

func (v *validator) pct(key string, n num, required bool, max int64) {
	v.nonneg(key, n, required)
	if n.ok && n.GreaterThan(decimal.NewFromInt(max)) {
		v.fail(key, "debe estar entre 0 y %d (%s)", max, n.String())
	}
}

func (v *validator) spanOK(key string, from, to Date) {
	if from.IsZero() {
		v.fail(key+".from", "es obligatorio (fecha de vigencia AAAA-MM-DD)")
	}
	if !to.IsZero() && to.Before(from) {
		v.fail(key+".to", "es anterior a from")
	}
}

func (v *validator) years(key string, list []yearValue) {
	seen := map[int]bool{}
	for i, y := range list {
		k := fmt.Sprintf("%s[%d]", key, i)
		if y.Year < 1900 || y.Year > 2200 {
			v.fail(k+".year", "año fuera de rango: %d", y.Year)
		}
		if seen[y.Year] {
			v.fail(k+".year", "año %d repetido", y.Year)
		}
		seen[y.Year] = true
		v.nonneg(k+".value", y.Value, true)
		v.ref(k+".ref", y.Ref)
	}
}

func (v *validator) checkNational(f *rulesFile) {
	if f.Divipola != "" || f.Predial != nil || f.ICA != nil || f.ReteICA != nil {
		v.fail("kind", "un archivo nacional no puede tener divipola, predial, ica ni reteica")
	}
	v.years("uvt", f.UVT)
	v.years("ipc", f.IPC)
	v.years("smmlv", f.SMMLV)
	if f.Usury != nil {
		for i, p := range f.Usury.Periods {
			k := fmt.Sprintf("usury.periods[%d]", i)
			v.spanOK(k, p.From, p.To)
			if p.To.IsZero() {
				v.fail(k+".to", "es obligatorio")
			}
			v.pct(k+".rate", p.Rate, true, 200)
			if p.Verified && p.Source == "" {
				v.fail(k+".source", "un valor verificado debe citar su fuente")
			}
		}
	}
	for i, it := range f.Interest {
		k := fmt.Sprintf("interest[%d]", i)
		v.spanOK(k, it.From, it.To)
		v.nonneg(k+".points_below_usury", it.PointsBelowUsury, true)
		if it.DayBasis != 360 && it.DayBasis != 365 && it.DayBasis != 366 {
			v.fail(k+".day_basis", "debe ser 360, 365 o 366")
		}
		v.ref(k+".ref", it.Ref)
	}
	for i, it := range f.Rounding {
		k := fmt.Sprintf("rounding[%d]", i)
		v.spanOK(k, it.From, it.To)
		v.nonneg(k+".multiple", it.Multiple, true)
		if it.Multiple.ok && (!it.Multiple.IsInteger() || it.Multiple.Sign() <= 0 || !isPow10(it.Multiple.IntPart())) {
			v.fail(k+".multiple", "debe ser una potencia de 10 (1, 10, 100, 1000...)")
		}
		v.ref(k+".ref", it.Ref)
	}
	if s := f.Sanctions; s != nil {
		for i, it := range s.LateFiling {
			k := fmt.Sprintf("sanctions.late_filing[%d]", i)
			v.spanOK(k, it.From, it.To)
			v.pct(k+".monthly_percent", it.MonthlyPercent, true, 100)
			v.pct(k+".cap_percent", it.CapPercent, true, 1000)
			v.pct(k+".no_tax_income_monthly_percent", it.NoTaxIncomeMonthlyPercent, true, 100)
			v.pct(k+".no_tax_income_cap_percent", it.NoTaxIncomeCapPercent, true, 100)
			v.nonneg(k+".no_tax_balance_multiple", it.NoTaxBalanceMultiple, true)
			v.nonneg(k+".no_tax_cap_uvt", it.NoTaxCapUVT, true)
			v.pct(k+".no_income_equity_monthly_percent", it.NoIncomeEquityMonthlyPercent, true, 100)
			v.pct(k+".no_income_equity_cap_percent", it.NoIncomeEquityCapPercent, true, 100)
			v.ref(k+".ref", it.Ref)
		}
		for i, it := range s.Reduction {
			k := fmt.Sprintf("sanctions.reduction[%d]", i)
			v.spanOK(k, it.From, it.To)
			if len(it.Tiers) == 0 {
				v.fail(k+".tiers", "debe tener al menos un tramo")
			}
			for j, t := range it.Tiers {
				if t.CleanYears < 1 {
					v.fail(fmt.Sprintf("%s.tiers[%d].clean_years", k, j), "debe ser mayor o igual a 1")
				}
				v.pct(fmt.Sprintf("%s.tiers[%d].pay_percent", k, j), t.PayPercent, true, 100)
			}
			v.ref(k+".ref", it.Ref)
		}
		for i, it := range s.Minimum {
			k := fmt.Sprintf("sanctions.minimum[%d]", i)
			v.spanOK(k, it.From, it.To)
			v.nonneg(k+".uvt", it.UVT, true)
			v.ref(k+".ref", it.Ref)
		}
	}
	if p := f.PredialLimits; p != nil {
		for i, it := range p.Ley44 {
			k := fmt.Sprintf("predial_limits.ley44_art6[%d]", i)
			v.spanOK(k, it.From, it.To)
			v.nonneg(k+".multiple", it.Multiple, true)
			v.ref(k+".ref", it.Ref)
		}
		for i, it := range p.Ley1995 {
			k := fmt.Sprintf("predial_limits.ley1995_art2[%d]", i)
			v.spanOK(k, it.From, it.To)
			v.pct(k+".ipc_plus_points", it.IPCPlusPoints, true, 100)
			v.pct(k+".not_updated_max_increase_percent", it.NotUpdatedMaxIncreasePercent, true, 1000)
			v.nonneg(k+".low_strata_max_smmlv", it.LowStrataMaxSMMLV, true)
			v.pct(k+".low_strata_ipc_percent", it.LowStrataIPCPercent, true, 1000)
			for _, e := range it.LowStrata {
				if e < 1 || e > 6 {
					v.fail(k+".low_strata", "estrato %d fuera de 1..6", e)
				}
			}
			v.ref(k+".ref", it.Ref)
		}
	}
	v.reliefs(f.Reliefs, true)
}

func (v *validator) reliefs(list []reliefSpec, national bool) {
	for i, it := range list {
		k := fmt.Sprintf("reliefs[%d]", i)
		if it.ID == "" {
			v.fail(k+".id", "es obligatorio")
		}
		if !national {
			if !it.From.IsZero() || len(it.Windows) > 0 {
				v.fail(k, "en un archivo municipal un alivio sólo se activa o desactiva (id, enabled, ref); su contenido va en las reglas nacionales")
			}
			if it.Enabled == nil {
				v.fail(k+".enabled", "es obligatorio")
			}
			continue
		}
		v.spanOK(k, it.From, it.To)
		if it.Ref == nil {
			v.fail(k+".ref", "falta la referencia legal")
		} else {
			v.ref(k+".ref", *it.Ref)
		}
		if len(it.Windows) == 0 {
			v.fail(k+".windows", "debe tener al menos una ventana")
		}
		for j, w := range it.Windows {
			if w.Until.IsZero() {
				v.fail(fmt.Sprintf("%s.windows[%d].until", k, j), "es obligatorio")
			}
			v.pct(fmt.Sprintf("%s.windows[%d].pay_capital_percent", k, j), w.PayCapitalPercent, true, 100)
			if j > 0 && !w.Until.After(it.Windows[j-1].Until) {
				v.fail(fmt.Sprintf("%s.windows[%d].until", k, j), "las ventanas deben estar en orden creciente")
			}
		}
	}
}

func (v *validator) percents(key string, list []percentSpec, max int64) {
	for i, p := range list {
		k := fmt.Sprintf("%s[%d]", key, i)
		v.spanOK(k, p.From, p.To)
		v.pct(k+".percent", p.Percent, true, max)
		v.ref(k+".ref", p.Ref)
	}
}

func (v *validator) dues(key string, list []dueSpec, field string) {
	seen := map[int]bool{}
	for i, d := range list {
		k := fmt.Sprintf("%s[%d]", key, i)
		if d.Year < 1900 || d.Year > 2200 {
			v.fail(k+".year", "año fuera de rango: %d", d.Year)
		}
		if seen[d.Year] {
			v.fail(k+".year", "año %d repetido", d.Year)
		}
		seen[d.Year] = true
		dt := d.Date
		if field == "due" {
			dt = d.Due
		}
		if dt.IsZero() {
			v.fail(k+"."+field, "es obligatorio")
		}
		v.ref(k+".ref", d.Ref)
	}
}

func (v *validator) discounts(key string, list []discountSpec, ica bool) {
	seen := map[int]bool{}
	for i, d := range list {
		k := fmt.Sprintf("%s[%d]", key, i)
		if seen[d.Year] {
			v.fail(k+".year", "año %d repetido", d.Year)
		}
		seen[d.Year] = true
		if len(d.Windows) == 0 {
			v.fail(k+".windows", "debe tener al menos una ventana")
		}
		for j, w := range d.Windows {
			kk := fmt.Sprintf("%s.windows[%d]", k, j)
			if w.Until.IsZero() {
				v.fail(kk+".until", "es obligatorio")
			}
			v.pct(kk+".percent", w.Percent, true, 100)
			if j > 0 && !w.Until.After(d.Windows[j-1].Until) {
				v.fail(kk+".until", "las ventanas deben estar en orden creciente de fecha")
			}
		}
		if ica {
			switch d.BaseLine {
			case "", "20", "25":
			default:
				v.fail(k+".base_line", `debe ser "20" o "25"`)
			}
		} else {
			for _, a := range d.AppliesTo {
				switch a {
				case "impuesto", "sobretasa_bomberil", "sobretasa_ambiental":
				default:
					v.fail(k+".applies_to", "valor desconocido %q (use impuesto, sobretasa_bomberil, sobretasa_ambiental)", a)
				}
			}
		}
		v.ref(k+".ref", d.Ref)
	}
}

func (v *validator) checkMunicipal(f *rulesFile) {
	if !isDivipola(f.Divipola) {
		v.fail("divipola", "debe ser el código DIVIPOLA de 5 dígitos (por ejemplo \"68001\"), no %q", f.Divipola)
	}
	base := strings.TrimSuffix(filepath.Base(v.file), filepath.Ext(v.file))
	if isDivipola(base) && base != f.Divipola {
		v.fail("divipola", "el archivo %s declara el código %s", filepath.Base(v.file), f.Divipola)
	}
	if strings.TrimSpace(f.Name) == "" {
		v.fail("name", "es obligatorio")
	}
	if f.Illustrative && strings.TrimSpace(f.Note) == "" {
		v.fail("note", "un archivo ilustrativo debe explicar en note por qué")
	}
	if len(f.UVT)+len(f.IPC)+len(f.SMMLV) > 0 || f.Usury != nil || f.PredialLimits != nil || len(f.Interest) > 0 || len(f.Rounding) > 0 || f.Sanctions != nil {
		v.fail("kind", "un archivo municipal no puede definir reglas nacionales (uvt, ipc, smmlv, usury, interest, rounding, sanctions, predial_limits)")
	}
	for k, d := range f.Destinos {
		if strings.TrimSpace(d.Label) == "" {
			v.fail("destinos."+k+".label", "es obligatorio")
		}
	}
	if p := f.Predial; p != nil {
		for i, t := range p.Tariffs {
			k := fmt.Sprintf("predial.tariffs[%d]", i)
			v.spanOK(k, t.From, t.To)
			v.ref(k+".ref", t.Ref)
			if len(t.Bands) == 0 {
				v.fail(k+".bands", "debe tener al menos una tarifa")
			}
			for j, b := range t.Bands {
				kk := fmt.Sprintf("%s.bands[%d]", k, j)
				if _, ok := f.Destinos[b.Destino]; !ok {
					v.fail(kk+".destino", "destino %q no declarado en destinos", b.Destino)
				}
				for _, e := range b.Estratos {
					if e < 0 || e > 6 {
						v.fail(kk+".estratos", "estrato %d fuera de 0..6", e)
					}
				}
				v.nonneg(kk+".avaluo_up_to", b.AvaluoUpTo, false)
				v.pct(kk+".rate", b.Rate, true, 50)
			}
		}
		for i, a := range p.SobretasaAmbiental {
			k := fmt.Sprintf("predial.sobretasa_ambiental[%d]", i)
			v.spanOK(k, a.From, a.To)
			if a.Mode != "avaluo_per_mille" && a.Mode != "percent_of_tax" {
				v.fail(k+".mode", `debe ser "avaluo_per_mille" o "percent_of_tax"`)
			}
			v.pct(k+".rate", a.Rate, true, 100)
			v.ref(k+".ref", a.Ref)
		}
		v.percents("predial.sobretasa_bomberil", p.SobretasaBomberil, 100)
		v.dues("predial.due_dates", p.DueDates, "date")
		v.discounts("predial.discounts", p.Discounts, false)
	}
	if c := f.ICA; c != nil {
		for i, t := range c.Tariffs {
			k := fmt.Sprintf("ica.tariffs[%d]", i)
			v.spanOK(k, t.From, t.To)
			v.ref(k+".ref", t.Ref)
			seen := map[string]bool{}
			for j, a := range t.Activities {
				kk := fmt.Sprintf("%s.activities[%d]", k, j)
				if a.CIIU == "" {
					v.fail(kk+".ciiu", "es obligatorio")
				}
				if seen[a.CIIU] {
					v.fail(kk+".ciiu", "actividad %s repetida", a.CIIU)
				}
				seen[a.CIIU] = true
				v.pct(kk+".rate", a.Rate, true, 50)
			}
		}
		v.percents("ica.avisos_tableros", c.AvisosTableros, 100)
		v.percents("ica.sobretasa_bomberil", c.SobretasaBomberil, 100)
		for i, a := range c.Anticipo {
			k := fmt.Sprintf("ica.anticipo[%d]", i)
			v.spanOK(k, a.From, a.To)
			v.pct(k+".percent", a.Percent, true, 100)
			v.ref(k+".ref", a.Ref)
		}
		v.dues("ica.filing", c.Filing, "due")
		v.discounts("ica.discounts", c.Discounts, true)
	}
	if rt := f.ReteICA; rt != nil {
		for i, m := range rt.MinimumBases {
			k := fmt.Sprintf("reteica.minimum_bases[%d]", i)
			v.spanOK(k, m.From, m.To)
			for name, b := range m.Bases {
				v.nonneg(k+".bases."+name, b, true)
			}
			v.ref(k+".ref", m.Ref)
		}
		seen := map[int]bool{}
		for i, y := range rt.Filing {
			k := fmt.Sprintf("reteica.filing[%d]", i)
			if seen[y.Year] {
				v.fail(k+".year", "año %d repetido", y.Year)
			}
			seen[y.Year] = true
			v.ref(k+".ref", y.Ref)
			for j, p := range y.Periods {
				kk := fmt.Sprintf("%s.periods[%d]", k, j)
				if p.Period != j+1 {
					v.fail(kk+".period", "los periodos deben numerarse 1, 2, 3... en orden")
				}
				if p.From.IsZero() || p.To.IsZero() || p.Due.IsZero() || p.To.Before(p.From) {
					v.fail(kk, "from, to y due son obligatorios y to no puede ser anterior a from")
				}
			}
		}
	}
	v.reliefs(f.Reliefs, false)
}

func isPow10(x int64) bool {
	for x > 1 && x%10 == 0 {
		x /= 10
	}
	return x == 1
}

// ---- compilation ----

func estrMask(list []int) uint16 {
	var m uint16
	for _, e := range list {
		if e >= 0 && e < 16 {
			m |= 1 << uint(e)
		}
	}
	return m
}

func years(list []yearValue) yearTable {
	t := make(yearTable, len(list))
	for i, y := range list {
		t[i] = yearEntry{y.Year, y.Value.Decimal, y.Ref, y.Ref.Cite()}
	}
	return t
}

func compileNational(f *rulesFile, file string) (national, error) {
	n := national{uvt: years(f.UVT), ipc: years(f.IPC), smmlv: years(f.SMMLV)}
	bad := func(key, msg string) error { return &RulesError{File: file, Key: key, Message: msg} }
	if len(f.Interest) == 0 || len(f.Rounding) == 0 || f.Sanctions == nil || len(f.Sanctions.LateFiling) == 0 || len(f.Sanctions.Minimum) == 0 {
		return n, bad("", "faltan reglas obligatorias (interest, rounding, sanctions.late_filing, sanctions.minimum)")
	}
	basis := int64(0)
	for _, it := range f.Interest {
		if basis != 0 && int64(it.DayBasis) != basis {
			return n, bad("interest", "todas las reglas de interés deben usar la misma base de días")
		}
		basis = int64(it.DayBasis)
		n.interest = append(n.interest, interestRule{span{it.From, it.To}, it.PointsBelowUsury.Decimal, basis, it.Ref, it.Ref.Cite()})
	}
	if f.Usury != nil {
		n.usuryRef = f.Usury.Ref
		ps := append([]usurySpec(nil), f.Usury.Periods...)
		sort.Slice(ps, func(i, j int) bool { return ps[i].From.Before(ps[j].From) })
		for i, p := range ps {
			if i > 0 && !p.From.After(ps[i-1].To) {
				return n, bad(fmt.Sprintf("usury.periods (%s)", p.From), "el periodo se solapa con el anterior")
			}
			ir := pickSpan(n.interest, p.From)
			if ir < 0 {
				return n, bad(fmt.Sprintf("usury.periods (%s)", p.From), "no hay regla de interés (interest) vigente para este periodo")
			}
			rule := n.interest[ir]
			net := p.Rate.Sub(rule.points)
			if net.Sign() < 0 {
				net = decimal.Zero
			}
			n.usury = append(n.usury, usuryPeriod{span{p.From, p.To}, p.Rate.Decimal, net, rule.points, p.Verified, p.Source, p.Note, rule.cite})
		}
	}
	for _, it := range f.Rounding {
		places := int32(0)
		for x := it.Multiple.IntPart(); x > 1; x /= 10 {
			places--
		}
		n.rounding = append(n.rounding, roundingRule{span{it.From, it.To}, it.Multiple.Decimal, places, it.Ref, it.Ref.Cite()})
	}
	for _, it := range f.Sanctions.LateFiling {
		n.lateFiling = append(n.lateFiling, lateFilingRule{span{it.From, it.To}, it.MonthlyPercent.Decimal, it.CapPercent.Decimal,
			it.NoTaxIncomeMonthlyPercent.Decimal, it.NoTaxIncomeCapPercent.Decimal, it.NoTaxBalanceMultiple.Decimal, it.NoTaxCapUVT.Decimal,
			it.NoIncomeEquityMonthlyPercent.Decimal, it.NoIncomeEquityCapPercent.Decimal, it.Ref, it.Ref.Cite()})
	}
	for _, it := range f.Sanctions.Reduction {
		rr := reductionRule{span: span{it.From, it.To}, ref: it.Ref, cite: it.Ref.Cite()}
		for _, t := range it.Tiers {
			rr.tiers = append(rr.tiers, reductionTier{t.CleanYears, t.PayPercent.Decimal})
		}
		sort.Slice(rr.tiers, func(i, j int) bool { return rr.tiers[i].cleanYears > rr.tiers[j].cleanYears })
		n.reduction = append(n.reduction, rr)
	}
	for _, it := range f.Sanctions.Minimum {
		n.minimum = append(n.minimum, minimumRule{span{it.From, it.To}, it.UVT.Decimal, it.Ref, it.Ref.Cite()})
	}
	if p := f.PredialLimits; p != nil {
		for _, it := range p.Ley44 {
			n.ley44 = append(n.ley44, ley44Rule{span{it.From, it.To}, it.Multiple.Decimal, it.Ref, it.Ref.Cite()})
		}
		for _, it := range p.Ley1995 {
			n.ley1995 = append(n.ley1995, ley1995Rule{span{it.From, it.To}, it.IPCPlusPoints.Decimal, it.NotUpdatedMaxIncreasePercent.Decimal,
				it.LowStrataMaxSMMLV.Decimal, it.LowStrataIPCPercent.Decimal, estrMask(it.LowStrata), it.IPCYearOffset, it.Ref, it.Ref.Cite()})
		}
	}
	for _, it := range f.Reliefs {
		rr := reliefRule{span: span{it.From, it.To}, id: it.ID, label: it.Label, enabled: it.Enabled == nil || *it.Enabled,
			dueBefore: it.ObligationsDueBefore, waiveInterest: it.WaiveInterest, waiveSanctions: it.WaiveSanctions}
		if it.Ref != nil {
			rr.ref, rr.cite = *it.Ref, it.Ref.Cite()
		}
		for _, w := range it.Windows {
			rr.windows = append(rr.windows, reliefWindow{w.Until, w.PayCapitalPercent.Decimal})
		}
		n.reliefs = append(n.reliefs, rr)
	}
	return n, nil
}

func compileMunicipality(f *rulesFile, file string) *municipality {
	m := &municipality{code: f.Divipola, name: f.Name, department: f.Department, illustrative: f.Illustrative,
		note: f.Note, sources: f.Sources, file: file, destinos: map[string]destino{},
		predialDue: map[int]dueRule{}, predialDisc: map[int]discountRule{}, icaFiling: map[int]dueRule{},
		icaDisc: map[int]discountRule{}, retFiling: map[int]retFilingYear{}, reliefs: map[string]reliefSwitch{}}
	for k, d := range f.Destinos {
		m.destinos[k] = destino{d.Label, d.Vivienda, d.LoteUrbanizable}
	}
	pct := func(list []percentSpec) []percentRule {
		var out []percentRule
		for _, p := range list {
			out = append(out, percentRule{span{p.From, p.To}, p.Percent.Decimal, p.Ref, p.Ref.Cite()})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].from.Before(out[j].from) })
		return out
	}
	disc := func(list []discountSpec, into map[int]discountRule) {
		for _, d := range list {
			dr := discountRule{appliesTo: d.AppliesTo, baseLine: d.BaseLine, ref: d.Ref, cite: d.Ref.Cite()}
			if len(dr.appliesTo) == 0 {
				dr.appliesTo = []string{"impuesto"}
			}
			if dr.baseLine == "" {
				dr.baseLine = "20"
			}
			for _, w := range d.Windows {
				dr.windows = append(dr.windows, discountWindow{w.Until, w.Percent.Decimal})
			}
			into[d.Year] = dr
		}
	}
	if p := f.Predial; p != nil {
		for _, t := range p.Tariffs {
			ts := predialTariffSet{span: span{t.From, t.To}, ref: t.Ref, cite: t.Ref.Cite(), citeTax: t.Ref.Cite() + "; Ley 44 de 1990, art. 4"}
			for _, b := range t.Bands {
				bd := predialBand{destino: b.Destino, estratos: estrMask(b.Estratos), upTo: b.AvaluoUpTo.Decimal, hasUpTo: b.AvaluoUpTo.ok, rate: b.Rate.Decimal}
				if bd.hasUpTo {
					bd.upToM, bd.upToMOK = toMicro(bd.upTo)
				}
				ts.bands = append(ts.bands, bd)
			}
			m.predialTariffs = append(m.predialTariffs, ts)
		}
		sort.Slice(m.predialTariffs, func(i, j int) bool { return m.predialTariffs[i].from.Before(m.predialTariffs[j].from) })
		for _, a := range p.SobretasaAmbiental {
			m.ambiental = append(m.ambiental, ambientalRule{span{a.From, a.To}, a.Mode == "avaluo_per_mille", a.Rate.Decimal, a.Ref, a.Ref.Cite()})
		}
		m.bomberilPredial = pct(p.SobretasaBomberil)
		for _, d := range p.DueDates {
			m.predialDue[d.Year] = dueRule{d.Date, d.Ref, d.Ref.Cite()}
		}
		disc(p.Discounts, m.predialDisc)
	}
	if c := f.ICA; c != nil {
		for _, t := range c.Tariffs {
			ts := icaTariffSet{span: span{t.From, t.To}, acts: map[string]*icaActivity{}, ref: t.Ref, cite: t.Ref.Cite()}
			for _, a := range t.Activities {
				ts.acts[a.CIIU] = &icaActivity{a.CIIU, a.Label, a.Kind, a.Rate.Decimal}
			}
			m.icaTariffs = append(m.icaTariffs, ts)
		}
		sort.Slice(m.icaTariffs, func(i, j int) bool { return m.icaTariffs[i].from.Before(m.icaTariffs[j].from) })
		m.avisos = pct(c.AvisosTableros)
		m.icaBomberil = pct(c.SobretasaBomberil)
		for _, a := range c.Anticipo {
			m.anticipo = append(m.anticipo, anticipoRule{span{a.From, a.To}, a.Percent.Decimal, a.SubtractWithholdings, a.Ref, a.Ref.Cite()})
		}
		for _, d := range c.Filing {
			m.icaFiling[d.Year] = dueRule{d.Due, d.Ref, d.Ref.Cite()}
		}
		disc(c.Discounts, m.icaDisc)
	}
	if rt := f.ReteICA; rt != nil {
		for _, mb := range rt.MinimumBases {
			r := retMinRule{span: span{mb.From, mb.To}, inclusive: mb.Inclusive, bases: map[string]decimal.Decimal{}, ref: mb.Ref, cite: mb.Ref.Cite()}
			for k, b := range mb.Bases {
				r.bases[k] = b.Decimal
			}
			m.retMin = append(m.retMin, r)
		}
		for _, y := range rt.Filing {
			fy := retFilingYear{periodicity: y.Periodicity, ref: y.Ref, cite: y.Ref.Cite()}
			for _, p := range y.Periods {
				fy.periods = append(fy.periods, retPeriod{p.Period, p.From, p.To, p.Due})
			}
			m.retFiling[y.Year] = fy
		}
	}
	for _, rs := range f.Reliefs {
		m.reliefs[rs.ID] = reliefSwitch{enabled: rs.Enabled != nil && *rs.Enabled, ref: rs.Ref}
	}
	return m
}
