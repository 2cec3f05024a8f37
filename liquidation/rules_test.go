package liquidation

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestEmbeddedRulesValid(t *testing.T) {
	r, err := EmbeddedRules()
	if err != nil {
		t.Fatal(err)
	}
	ms := r.Municipalities()
	if len(ms) != 3 || ms[0].Code != "18001" || ms[1].Code != "25151" || ms[2].Code != "68001" {
		t.Fatalf("municipalities = %+v", ms)
	}
	for _, m := range ms {
		if !m.Illustrative {
			t.Errorf("%s: demo tariffs must be flagged illustrative", m.Code)
		}
	}
	for y := 2019; y <= 2026; y++ {
		if _, ok := r.nat.uvt.get(y); !ok {
			t.Errorf("missing UVT %d", y)
		}
		if _, ok := r.nat.smmlv.get(y); !ok {
			t.Errorf("missing SMMLV %d", y)
		}
	}
	want := map[int]string{2019: "34270", 2020: "35607", 2021: "36308", 2022: "38004", 2023: "42412", 2024: "47065", 2025: "49799", 2026: "52374"}
	for y, v := range want {
		if e, _ := r.nat.uvt.get(y); e.value.String() != v {
			t.Errorf("UVT %d = %s, want %s", y, e.value, v)
		}
	}
	// usury table: contiguous monthly periods from 2019-01 through at least 2026-01
	first, last := r.nat.usury[0], r.nat.usury[len(r.nat.usury)-1]
	if first.from != NewDate(2019, 1, 1) || last.to.Before(NewDate(2026, 1, 31)) {
		t.Fatalf("usury table covers %s..%s", first.from, last.to)
	}
	for i := 1; i < len(r.nat.usury); i++ {
		if r.nat.usury[i].from != r.nat.usury[i-1].to.AddDays(1) {
			t.Fatalf("gap in usury table before %s", r.nat.usury[i].from)
		}
	}
}

func TestLoadRulesMergesOverEmbedded(t *testing.T) {
	r, err := LoadRules("testdata/rules/override")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Municipalities()) != 4 {
		t.Fatalf("want embedded + 1 municipality, got %d", len(r.Municipalities()))
	}
	if e, ok := r.nat.uvt.get(2027); !ok || e.value.String() != "55000" {
		t.Fatal("UVT 2027 from the override not merged")
	}
	if e, _ := r.nat.uvt.get(2024); e.value.String() != "47065" {
		t.Fatal("embedded UVT 2024 lost in merge")
	}
	// the added April 2026 usury period makes that interest computable
	it := r.MoratoryInterest(mustDec("1000000"), NewDate(2026, 3, 31), NewDate(2026, 4, 30), false)
	if it.Unresolved != "" || it.Value.String() != "22950.82" { // 1e6 x 28 x 30 / 36600
		t.Fatalf("interest with merged usury = %s %q", it.Value, it.Unresolved)
	}
	res, err := r.Liquidate(&Request{Tax: TaxPredial, Municipality: "99999", Year: 2026, Predial: &PredialInput{Avaluo: nd("1000000"), Destino: "habitacional"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total.String() != "10000" {
		t.Fatalf("total = %s", res.Total)
	}
	// a single file works too
	if _, err := LoadRules("testdata/rules/override/99999.yaml"); err != nil {
		t.Fatal(err)
	}
}

func TestRulesValidationNamesFileAndKey(t *testing.T) {
	base, _ := os.ReadFile("testdata/rules/override/99999.yaml")
	cases := []struct {
		name, from, to, wantKey string
	}{
		{"bad rate", `rate: "10"`, `rate: "diez"`, "línea"},
		{"negative rate", `rate: "10"`, `rate: "-1"`, "predial.tariffs[0].bands[0].rate"},
		{"unknown destino", `{destino: habitacional, rate`, `{destino: comercial, rate`, "predial.tariffs[0].bands[0].destino"},
		{"missing ref", `ref: {norm: "Acuerdo de prueba 1 de 2020", article: "art. 10"}`, `ref: {}`, "predial.tariffs[0].ref"},
		{"bad divipola", `divipola: "99999"`, `divipola: "999"`, "divipola"},
		{"unknown key", `illustrative: true`, "illustrative: true\ncolor: azul", "color"},
		{"missing from", `    - from: 2020-01-01`, `    - from: null`, "predial.tariffs[0].from"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := strings.Replace(string(base), c.from, c.to, 1)
			if data == string(base) {
				t.Fatal("replacement did not apply")
			}
			_, err := ParseRules(map[string][]byte{"mis-reglas/99999.yaml": []byte(data)})
			if err == nil {
				t.Fatal("expected a validation error")
			}
			if !strings.Contains(err.Error(), "mis-reglas/99999.yaml") || !strings.Contains(err.Error(), c.wantKey) {
				t.Fatalf("error %q should name the file and %q", err, c.wantKey)
			}
		})
	}
}

func TestLoadRulesErrors(t *testing.T) {
	if _, err := LoadRules("testdata/no-such-dir"); err == nil {
		t.Fatal("expected error")
	}
	dir := t.TempDir()
	if _, err := LoadRules(dir); err == nil || !strings.Contains(err.Error(), ".yaml") {
		t.Fatalf("empty dir error = %v", err)
	}
	os.WriteFile(filepath.Join(dir, "x.yaml"), []byte("schema_version: 1\nkind: planeta\n"), 0o644)
	if _, err := LoadRules(dir); err == nil || !strings.Contains(err.Error(), "kind") {
		t.Fatalf("bad kind error = %v", err)
	}
}

// TestIsDivipola: the check of a municipality code's shape accepts what
// the regular expression it replaced (^[0-9]{5}$) accepted, and nothing
// else.
func TestIsDivipola(t *testing.T) {
	re := regexp.MustCompile(`^[0-9]{5}$`)
	cases := []string{"", "6800", "68001", "680011", "6800a", "a8001", "68 01", "68001\n", "\n68001", "０8001", "99999", "00000", "1234/", "1234:"}
	for c := 0; c < 256; c++ {
		cases = append(cases, "6800"+string(rune(c)), string([]byte{'6', '8', '0', '0', byte(c)}))
	}
	for _, s := range cases {
		if got, want := isDivipola(s), re.MatchString(s); got != want {
			t.Errorf("isDivipola(%q) = %v, la expresión regular dice %v", s, got, want)
		}
	}
}
