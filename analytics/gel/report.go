package gel

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// NoCutoff is the corte parameter that takes every committed ETL run.
// Dataset releases pass their own cutoff to the named queries instead.
var NoCutoff = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

func cutoff() warehouse.Param { return warehouse.P("corte", NoCutoff) }

// ErrUnknownFramework is returned for a framework id not in the catalog.
var ErrUnknownFramework = errors.New("gel: marco desconocido")

// ErrUnknownEntity is returned for an entity code not in DIVIPOLA.
var ErrUnknownEntity = errors.New("gel: entidad desconocida")

// Entity is a territorial entity as DIVIPOLA names it.
type Entity struct {
	Code           string
	Name           string // as DIVIPOLA writes it ("CÁQUEZA")
	DepartmentCode string
	DepartmentName string
}

// PhaseRow is a row of gel_fases: a phase of an entity as of a date.
type PhaseRow struct {
	Entity     Entity
	Framework  string
	Phase      string
	PhaseName  string
	Position   int
	Progress   decimal.Decimal // 0-100
	Source     string          // "global" (the phase's own measurement) or "criterios"
	Criteria   int             // criteria measured
	Met        int             // of which meet their target
	MeasuredOn time.Time       // latest measurement
	Target     decimal.Decimal
	Deadline   *time.Time
	MetOn      *time.Time
	Status     Status
	Synthetic  bool
}

// SeriesPoint is a row of gel_serie: a phase's progress on a date.
type SeriesPoint struct {
	Entity    Entity
	Framework string
	Phase     string
	PhaseName string
	Position  int
	Date      time.Time
	Progress  decimal.Decimal
	Source    string
	Criteria  int
	Met       int
	Target    decimal.Decimal
	Deadline  *time.Time
	Synthetic bool
}

// CriterionRow is a row of gel_criterios: a measured criterion of an
// entity as of a date.
type CriterionRow struct {
	Framework  string
	Phase      string
	Criterion  string
	Name       string
	Group      string
	Position   int
	SourceText string // what the source wrote
	InCatalog  bool
	Value      decimal.Decimal
	MeasuredOn time.Time
	Evidence   string
	Source     string
	Target     decimal.Decimal
	Deadline   *time.Time
	MetOn      *time.Time
	Status     Status
	Synthetic  bool
}

// RankRow is a row of gel_clasificacion.
type RankRow struct {
	Entity         Entity
	Score          decimal.Decimal
	Rank           int // 1 + entities with a strictly higher score
	Entities       int
	DeptRank       int
	DeptEntities   int
	NationalAvg    decimal.Decimal
	DeptAvg        decimal.Decimal
	PhasesMeasured int
	LastMeasured   time.Time
	Synthetic      bool
}

// Action is a row of gel_acciones: an action-plan item as of a date.
type Action struct {
	EntityCode   string
	Plan         string
	Item         string
	Framework    string
	Phase        string
	Action       string
	Responsible  string
	Indicator    string
	Goal         string
	Deadline     *time.Time
	DeadlineText string
	Reported     string
	CompletedOn  *time.Time
	Evidence     string
	Synthetic    bool
	Status       Status
}

// IGDRow is a row of gel_igd: a published Índice de Gobierno Digital
// result of an entity.
type IGDRow struct {
	Year        int
	Index       string
	SIGEPCode   string
	EntityName  string
	PeerGroup   string
	Score       decimal.Decimal
	PeerAverage *decimal.Decimal // as published
	LoadedAvg   decimal.Decimal  // mean of the loaded entities of the same peer group
	PeerCount   int
	Synthetic   bool
}

// EntitySummary is a row of gel_entidades.
type EntitySummary struct {
	Entity       Entity
	Framework    string
	Measurements int
	First, Last  time.Time
	Synthetic    bool
}

// run syncs the catalog once and runs a named query.
func run(ctx context.Context, e warehouse.Engine, name string, params ...warehouse.Param) (*rows, error) {
	if err := Ensure(ctx, e); err != nil {
		return nil, err
	}
	res, err := Run(ctx, e, name, params...)
	if err != nil {
		return nil, err
	}
	return &rows{res: res}, nil
}

// Phases runs gel_fases: framework and entity may be "" for all.
func Phases(ctx context.Context, e warehouse.Engine, framework, entity string, at time.Time) ([]PhaseRow, error) {
	r, err := run(ctx, e, QFases, warehouse.P("marco", framework), warehouse.P("entidad", entity), warehouse.P("fecha", day(at)), cutoff())
	if err != nil {
		return nil, err
	}
	out := make([]PhaseRow, 0, r.len())
	for i := 0; i < r.len(); i++ {
		out = append(out, PhaseRow{
			Entity: r.entity(i), Framework: r.str(i, "marco"), Phase: r.str(i, "fase"), PhaseName: r.str(i, "fase_nombre"),
			Position: r.int(i, "posicion"), Progress: r.dec(i, "avance"), Source: r.str(i, "fuente"),
			Criteria: r.int(i, "criterios"), Met: r.int(i, "cumplidos"), MeasuredOn: r.date(i, "fecha_medicion"),
			Target: r.dec(i, "meta"), Deadline: r.dateP(i, "plazo"), MetOn: r.dateP(i, "cumplida_el"),
			Status: Status(r.str(i, "estado")), Synthetic: r.int(i, "sintetico") != 0,
		})
	}
	return out, nil
}

