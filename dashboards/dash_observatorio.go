package dashboards

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/formato"
)

var observatorioDash = &dashDef{
	ID:    "observatorio",
	Nav:   "El observatorio",
	Title: "El observatorio: datos publicados, uso y cargas",
	Lead:  "Qué conjuntos de datos publica el observatorio, cuánto se consultan y si las cargas de datos están al día.",
	Intro: []string{
		"El observatorio carga los datos de las fuentes municipales con procesos automáticos (ETL), los verifica y los publica como conjuntos de datos abiertos y como estos tableros. Esta página rinde cuentas de ese trabajo.",
	},
	Method: []string{
		"Visitas y descargas: contadores del propio observatorio, por día; no se guarda ninguna dirección IP ni nada que identifique a quien consulta.",
		"Cargas: el registro de ejecuciones del ETL. Una ejecución «confirmada» dejó sus datos visibles; una «fallida» no cambió nada de lo publicado.",
	},
	Use: 0,
	Charts: []*chartDef{
		{ID: "uso", Use: 0, Build: obsUso},
		{ID: "ejecuciones", Use: 0, Build: obsEjecuciones},
		{ID: "filas", Use: 0, Build: obsFilas},
	},
	Extra: obsExtra,
}

var runStatusNames = map[string]string{"committed": "confirmada", "failed": "fallida", "running": "en curso"}

func runStatus(s string) string {
	if n, ok := runStatusNames[s]; ok {
		return n
	}
	return s
}

func obsUso(ctx context.Context, s *Site, v *view) (*Chart, error) {
	rows, err := s.usageRows(ctx)
	if err != nil {
		return nil, err
	}
	type agg struct{ dv, dd, cv, cd uint64 }
	by := map[time.Time]*agg{}
	for _, r := range rows {
		a := by[r.Month]
		if a == nil {
			a = &agg{}
			by[r.Month] = a
		}
		if r.Kind == "tablero" {
			a.dv += r.Views
			a.dd += r.Downloads
		} else {
			a.cv += r.Views
			a.cd += r.Downloads
		}
	}
	months := make([]time.Time, 0, len(by))
	for m := range by {
		months = append(months, m)
	}
	sort.Slice(months, func(i, j int) bool { return months[i].Before(months[j]) })
	x := &xyChart{
		ID: "uso", Title: "Visitas y descargas por mes",
		Subtitle:  "Tableros y conjuntos de datos del observatorio",
		Caption:   "Visitas y descargas por mes: tableros (y los datos de sus gráficos) y conjuntos de datos",
		CatHeader: "Mes", CatColumn: "mes",
		Axes: []valueAxis{{Name: "Número", Format: fmtNumero}},
	}
	dv := serie{Name: "Visitas a los tableros", Column: "visitas_tableros", Format: fmtNumero}
	dd := serie{Name: "Descargas de datos de gráficos", Column: "descargas_graficos", Format: fmtNumero}
	cv := serie{Name: "Visitas a los conjuntos de datos", Column: "visitas_conjuntos", Format: fmtNumero}
	cd := serie{Name: "Descargas de conjuntos de datos", Column: "descargas_conjuntos", Format: fmtNumero}
	for _, m := range months {
		a := by[m]
		x.Cats = append(x.Cats, ShortMonth(m))
		x.CatNames = append(x.CatNames, Month(m))
		x.CatRaw = append(x.CatRaw, m.Format("2006-01"))
		dv.Values = append(dv.Values, decN(a.dv))
		dd.Values = append(dd.Values, decN(a.dd))
		cv.Values = append(cv.Values, decN(a.cv))
		cd.Values = append(cd.Values, decN(a.cd))
	}
	x.Series = []serie{dv, dd, cv, cd}
	if len(months) == 0 {
		x.Empty = "Todavía no hay visitas ni descargas registradas."
	}
	x.Notes = []string{"Los contadores se escriben en el almacén cada minuto; las visitas de los últimos segundos aparecen después."}
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Cuántas veces se abrieron los tableros y los conjuntos de datos, y cuántas veces se descargaron sus datos, cada mes."}
	return c, nil
}

// runDays groups the runs of the last 60 days by day (Colombian time).
func (s *Site) runDays(ctx context.Context) ([]runRow, []time.Time, error) {
	runs, err := s.runs(ctx)
	if err != nil {
		return nil, nil, err
	}
	since := s.today().AddDate(0, 0, -60)
	set := map[time.Time]bool{}
	var recent []runRow
	for _, r := range runs {
		d := s.day(r.Started)
		if d.Before(since) {
			continue
		}
		set[d] = true
		recent = append(recent, r)
	}
	days := sortedKeys(set, func(a, b time.Time) bool { return a.Before(b) })
	return recent, days, nil
}

