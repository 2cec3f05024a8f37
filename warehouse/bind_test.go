package warehouse

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestBind(t *testing.T) {
	cases := []struct {
		sql    string
		params []Param
		want   string
	}{
		{"SELECT {a:String}", []Param{P("a", "x' OR 1=1 --\\")}, `SELECT CAST('x\' OR 1=1 --\\' AS String)`},
		{"SELECT {d:Decimal(18, 2)}", []Param{P("d", decimal.RequireFromString("3.14159"))}, "SELECT CAST('3.14' AS Decimal(18, 2))"},
		{"SELECT {f:Date}", []Param{P("f", time.Date(2024, 2, 29, 23, 0, 0, 0, time.UTC))}, "SELECT CAST('2024-02-29' AS Date)"},
		{"SELECT x IN {m:In(String)}", []Param{P("m", []string{"a", "b"})}, "SELECT x IN (CAST('a' AS String), CAST('b' AS String))"},
		{"SELECT '{not:a}' -- {nor:this}\n, {y:UInt16}", []Param{P("y", 2024)}, "SELECT '{not:a}' -- {nor:this}\n, CAST('2024' AS UInt16)"},
		{"SELECT * FROM {t:Identifier}", []Param{P("t", "tmp_saldos_1")}, "SELECT * FROM `tmp_saldos_1`"},
	}
	for _, c := range cases {
		got, err := Bind(c.sql, c.params...)
		if err != nil || got != c.want {
			t.Errorf("Bind(%q) = %q, %v; want %q", c.sql, got, err, c.want)
		}
	}
	for _, bad := range []struct {
		sql    string
		params []Param
		msg    string
	}{
		{"SELECT {a:String}", nil, "falta el parámetro"},
		{"SELECT 1", []Param{P("a", 1)}, "no aparece"},
		{"SELECT {a:String); DROP TABLE x; --}", []Param{P("a", 1)}, "tipo inválido"},
		{"SELECT {a:String}", []Param{P("a; DROP", 1)}, "nombre inválido"},
		{"SELECT {a}", []Param{P("a", 1)}, "sin tipo"},
		{"SELECT x IN {m:In(String)}", []Param{P("m", []string{})}, "no vacía"},
		{"SELECT * FROM {t:Identifier}", []Param{P("t", "x` UNION ALL SELECT 1 --")}, "identificador inválido"},
		{"SELECT * FROM {t:Identifier}", []Param{P("t", 7)}, "identificador inválido"},
	} {
		if _, err := Bind(bad.sql, bad.params...); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("Bind(%q) error = %v, want %q", bad.sql, err, bad.msg)
		}
	}
}

func FuzzBind(f *testing.F) {
	f.Add("SELECT {a:String}", "valor")
	f.Add("SELECT '{x' , {a:String} /* } */", "'\\")
	f.Fuzz(func(t *testing.T, sql, value string) {
		out, err := Bind(sql, P("a", value))
		if err != nil {
			return
		}
		// The value only ever appears inside one quoted literal.
		if strings.Contains(value, "'") && strings.Count(out, "'") < 2 {
			t.Fatalf("unquoted value in %q", out)
		}
	})
}
