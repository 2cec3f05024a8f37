package dashboards

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

var gelDash = &dashDef{
	ID:    "gobierno-en-linea",
	Nav:   "Gobierno en Línea",
	Title: "Gobierno en Línea: avance por fase frente a los plazos",
	Lead:  "Cuánto han avanzado las entidades en cada fase de Gobierno en Línea y si cumplieron los plazos del Decreto 1151 de 2008.",
	Intro: []string{
		"El Decreto 1151 de 2008 fijó cinco fases de Gobierno en Línea con plazos para las entidades territoriales: Información (1 de noviembre de 2008), Interacción (1 de diciembre de 2009), Transacción (1 de diciembre de 2010), Transformación (1 de diciembre de 2011) y Democracia en línea (1 de diciembre de 2012).",
		"Cada fase tiene una lista de criterios; el avance de una fase es el promedio de sus criterios (0 a 100) en cada medición. Por ejemplo, Cáqueza midió en agosto de 2009: Información 90 %, Interacción 70 %, Transacción 5 %.",
	},
	Method: []string{
		"Avance de una fase en una fecha: promedio de los valores de sus criterios medidos ese día. Entre mediciones se mantiene el último valor medido. Una fase se da por cumplida al llegar a 100 %.",
		"Estado frente al plazo: «cumplida a tiempo» si llegó a 100 % antes del plazo; «cumplida tarde» si llegó después; «vencida» si el plazo pasó sin llegar a 100 %; «en plazo» si aún no vence.",
		"Solo se grafica el marco de 2008 (gel2008). Las mediciones de marcos posteriores (Gobierno Digital) se publicarán con sus propios plazos y componentes.",
	},
	Use: useMunicipio,
	Charts: []*chartDef{
		{ID: "fases", Use: useMunicipio, Build: gelFases},
		{ID: "evolucion", Use: useMunicipio, Build: gelEvolucion},
		{ID: "entidades", Use: 0, Build: gelEntidades},
	},
}

// GELFramework is the framework id of Decreto 1151 de 2008 in
// gel_measurements.framework.
const GELFramework = "gel2008"

type gelPhase struct {
	Key, Name string
	Deadline  time.Time
}

// gelPhases are Decreto 1151 de 2008's phases and their deadlines for
// territorial entities.
var gelPhases = []gelPhase{
	{"informac", "Información", time.Date(2008, 11, 1, 0, 0, 0, 0, time.UTC)},
	{"interacc", "Interacción", time.Date(2009, 12, 1, 0, 0, 0, 0, time.UTC)},
	{"transacc", "Transacción", time.Date(2010, 12, 1, 0, 0, 0, 0, time.UTC)},
	{"transform", "Transformación", time.Date(2011, 12, 1, 0, 0, 0, 0, time.UTC)},
	{"democracia", "Democracia en línea", time.Date(2012, 12, 1, 0, 0, 0, 0, time.UTC)},
}

// phaseIndex maps a source's phase name to Decreto 1151's order, or -1.
func phaseIndex(name string) int {
	n := normalize(name)
	for i, p := range gelPhases {
		if strings.Contains(n, p.Key) {
			return i
		}
	}
	return -1
}

// gelSeries is one entity's measured progress per phase, by date.
type gelPoint struct {
	Date  time.Time
	Value decimal.Decimal
}

type gelData struct {
	phases  []string                         // phase names in order (known first)
	byPhase map[string]map[string][]gelPoint // entity → phase → points by date
}

func (s *Site) gelData(ctx context.Context) (*gelData, error) {
	return loaded(ctx, s, "gel-fases", func(ctx context.Context) (*gelData, error) {
		cells, err := s.gel(ctx)
		if err != nil {
			return nil, err
		}
		d := &gelData{byPhase: map[string]map[string][]gelPoint{}}
		names := map[string]bool{}
		for _, c := range cells {
			if strings.ReplaceAll(normalize(c.Framework), " ", "") != GELFramework || c.Criteria == 0 {
				continue
			}
			if d.byPhase[c.Entity] == nil {
				d.byPhase[c.Entity] = map[string][]gelPoint{}
			}
			avg := c.Sum.Div(decimal.NewFromUint64(c.Criteria)).Round(1)
			d.byPhase[c.Entity][c.Phase] = append(d.byPhase[c.Entity][c.Phase], gelPoint{c.Date, avg})
			names[c.Phase] = true
		}
		for _, phases := range d.byPhase {
			for _, pts := range phases {
				sort.Slice(pts, func(i, j int) bool { return pts[i].Date.Before(pts[j].Date) })
			}
		}
		d.phases = sortedKeys(names, func(a, b string) bool {
			ia, ib := phaseIndex(a), phaseIndex(b)
			if ia < 0 {
				ia = 100
			}
			if ib < 0 {
				ib = 100
			}
			if ia != ib {
				return ia < ib
			}
			return a < b
		})
		return d, nil
	})
}