// Series runs gel_serie: framework and entity may be "" for all.
func Series(ctx context.Context, e warehouse.Engine, framework, entity string, at time.Time) ([]SeriesPoint, error) {
	r, err := run(ctx, e, QSerie, warehouse.P("marco", framework), warehouse.P("entidad", entity), warehouse.P("fecha", day(at)), cutoff())
	if err != nil {
		return nil, err
	}
	out := make([]SeriesPoint, 0, r.len())
	for i := 0; i < r.len(); i++ {
		out = append(out, SeriesPoint{
			Entity: r.entity(i), Framework: r.str(i, "marco"), Phase: r.str(i, "fase"), PhaseName: r.str(i, "fase_nombre"),
			Position: r.int(i, "posicion"), Date: r.date(i, "fecha"), Progress: r.dec(i, "avance"), Source: r.str(i, "fuente"),
			Criteria: r.int(i, "criterios"), Met: r.int(i, "cumplidos"), Target: r.dec(i, "meta"), Deadline: r.dateP(i, "plazo"),
			Synthetic: r.int(i, "sintetico") != 0,
		})
	}
	return out, nil
}

// Criteria runs gel_criterios for one entity.
func Criteria(ctx context.Context, e warehouse.Engine, framework, entity string, at time.Time) ([]CriterionRow, error) {
	r, err := run(ctx, e, QCriterios, warehouse.P("marco", framework), warehouse.P("entidad", entity), warehouse.P("fecha", day(at)), cutoff())
	if err != nil {
		return nil, err
	}
	out := make([]CriterionRow, 0, r.len())
	for i := 0; i < r.len(); i++ {
		out = append(out, CriterionRow{
			Framework: r.str(i, "marco"), Phase: r.str(i, "fase"), Criterion: r.str(i, "criterio"), Name: r.str(i, "nombre"),
			Group: r.str(i, "grupo"), Position: r.int(i, "posicion"), SourceText: r.str(i, "texto_fuente"),
			InCatalog: r.int(i, "catalogado") != 0, Value: r.dec(i, "valor"), MeasuredOn: r.date(i, "fecha_medicion"),
			Evidence: r.str(i, "evidencia"), Source: r.str(i, "fuente"), Target: r.dec(i, "meta"), Deadline: r.dateP(i, "plazo"),
			MetOn: r.dateP(i, "cumplido_el"), Status: Status(r.str(i, "estado")), Synthetic: r.int(i, "sintetico") != 0,
		})
	}
	return out, nil
}

// Ranking runs gel_clasificacion: phase "" ranks by the framework's
// general score (its General phase, or the mean of its phases);
// department "" returns every entity.
func Ranking(ctx context.Context, e warehouse.Engine, framework, phase string, at time.Time, department string) ([]RankRow, error) {
	f := catalog.Framework(framework)
	if f == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownFramework, framework)
	}
	if phase == "" {
		phase = f.General
	}
	r, err := run(ctx, e, QClasificacion, warehouse.P("marco", framework), warehouse.P("fase", phase), warehouse.P("entidad", ""),
		warehouse.P("fecha", day(at)), cutoff(), warehouse.P("departamento", department))
	if err != nil {
		return nil, err
	}
	out := make([]RankRow, 0, r.len())
	for i := 0; i < r.len(); i++ {
		out = append(out, RankRow{
			Entity: r.entity(i), Score: r.dec(i, "puntaje"), Rank: r.int(i, "puesto"), Entities: r.int(i, "entidades"),
			DeptRank: r.int(i, "puesto_departamento"), DeptEntities: r.int(i, "entidades_departamento"),
			NationalAvg: r.dec(i, "promedio_nacional"), DeptAvg: r.dec(i, "promedio_departamento"),
			PhasesMeasured: r.int(i, "fases_medidas"), LastMeasured: r.date(i, "ultima_medicion"), Synthetic: r.int(i, "sintetico") != 0,
		})
	}
	return out, nil
}

// Actions runs gel_acciones: entity "" for all.
func Actions(ctx context.Context, e warehouse.Engine, entity string, at time.Time) ([]Action, error) {
	r, err := run(ctx, e, QAcciones, warehouse.P("entidad", entity), warehouse.P("fecha", day(at)), cutoff())
	if err != nil {
		return nil, err
	}
	out := make([]Action, 0, r.len())
	for i := 0; i < r.len(); i++ {
		out = append(out, Action{
			EntityCode: r.str(i, "codigo_entidad"), Plan: r.str(i, "plan"), Item: r.str(i, "item"), Framework: r.str(i, "marco"),
			Phase: r.str(i, "fase"), Action: r.str(i, "accion"), Responsible: r.str(i, "responsable"), Indicator: r.str(i, "indicador"),
			Goal: r.str(i, "meta"), Deadline: r.dateP(i, "plazo"), DeadlineText: r.str(i, "plazo_texto"), Reported: r.str(i, "estado_reportado"),
			CompletedOn: r.dateP(i, "cumplida_el"), Evidence: r.str(i, "evidencia"), Synthetic: r.int(i, "sintetico") != 0,
			Status: Status(r.str(i, "estado")),
		})
	}
	return out, nil
}