func (s *Site) day(t time.Time) time.Time {
	t = t.In(s.bogota)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func shortDay(t time.Time) string {
	return strconv.Itoa(t.Day()) + " " + formato.Months[t.Month()-1][:3] + "."
}

func obsEjecuciones(ctx context.Context, s *Site, v *view) (*Chart, error) {
	runs, days, err := s.runDays(ctx)
	if err != nil {
		return nil, err
	}
	type key struct {
		d  time.Time
		st string
	}
	counts := map[key]uint64{}
	for _, r := range runs {
		st := r.Status
		if st != "committed" && st != "failed" {
			st = "running"
		}
		counts[key{s.day(r.Started), st}]++
	}
	x := &xyChart{
		ID: "ejecuciones", Title: "Ejecuciones del ETL por día y resultado",
		Subtitle:  "Últimos 60 días",
		Caption:   "Ejecuciones del ETL por día y resultado, últimos 60 días",
		CatHeader: "Día", CatColumn: "dia",
		Axes: []valueAxis{{Name: "Ejecuciones", Format: fmtNumero}},
	}
	ok := serie{Name: "Confirmadas", Column: "confirmadas", Stack: "ejecuciones", Format: fmtNumero}
	bad := serie{Name: "Fallidas", Column: "fallidas", Stack: "ejecuciones", Format: fmtNumero}
	run := serie{Name: "En curso o interrumpidas", Column: "en_curso", Stack: "ejecuciones", Format: fmtNumero}
	for _, d := range days {
		x.Cats = append(x.Cats, shortDay(d))
		x.CatNames = append(x.CatNames, Date(d))
		x.CatRaw = append(x.CatRaw, d.Format("2006-01-02"))
		ok.Values = append(ok.Values, decN(counts[key{d, "committed"}]))
		bad.Values = append(bad.Values, decN(counts[key{d, "failed"}]))
		run.Values = append(run.Values, decN(counts[key{d, "running"}]))
	}
	x.Series = []serie{ok, bad, run}
	if len(days) == 0 {
		x.Empty = "No hubo ejecuciones del ETL en los últimos 60 días."
	}
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Cada barra es un día con cargas; sus tramos, cuántas ejecuciones se confirmaron y cuántas fallaron."}
	return c, nil
}

func obsFilas(ctx context.Context, s *Site, v *view) (*Chart, error) {
	runs, days, err := s.runDays(ctx)
	if err != nil {
		return nil, err
	}
	loaded, quarantined := map[time.Time]uint64{}, map[time.Time]uint64{}
	for _, r := range runs {
		if r.Status != "committed" {
			continue
		}
		d := s.day(r.Started)
		loaded[d] += r.Loaded
		quarantined[d] += r.Quarantined
	}
	x := &xyChart{
		ID: "filas", Title: "Filas cargadas y en cuarentena por día",
		Subtitle:  "Ejecuciones confirmadas, últimos 60 días",
		Caption:   "Filas cargadas y filas apartadas en cuarentena por día (ejecuciones confirmadas, últimos 60 días)",
		CatHeader: "Día", CatColumn: "dia",
		Axes: []valueAxis{{Name: "Filas", Format: fmtNumero}},
	}
	l := serie{Name: "Cargadas", Column: "filas_cargadas", Format: fmtNumero}
	q := serie{Name: "En cuarentena", Column: "filas_cuarentena", Format: fmtNumero}
	share := serie{Name: "% en cuarentena", Column: "cuarentena_pct", Format: fmtPorcentaje, TableOnly: true, Missing: "—"}
	for _, d := range days {
		x.Cats = append(x.Cats, shortDay(d))
		x.CatNames = append(x.CatNames, Date(d))
		x.CatRaw = append(x.CatRaw, d.Format("2006-01-02"))
		l.Values = append(l.Values, decN(loaded[d]))
		q.Values = append(q.Values, decN(quarantined[d]))
		share.Values = append(share.Values, pct(decN(quarantined[d]), decN(loaded[d]+quarantined[d])))
	}
	x.Series = []serie{l, q, share}
	if len(days) == 0 {
		x.Empty = "No hubo cargas en los últimos 60 días."
	}
	c, err := x.build()
	if err != nil {
		return nil, err
	}
	c.Explain = []string{"Las filas en cuarentena son las que no pasaron la validación (fechas imposibles, montos ilegibles, códigos inexistentes): no se publican y quedan registradas con su motivo."}
	return c, nil
}

func obsExtra(ctx context.Context, s *Site, v *view, p *DashboardPage) error {
	// Datasets published.
	res, err := s.query(ctx, "dash_conjuntos")
	if err != nil {
		return err
	}
	r := newRows(res)
	pub := Section{ID: "conjuntos", Title: "Conjuntos de datos publicados"}
	t := &Table{Caption: "Conjuntos de datos publicados: última versión", Header: []string{"Conjunto", "Versión", "Publicado", "Filas", "Celdas suprimidas"}}
	for i := range res.Rows {
		id := r.str(i, "conjunto")
		name := id
		if ds, err := datasets.Get(id); err == nil {
			name = ds.Title
			pub.Links = append(pub.Links, Link{Text: ds.Title, URL: "/datos/" + ds.ID})
		}
		t.Rows = append(t.Rows, []string{name, strconv.FormatUint(r.u64(i, "version"), 10), dateTime(s, r.time(i, "publicado")),
			Number(int64(r.u64(i, "filas"))), Number(int64(r.u64(i, "celdas_suprimidas")))})
	}
	if len(t.Rows) == 0 {
		pub.Paragraphs = []string{"Todavía no se ha publicado ninguna versión de los conjuntos de datos en esta instancia."}
	} else {
		pub.Paragraphs = []string{Number(int64(len(t.Rows))) + " conjuntos de datos publicados, con licencia CC BY 4.0. Cada versión es una foto fija de los datos confirmados hasta su fecha."}
		pub.Table = t
	}
	pub.Links = append(pub.Links, Link{Text: "Catálogo completo de datos abiertos", URL: "/datos"})
	p.Sections = append(p.Sections, pub)

	// ETL health per job.
	runs, err := s.runs(ctx)
	if err != nil {
		return err
	}
	type jobState struct {
		last, lastOK *runRow
		failed30     int
	}
	jobs := map[string]*jobState{}
	month := s.o.Now().AddDate(0, 0, -30)
	for i := range runs { // newest first
		rr := &runs[i]
		j := jobs[rr.Job]
		if j == nil {
			j = &jobState{}
			jobs[rr.Job] = j
		}
		if j.last == nil {
			j.last = rr
		}
		if j.lastOK == nil && rr.Status == "committed" {
			j.lastOK = rr
		}
		if rr.Status == "failed" && rr.Started.After(month) {
			j.failed30++
		}
	}
	names := make([]string, 0, len(jobs))
	for n := range jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	health := Section{ID: "salud", Title: "Estado de las cargas (ETL)"}
	ht := &Table{Caption: "Última ejecución de cada proceso del ETL y su estado", Header: []string{"Proceso", "Última ejecución", "Resultado", "Última carga confirmada", "Filas cargadas", "Fallas en 30 días", "Error"}}
	bad := 0
	for _, n := range names {
		j := jobs[n]
		okText, rowsText := "nunca", "—"
		if j.lastOK != nil {
			okText = dateTime(s, j.lastOK.Finished) + " (" + ago(s.o.Now().Sub(j.lastOK.Finished)) + ")"
			rowsText = Number(int64(j.lastOK.Loaded))
		}
		errText := ""
		if j.last.Status == "failed" {
			errText = j.last.Error
			bad++
		}
		ht.Rows = append(ht.Rows, []string{n, dateTime(s, j.last.Started), runStatus(j.last.Status), okText, rowsText, strconv.Itoa(j.failed30), errText})
	}
	switch {
	case len(names) == 0:
		health.Paragraphs = []string{"No hay ejecuciones del ETL registradas en los últimos 400 días."}
	case bad == 0:
		health.Paragraphs = []string{"Todas las cargas están al día: la última ejecución de cada uno de los " + Number(int64(len(names))) + " procesos terminó bien."}
		health.Table = ht
	default:
		health.Paragraphs = []string{Number(int64(bad)) + " de " + Number(int64(len(names))) + " procesos fallaron en su última ejecución; lo publicado sigue siendo lo de su última carga confirmada."}
		health.Table = ht
	}
	p.Sections = append(p.Sections, health)
	return nil
}

// dateTime is "21 de noviembre de 2026, 14:05" in Colombian time.
func dateTime(s *Site, t time.Time) string {
	if t.IsZero() || t.Year() < 1971 {
		return "—"
	}
	t = t.In(s.bogota)
	return Date(t) + ", " + t.Format("15:04")
}

// ago is "hace 3 horas".
func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "ahora"
	case d < time.Hour:
		m := int(d.Minutes())
		return "hace " + strconv.Itoa(m) + " " + plural(m, "minuto", "minutos")
	case d < 48*time.Hour:
		h := int(d.Hours())
		return "hace " + strconv.Itoa(h) + " " + plural(h, "hora", "horas")
	}
	days := int(d.Hours() / 24)
	return "hace " + Number(int64(days)) + " días"
}
