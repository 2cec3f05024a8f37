package liquidation

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestRunCLIMixedLines(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"ok","tax":"predial","municipality":"68001","year":2025,"predial":{"avaluo":"60000000","destino":"habitacional","estrato":2}}`,
		``,
		`{"id":"bad","tax":"predial","municipality":"68001","year":2025,"predial":{"avaluo":"abc","destino":"habitacional","estrato":2}}`,
		`{not json`,
		`{"id":"rule","tax":"predial","municipality":"68001","year":2025,"predial":{"avaluo":"1","destino":"habitacional","estrato":0}}`,
		`{"id":"unk","tax":"predial","municipality":"68001","year":2025,"predial":{"avaluo":"1","destino":"habitacional","color":"x"}}`,
	}, "\n")
	var out, errb bytes.Buffer
	code := RunCLI(context.Background(), []string{"--explain"}, strings.NewReader(in), &out, &errb)
	if code != 1 {
		t.Fatalf("exit code = %d, want 1 (stderr %s)", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("want 5 output lines, got %d:\n%s", len(lines), out.String())
	}
	var o []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("invalid JSON line %q: %v", l, err)
		}
		o = append(o, m)
	}
	if o[0]["line"].(float64) != 1 || o[0]["total"] != "390000" || o[0]["error"] != nil {
		t.Fatalf("line 1 = %v", o[0])
	}
	if o[1]["line"].(float64) != 3 || o[1]["error"].(map[string]any)["field"] != "predial.avaluo" {
		t.Fatalf("line 3 = %v", o[1])
	}
	if o[2]["line"].(float64) != 4 || o[2]["error"] == nil {
		t.Fatalf("line 4 = %v", o[2])
	}
	if o[3]["error"].(map[string]any)["rule"] != "predial.tarifa" {
		t.Fatalf("line 5 = %v", o[3])
	}
	if o[4]["error"].(map[string]any)["field"] != "predial.color" {
		t.Fatalf("line 6 = %v", o[4])
	}
	// explain populated params on line 1
	l0 := o[0]["lines"].([]any)[1].(map[string]any)
	if l0["params"] == nil {
		t.Fatal("--explain should fill params")
	}
}

func TestRunCLIVerifyAndFiles(t *testing.T) {
	var out, errb bytes.Buffer
	code := RunCLI(context.Background(), []string{"--verify", "examples/verify.jsonl"}, strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errb.String(), out.String())
	}
	statuses := []string{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m struct {
			Verification struct{ Status string } `json:"verification"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, m.Verification.Status)
	}
	if strings.Join(statuses, ",") != "match,rounding,discrepancy,unverifiable" {
		t.Fatalf("statuses = %v", statuses)
	}
	out.Reset()
	if code := RunCLI(context.Background(), []string{"--rules", "testdata/no-such"}, strings.NewReader(""), &out, &errb); code != 2 {
		t.Fatalf("bad rules exit = %d", code)
	}
	if code := RunCLI(context.Background(), []string{"--bogus"}, strings.NewReader(""), &out, &errb); code != 2 {
		t.Fatalf("bad flag exit = %d", code)
	}
}

func TestExamplesRun(t *testing.T) {
	for _, f := range []string{"examples/predial.jsonl", "examples/ica.jsonl", "examples/reteica.jsonl"} {
		var out, errb bytes.Buffer
		if code := RunCLI(context.Background(), []string{"--explain", f}, nil, &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", f, code, out.String(), errb.String())
		}
	}
}