// IGD runs gel_igd for an entity (year 0: every vigencia).
func IGD(ctx context.Context, e warehouse.Engine, entity string, year int) ([]IGDRow, error) {
	r, err := run(ctx, e, QIGD, warehouse.P("entidad", entity), warehouse.P("vigencia", year), cutoff())
	if err != nil {
		return nil, err
	}
	out := make([]IGDRow, 0, r.len())
	for i := 0; i < r.len(); i++ {
		row := IGDRow{Year: r.int(i, "vigencia"), Index: r.str(i, "indice"), SIGEPCode: r.str(i, "codigo_sigep"),
			EntityName: r.str(i, "entidad"), PeerGroup: r.str(i, "grupo_par"), Score: r.dec(i, "puntaje"),
			LoadedAvg: r.dec(i, "promedio_cargado"), PeerCount: r.int(i, "entidades_grupo"), Synthetic: r.int(i, "sintetico") != 0}
		if v := r.val(i, "promedio_grupo_par"); v != nil {
			d := v.(decimal.Decimal)
			row.PeerAverage = &d
		}
		out = append(out, row)
	}
	return out, nil
}

// Entities runs gel_entidades.
func Entities(ctx context.Context, e warehouse.Engine) ([]EntitySummary, error) {
	r, err := run(ctx, e, QEntidades, cutoff())
	if err != nil {
		return nil, err
	}
	out := make([]EntitySummary, 0, r.len())
	for i := 0; i < r.len(); i++ {
		out = append(out, EntitySummary{Entity: r.entity(i), Framework: r.str(i, "marco"), Measurements: r.int(i, "mediciones"),
			First: r.date(i, "primera_medicion"), Last: r.date(i, "ultima_medicion"), Synthetic: r.int(i, "sintetico") != 0})
	}
	return out, nil
}

// LookupEntity returns an entity of the DIVIPOLA list (a municipality,
// or dd000 for a department), or ErrUnknownEntity.
func LookupEntity(ctx context.Context, e warehouse.Engine, code string) (Entity, error) {
	if len(code) != 5 {
		return Entity{}, fmt.Errorf("%w: %q", ErrUnknownEntity, code)
	}
	r, err := run(ctx, e, "gel_entidad", warehouse.P("entidad", code))
	if err != nil {
		return Entity{}, err
	}
	if r.len() == 0 || r.int(0, "existe") == 0 {
		return Entity{}, fmt.Errorf("%w: %q", ErrUnknownEntity, code)
	}
	return r.entity(0), nil
}

// --- decoding rows -----------------------------------------------------

type rows struct {
	res *warehouse.Result
	idx map[string]int
}

func (r *rows) len() int { return len(r.res.Rows) }

func (r *rows) val(i int, col string) any {
	if r.idx == nil {
		r.idx = map[string]int{}
		for j, c := range r.res.Columns {
			r.idx[c.Name] = j
		}
	}
	j, ok := r.idx[col]
	if !ok {
		panic("gel: the query has no column " + col) // the SQL files and this code go together
	}
	return r.res.Rows[i][j]
}

func (r *rows) str(i int, col string) string {
	s, _ := r.val(i, col).(string)
	return s
}

func (r *rows) int(i int, col string) int {
	switch v := r.val(i, col).(type) {
	case uint64:
		return int(v)
	case int64:
		return int(v)
	}
	return 0
}

func (r *rows) dec(i int, col string) decimal.Decimal {
	d, _ := r.val(i, col).(decimal.Decimal)
	return d
}

func (r *rows) date(i int, col string) time.Time {
	t, _ := r.val(i, col).(time.Time)
	return t
}

// dateP is a Nullable(Date); the zero date (1970-01-01) counts as absent.
func (r *rows) dateP(i int, col string) *time.Time {
	t, ok := r.val(i, col).(time.Time)
	if !ok || t.IsZero() || t.Unix() == 0 {
		return nil
	}
	return &t
}

func (r *rows) entity(i int) Entity {
	return Entity{Code: r.str(i, "codigo_entidad"), Name: r.str(i, "entidad"), DepartmentCode: r.str(i, "codigo_departamento"),
		DepartmentName: r.str(i, "departamento")}
}

// day is the calendar date of t (its Y-M-D in t's location) at midnight UTC.
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// sortPhasesByPosition orders rows by catalog position, unknown phases last.
func sortPhasesByPosition[T any](xs []T, pos func(T) int, id func(T) string) {
	sort.SliceStable(xs, func(a, b int) bool {
		pa, pb := pos(xs[a]), pos(xs[b])
		if pa != pb {
			return pa < pb
		}
		return id(xs[a]) < id(xs[b])
	})
}
