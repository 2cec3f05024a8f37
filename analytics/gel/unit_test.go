package gel

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/warehouse"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func TestKey(t *testing.T) {
	for in, want := range map[string]string{
		"Trámites y servicios":            "tramites-y-servicios",
		"  ÑANDÚ / Pingüino  ":            "nandu-pinguino",
		"Información en audio y/o video":  "informacion-en-audio-y-o-video",
		"--Ya--":                          "ya",
		"":                                "",
		"Estándares técnicos: dominio, …": "estandares-tecnicos-dominio",
	} {
		if got := Key(in); got != want {
			t.Errorf("Key(%q) = %q, se esperaba %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"Fase de Información": "informacion",
		"fase transacción":    "transaccion",
		"E-Democracia":        "e-democracia",
		"de-mas":              "de-mas", // only after "fase"
	} {
		if got := PhaseKey(in); got != want {
			t.Errorf("PhaseKey(%q) = %q, se esperaba %q", in, got, want)
		}
	}
}

func TestCatalog(t *testing.T) {
	c := Default()
	f := c.Framework("gel2008")
	if f == nil || len(f.Phases) != 5 {
		t.Fatalf("gel2008: %+v", f)
	}
	deadlines := []string{"2008-11-01", "2009-12-01", "2010-12-01", "2011-12-01", "2012-12-01"}
	counts := []int{10, 11, 8, 11, 5} // seed 004, slides 13-17
	for i, p := range f.Phases {
		if p.Deadline == nil || p.Deadline.Format("2006-01-02") != deadlines[i] || len(p.Criteria) != counts[i] {
			t.Errorf("%s: plazo %v, %d criterios", p.ID, p.Deadline, len(p.Criteria))
		}
		for _, cr := range p.Criteria {
			if cr.Deadline == nil || !cr.Deadline.Equal(*p.Deadline) || !cr.Target.Equal(dec("100")) || cr.Unit != UnitPercent {
				t.Errorf("%s/%s: plazo %v meta %s unidad %s", p.ID, cr.ID, cr.Deadline, cr.Target, cr.Unit)
			}
		}
		if len(p.References) == 0 {
			t.Errorf("%s: sin referencia legal", p.ID)
		}
	}
	if p := f.ResolvePhase("E-Democracia"); p == nil || p.ID != "democracia" {
		t.Errorf("E-Democracia: %v", p)
	}
	if got := f.Phase("interaccion").ResolveCriterion("Contáctenos (correo electrónico activo)"); got != "buzon-contactenos" {
		t.Errorf("contáctenos: %q", got)
	}
	if got := f.Phase("interaccion").ResolveCriterion("Avance de la fase"); got != TotalCriterion {
		t.Errorf("avance de la fase: %q", got)
	}
	gd := c.Framework("gd2018")
	if gd == nil || len(gd.Phases) != 8 || gd.Unit != UnitScore {
		t.Fatalf("gd2018: %+v", gd)
	}
	// Bucaramanga's 2020 self-assessment names (seed 001) resolve.
	for _, n := range []string{"Servicios Digitales de Confianza y Calidad", "Empoderamiento de los ciudadanos mediante un estado abierto",
		"Fortalecimiento de la arquitectura Empresarial y de la Gestión TI", "Fortalecimiento de la seguridad y Privacidad de la información",
		"Toma de decisiones basadas en Datos", "Procesos seguros y eficientes", "Impulso en el desarrollo de territorios y ciudades Inteligentes",
		"Uso y Apropiación de los servicios Ciudadanos Digitales"} {
		if gd.ResolvePhase(n) == nil {
			t.Errorf("gd2018 no reconoce %q", n)
		}
	}
	if c.Framework("igd").General != "indice-gobierno-digital" {
		t.Errorf("igd general %q", c.Framework("igd").General)
	}
}

func TestParseCatalogErrors(t *testing.T) {
	for name, y := range map[string]string{
		"unknown key":  "marcos:\n  - id: x\n    nombre: X\n    unidad: percent\n    colour: red\n",
		"bad unit":     "marcos:\n  - id: x\n    nombre: X\n    unidad: pesos\n",
		"bad id":       "marcos:\n  - id: Gel 2008\n    nombre: X\n    unidad: percent\n",
		"bad deadline": "marcos:\n  - id: x\n    nombre: X\n    unidad: percent\n    fases:\n      - {id: a, nombre: A, plazo: 1/11/2008}\n",
		"two phases":   "marcos:\n  - id: x\n    nombre: X\n    unidad: percent\n    fases:\n      - {id: a, nombre: A}\n      - {id: b, nombre: A}\n",
		"reserved":     "marcos:\n  - id: x\n    nombre: X\n    unidad: percent\n    fases:\n      - {id: a, nombre: A, criterios: [{id: total, nombre: T}]}\n",
		"no norm":      "marcos:\n  - id: x\n    nombre: X\n    unidad: percent\n    referencias: [{nota: sin norma}]\n",
		"general":      "marcos:\n  - id: x\n    nombre: X\n    unidad: percent\n    general: nada\n",
	} {
		if _, err := ParseCatalog([]byte(y)); err == nil {
			t.Errorf("%s: aceptado", name)
		}
	}
}

func TestPhaseStatus(t *testing.T) {
	deadline := datep("2009-12-01")
	for _, c := range []struct {
		metOn, deadline *time.Time
		at              string
		want            Status
	}{
		{datep("2009-11-30"), deadline, "2010-01-01", StatusOnTime},
		{datep("2009-12-01"), deadline, "2010-01-01", StatusOnTime}, // on the deadline day
		{datep("2009-12-02"), deadline, "2010-01-01", StatusLate},
		{nil, deadline, "2009-12-01", StatusPending}, // the deadline day itself is still in time
		{nil, deadline, "2009-12-02", StatusOverdue},
		{nil, nil, "2030-01-01", StatusNoDeadline},
		{datep("2020-12-31"), nil, "2030-01-01", StatusMet},
	} {
		if got := PhaseStatus(c.metOn, c.deadline, date(c.at)); got != c.want {
			t.Errorf("PhaseStatus(%v, %v, %s) = %s, se esperaba %s", c.metOn, c.deadline, c.at, got, c.want)
		}
	}
}

func TestActionStatus(t *testing.T) {
	deadline := datep("2009-12-31")
	for _, c := range []struct {
		reported       string
		done, deadline *time.Time
		at             string
		want           Status
	}{
		{"cumplida", datep("2009-10-01"), deadline, "2010-06-01", StatusOnTime},
		{"cumplida", datep("2010-02-01"), deadline, "2010-06-01", StatusLate},
		{"cumplida", datep("2010-02-01"), deadline, "2010-01-15", StatusOverdue}, // completed later than the date asked about
		{"cumplida", nil, deadline, "2010-06-01", StatusMet},
		{"en_curso", nil, deadline, "2009-06-01", StatusOngoing},
		{"en_curso", nil, deadline, "2010-01-01", StatusOverdue},
		{"pendiente", nil, nil, "2030-01-01", StatusPending},
		{"cancelada", nil, deadline, "2030-01-01", StatusCancelled},
	} {
		if got := ActionStatus(c.reported, c.done, c.deadline, date(c.at)); got != c.want {
			t.Errorf("ActionStatus(%s, %v, %v, %s) = %s, se esperaba %s", c.reported, c.done, c.deadline, c.at, got, c.want)
		}
	}
}

func TestCompetitionRanks(t *testing.T) {
	for in, want := range map[string]string{
		"90 70 70 50":   "1 2 2 4",
		"50 70 90 70":   "4 2 1 2",
		"10 10 10":      "1 1 1",
		"":              "",
		"33.3333 33.33": "1 2",
	} {
		var scores []decimal.Decimal
		for _, f := range strings.Fields(in) {
			scores = append(scores, dec(f))
		}
		var got []string
		for _, r := range CompetitionRanks(scores) {
			got = append(got, itoa(r))
		}
		if strings.Join(got, " ") != want {
			t.Errorf("CompetitionRanks(%s) = %v, se esperaba %s", in, got, want)
		}
	}
}

func TestQueries(t *testing.T) {
	for _, n := range Names() {
		q, err := Get(n)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(q.SQL, "{{") || q.Description == "" || strings.HasPrefix(n, "_") {
			t.Errorf("%s: fragmento sin expandir o sin descripción", n)
		}
		if len(q.SQL) > 200_000 {
			t.Errorf("%s: %d bytes, cerca de max_query_size (256 KiB)", n, len(q.SQL))
		}
	}
	g := generatedFragments(Default())
	for _, pair := range [][2]string{{"_fase_desde", "_fase_hacia"}, {"_crit_desde", "_crit_hacia"}, {"_fase_ids", "_fase_metas"},
		{"_fase_ids", "_fase_plazos"}, {"_crit_ids", "_crit_metas"}, {"_crit_ids", "_crit_nombres"}, {"_marcos", "_marco_fases"}} {
		if a, b := elements(g[pair[0]]), elements(g[pair[1]]); a != b || a == 0 {
			t.Errorf("%s y %s: %d y %d elementos", pair[0], pair[1], a, b)
		}
	}
	if quote(`O'Higgins \ 1`) != `'O\'Higgins \\ 1'` {
		t.Errorf("quote: %s", quote(`O'Higgins \ 1`))
	}
}

// elements counts the elements of an array literal of quoted strings or
// numbers.
func elements(s string) int {
	n, in, any := 0, false, false
	for i := 1; i < len(s)-1; i++ {
		switch c := s[i]; {
		case in && c == '\\':
			i++
		case c == '\'':
			in = !in
			any = true
		case !in && c == ',':
			n++
		case c != ' ':
			any = true
		}
	}
	if any {
		n++
	}
	return n
}

// TestMigrationClusterForm: the tracker's tables have a cluster form
// (ReplicatedReplacingMergeTree shards and Distributed tables).
func TestMigrationClusterForm(t *testing.T) {
	migs, err := warehouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range migs {
		if m.Version < 10 || m.Version > 19 {
			continue
		}
		found = true
		stmts, err := warehouse.Layout{Database: "obs", Cluster: "observatorio"}.Statements(m.SQL)
		if err != nil {
			t.Fatalf("%04d_%s: %v", m.Version, m.Name, err)
		}
		for _, s := range stmts {
			if !strings.Contains(s, "ON CLUSTER") {
				t.Errorf("%04d: %.80s", m.Version, s)
			}
		}
	}
	if !found {
		t.Fatal("no hay migración 0010")
	}
}
