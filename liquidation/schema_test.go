package liquidation

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// collect returns the JSON property names of a struct type and its nested structs,
// keyed by schema definition path.
func jsonFields(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func schemaProps(t *testing.T, node map[string]any) []string {
	props, ok := node["properties"].(map[string]any)
	if !ok {
		t.Fatalf("schema node without properties: %v", node)
	}
	var out []string
	for k := range props {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestRequestSchemaMatchesStructs(t *testing.T) {
	var s map[string]any
	if err := json.Unmarshal(RequestSchema(), &s); err != nil {
		t.Fatal(err)
	}
	defs := s["$defs"].(map[string]any)
	pairs := []struct {
		node map[string]any
		typ  reflect.Type
	}{
		{s, reflect.TypeOf(Request{})},
		{defs["predial"].(map[string]any), reflect.TypeOf(PredialInput{})},
		{defs["ica"].(map[string]any), reflect.TypeOf(ICAInput{})},
		{defs["reteica"].(map[string]any), reflect.TypeOf(ReteICAInput{})},
		{defs["sancion"].(map[string]any), reflect.TypeOf(SanctionInput{})},
		{defs["ica"].(map[string]any)["properties"].(map[string]any)["actividades"].(map[string]any)["items"].(map[string]any), reflect.TypeOf(ICAActivity{})},
		{defs["reteica"].(map[string]any)["properties"].(map[string]any)["pagos"].(map[string]any)["items"].(map[string]any), reflect.TypeOf(ReteICAPago{})},
	}
	for _, p := range pairs {
		got, want := schemaProps(t, p.node), jsonFields(p.typ)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: schema properties %v != struct fields %v", p.typ.Name(), got, want)
		}
	}
}

func TestResultSchemaMatchesStructs(t *testing.T) {
	var s map[string]any
	if err := json.Unmarshal(ResultSchema(), &s); err != nil {
		t.Fatal(err)
	}
	defs := s["$defs"].(map[string]any)
	top := append(jsonFields(reflect.TypeOf(Result{})), "line", "source", "verification", "error")
	sort.Strings(top)
	if got := schemaProps(t, s); strings.Join(got, ",") != strings.Join(top, ",") {
		t.Errorf("result schema %v != %v", got, top)
	}
	if got, want := schemaProps(t, defs["line"].(map[string]any)), jsonFields(reflect.TypeOf(Line{})); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("line schema %v != %v", got, want)
	}
	wantCheck := append(jsonFields(reflect.TypeOf(Check{})), "expected")
	sort.Strings(wantCheck)
	if got := schemaProps(t, defs["check"].(map[string]any)); strings.Join(got, ",") != strings.Join(wantCheck, ",") {
		t.Errorf("check schema %v != %v", got, wantCheck)
	}
	if got, want := schemaProps(t, defs["verification"].(map[string]any)), jsonFields(reflect.TypeOf(Verification{})); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("verification schema %v != %v", got, want)
	}
}