// at is the progress measured on or before t (nil before the first).
func at(pts []gelPoint, t time.Time) *decimal.Decimal {
	var v *decimal.Decimal
	for i := range pts {
		if pts[i].Date.After(t) {
			break
		}
		v = &pts[i].Value
	}
	return v
}

func latest(pts []gelPoint) (*decimal.Decimal, time.Time) {
	if len(pts) == 0 {
		return nil, time.Time{}
	}
	p := pts[len(pts)-1]
	return &p.Value, p.Date
}

var hundred = decimal.NewFromInt(100)

// phaseState says how a phase stands against its deadline.
func phaseState(pts []gelPoint, deadline, today time.Time) string {
	if deadline.IsZero() {
		return "sin plazo en el decreto"
	}
	for _, p := range pts {
		if p.Value.GreaterThanOrEqual(hundred) {
			if p.Date.After(deadline) {
				return "cumplida tarde (" + Date(p.Date) + ")"
			}
			return "cumplida a tiempo"
		}
	}
	if today.After(deadline) {
		return "vencida sin completar"
	}
	return "en plazo"
}

func phaseDisplay(name string) (string, time.Time) {
	if i := phaseIndex(name); i >= 0 {
		return gelPhases[i].Name, gelPhases[i].Deadline
	}
	return name, time.Time{}
}

func gelFases(ctx context.Context, s *Site, v *view) (*Chart, error) {
	d, err := s.gelData(ctx)
	if err != nil {
		return nil, err
	}
	today := s.today()
	x := &xyChart{
		ID: "fases", Title: "Avance por fase de Gobierno en Línea" + v.where(),
		CatHeader: "Fase", CatColumn: "fase",
		Horizontal: true,
		Axes:       []valueAxis{{Name: "% de avance", Format: fmtPorcentaje, Max: 100}},
		Context:    v.context(),
	}
	val := serie{Name: "Avance en la última medición", Column: "avance_pct", Format: fmtPorcentaje, Missing: "sin medición", Label: true}
	deadline := serie{Name: "Plazo (Decreto 1151 de 2008)", Column: "plazo", TableOnly: true}
	atDeadline := serie{Name: "Avance al vencer el plazo", Column: "avance_al_plazo_pct", Format: fmtPorcentaje, TableOnly: true, Missing: "sin medición antes del plazo"}
	when := serie{Name: "Última medición", Column: "fecha_ultima_medicion", TableOnly: true}
	state := serie{Name: "Estado", Column: "estado", TableOnly: true}
	if v.ent != nil {
		x.Subtitle = "Promedio de los criterios de cada fase, 0 a 100"
		x.Caption = "Avance por fase en " + v.ent.Display + ", plazos del Decreto 1151 de 2008 y estado"
		phases := d.byPhase[v.ent.Code]
		for _, ph := range d.phases {
			pts, ok := phases[ph]
			if !ok {
				continue
			}
			name, dl := phaseDisplay(ph)
			x.Cats = append(x.Cats, name)
			x.CatRaw = append(x.CatRaw, ph)
			last, date := latest(pts)
			val.Values = append(val.Values, last)
			if dl.IsZero() {
				deadline.Texts, deadline.Raw = append(deadline.Texts, "—"), append(deadline.Raw, "")
				atDeadline.Values = append(atDeadline.Values, nil)
			} else {
				deadline.Texts, deadline.Raw = append(deadline.Texts, Date(dl)), append(deadline.Raw, dl.Format("2006-01-02"))
				atDeadline.Values = append(atDeadline.Values, at(pts, dl))
			}
			when.Texts, when.Raw = append(when.Texts, Date(date)), append(when.Raw, date.Format("2006-01-02"))
			state.Texts = append(state.Texts, phaseState(pts, dl, today))
		}
		x.Series = []serie{val, deadline, atDeadline, when, state}
		if len(x.Cats) == 0 {
			x.Empty = "No hay mediciones de Gobierno en Línea para " + v.ent.Display + "."
		}
	} else {
		x.Subtitle = "Promedio, entre las entidades medidas, de su última medición"
		x.Caption = "Avance promedio por fase entre las entidades medidas (última medición de cada una)"
		n := serie{Name: "Entidades medidas", Column: "entidades", Format: fmtNumero, TableOnly: true}
		late := serie{Name: "Entidades con el plazo vencido sin completar", Column: "vencidas", Format: fmtNumero, TableOnly: true}
		for _, ph := range d.phases {
			var sum decimal.Decimal
			var cnt, overdue int64
			_, dl := phaseDisplay(ph)
			for _, phases := range d.byPhase {
				if pts, ok := phases[ph]; ok {
					last, _ := latest(pts)
					sum = sum.Add(*last)
					cnt++
					if phaseState(pts, dl, today) == "vencida sin completar" {
						overdue++
					}
				}
			}
			if cnt == 0 {
				continue
			}
			name, _ := phaseDisplay(ph)
			x.Cats = append(x.Cats, name)
			x.CatRaw = append(x.CatRaw, ph)
			avg := sum.Div(decimal.NewFromInt(cnt)).Round(1)
			val.Values = append(val.Values, &avg)
			val.Name = "Avance promedio"
			n.Values = append(n.Values, decN(uint64(cnt)))
			late.Values = append(late.Values, decN(uint64(overdue)))
			if dl.IsZero() {
				deadline.Texts, deadline.Raw = append(deadline.Texts, "—"), append(deadline.Raw, "")
			} else {
				deadline.Texts, deadline.Raw = append(deadline.Texts, Date(dl)), append(deadline.Raw, dl.Format("2006-01-02"))
			}
		}
		x.Series = []serie{val, deadline, n, late}
		if len(x.Cats) == 0 {
			x.Empty = "Todavía no hay mediciones de Gobierno en Línea cargadas."
		}
	}
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Cada barra es una fase, de 0 a 100 %. La tabla da el plazo del Decreto 1151 de 2008, el avance que había al vencer el plazo y si la fase se cumplió a tiempo."}
	return c, nil
}

func gelEvolucion(ctx context.Context, s *Site, v *view) (*Chart, error) {
	if v.ent == nil {
		return &Chart{ID: "evolucion", Title: "Evolución del avance por fase frente a los plazos",
			Empty: "Elija una entidad (municipio) para ver cómo avanzó en el tiempo frente a cada plazo."}, nil
	}
	d, err := s.gelData(ctx)
	if err != nil {
		return nil, err
	}
	phases := d.byPhase[v.ent.Code]
	// Categories: every measurement date and every deadline, in order.
	dates := map[time.Time]bool{}
	events := map[time.Time][]string{}
	for _, pts := range phases {
		for _, p := range pts {
			dates[p.Date] = true
			events[p.Date] = appendOnce(events[p.Date], "medición")
		}
	}
	if len(dates) > 0 {
		for _, p := range gelPhases {
			dates[p.Deadline] = true
			events[p.Deadline] = append(events[p.Deadline], "plazo de "+p.Name)
		}
	}
	ds := sortedKeys(dates, func(a, b time.Time) bool { return a.Before(b) })
	x := &xyChart{
		ID: "evolucion", Title: "Evolución del avance por fase" + v.where(),
		Subtitle:  "Promedio de los criterios, 0 a 100; líneas verticales: plazos del Decreto 1151 de 2008",
		Caption:   "Avance por fase en cada fecha de medición y en cada plazo, " + v.ent.Display + " (se mantiene el último valor medido)",
		CatHeader: "Fecha", CatColumn: "fecha",
		Axes:    []valueAxis{{Name: "% de avance", Format: fmtPorcentaje, Max: 100}},
		Context: v.context(),
	}
	for _, t := range ds {
		x.Cats = append(x.Cats, strconv.Itoa(t.Day())+" "+ShortMonth(t))
		x.CatNames = append(x.CatNames, Date(t))
		x.CatRaw = append(x.CatRaw, t.Format("2006-01-02"))
	}
	ev := serie{Name: "Qué pasó en esa fecha", Column: "evento", TableOnly: true}
	for _, t := range ds {
		ev.Texts = append(ev.Texts, strings.Join(events[t], "; "))
	}
	for _, ph := range d.phases {
		pts, ok := phases[ph]
		if !ok {
			continue
		}
		name, dl := phaseDisplay(ph)
		sv := serie{Name: name, Column: "avance_" + columnName(name) + "_pct", Kind: "line", Format: fmtPorcentaje, Missing: "—"}
		for _, t := range ds {
			sv.Values = append(sv.Values, at(pts, t))
		}
		if !dl.IsZero() {
			sv.Marks = []mark{{Cat: strconv.Itoa(dl.Day()) + " " + ShortMonth(dl), Label: "Plazo: " + name}}
		}
		x.Series = append(x.Series, sv)
	}
	x.Series = append(x.Series, ev)
	if len(phases) == 0 {
		x.Empty = "No hay mediciones de Gobierno en Línea para " + v.ent.Display + "."
	}
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Una línea por fase; cada punto es una medición o un plazo. Las líneas verticales punteadas marcan el plazo de cada fase: una fase cumplida a tiempo llega a 100 % antes de su línea."}
	return c, nil
}

func appendOnce(xs []string, s string) []string {
	for _, x := range xs {
		if x == s {
			return xs
		}
	}
	return append(xs, s)
}

func gelEntidades(ctx context.Context, s *Site, v *view) (*Chart, error) {
	d, err := s.gelData(ctx)
	if err != nil {
		return nil, err
	}
	type row struct {
		code string
		avg  decimal.Decimal
	}
	var rs []row
	for code, phases := range d.byPhase {
		var sum decimal.Decimal
		n := 0
		for _, pts := range phases {
			last, _ := latest(pts)
			sum = sum.Add(*last)
			n++
		}
		if n > 0 {
			rs = append(rs, row{code, sum.Div(decimal.NewFromInt(int64(n)))})
		}
	}
	sort.Slice(rs, func(i, j int) bool {
		if !rs[i].avg.Equal(rs[j].avg) {
			return rs[i].avg.LessThan(rs[j].avg)
		}
		return rs[i].code < rs[j].code
	})
	const maxRows = 30
	cut := 0
	if len(rs) > maxRows {
		cut, rs = len(rs)-maxRows, rs[:maxRows]
	}
	x := &xyChart{
		ID: "entidades", Title: "Avance por entidad y fase (última medición)",
		Subtitle:  "Las entidades más rezagadas primero",
		Caption:   "Avance de la última medición por entidad y fase de Gobierno en Línea, de la más rezagada a la más avanzada",
		CatHeader: "Entidad", CatColumn: "codigo_entidad",
		Horizontal: true,
		Axes:       []valueAxis{{Name: "% de avance", Format: fmtPorcentaje, Max: 100}},
	}
	for _, r := range rs {
		x.Cats = append(x.Cats, v.dir.Name(r.code))
		x.CatRaw = append(x.CatRaw, r.code)
	}
	for _, ph := range d.phases {
		name, _ := phaseDisplay(ph)
		sv := serie{Name: name, Column: "avance_" + columnName(name) + "_pct", Format: fmtPorcentaje, Missing: "sin medición"}
		for _, r := range rs {
			var val *decimal.Decimal
			if pts, ok := d.byPhase[r.code][ph]; ok {
				val, _ = latest(pts)
			}
			sv.Values = append(sv.Values, val)
		}
		x.Series = append(x.Series, sv)
	}
	if len(rs) == 0 {
		x.Empty = "Todavía no hay mediciones de Gobierno en Línea cargadas."
	}
	if cut > 0 {
		x.Notes = append(x.Notes, "Se muestran las "+strconv.Itoa(maxRows)+" entidades más rezagadas; faltan "+Number(int64(cut))+".")
	}
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Compara entidades: para cada una, una barra por fase con su última medición. Arriba, las que menos han avanzado en promedio."}
	return c, nil
}
