package gel

import (
	"context"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// EventKind says what happened.
type EventKind string

// Event kinds.
const (
	EventPhaseMet      EventKind = "fase-cumplida"   // a phase reached its target
	EventPhaseOverdue  EventKind = "fase-vencida"    // a phase's deadline passed unmet
	EventActionDone    EventKind = "accion-cumplida" // an action was completed
	EventActionOverdue EventKind = "accion-vencida"  // an action's deadline passed unfinished
)

// Event is a deadline passed or a target reached, for an entity's feed.
// Key is stable: the same event keeps the same key however often the feed
// is built (feeds make it their entry id).
type Event struct {
	Key       string // e.g. "25151/gel2008/informacion/fase-vencida"
	Kind      EventKind
	Date      time.Time // when it happened (a deadline passes the day after it)
	Framework *Framework
	Phase     *PhaseReport // phase events
	Action    *Action      // action events
	// Status is the phase's or action's status now (cumplida_a_tiempo...).
	Status Status
	// ProgressThen is the phase's progress on its deadline, and MeasuredThen
	// the date of the measurement it comes from (nil: none yet).
	ProgressThen *decimal.Decimal
	MeasuredThen *time.Time
}

// Events lists, newest first, what happened up to now for an entity: for
// every phase it has measurements in (any framework), reaching the target
// and each deadline that passed unmet (a phase never measured has no
// events: the feed follows what the entity reports); and for its action
// plan, each action completed and each deadline passed unfinished.
func Events(ctx context.Context, e warehouse.Engine, code string, now time.Time) (Entity, []Event, error) {
	now = day(now)
	ent, err := LookupEntity(ctx, e, code)
	if err != nil {
		return Entity{}, nil, err
	}
	phases, err := Phases(ctx, e, "", code, now)
	if err != nil {
		return ent, nil, err
	}
	series, err := Series(ctx, e, "", code, now)
	if err != nil {
		return ent, nil, err
	}
	var out []Event
	for i := range phases {
		p := &phases[i]
		f := catalog.Framework(p.Framework)
		if f == nil {
			continue
		}
		pr := &PhaseReport{Phase: f.Phase(p.Phase), ID: p.Phase, Name: p.PhaseName, Progress: p.Progress, Measured: true,
			Source: p.Source, Criteria: p.Criteria, Met: p.Met, Target: p.Target, Deadline: p.Deadline, MetOn: p.MetOn,
			Status: p.Status, Synthetic: p.Synthetic}
		if p.MetOn != nil {
			out = append(out, Event{Key: code + "/" + f.ID + "/" + p.Phase + "/" + string(EventPhaseMet), Kind: EventPhaseMet,
				Date: *p.MetOn, Framework: f, Phase: pr, Status: p.Status})
		}
		if p.Deadline == nil || !now.After(*p.Deadline) || (p.MetOn != nil && !p.MetOn.After(*p.Deadline)) {
			continue
		}
		ev := Event{Key: code + "/" + f.ID + "/" + p.Phase + "/" + string(EventPhaseOverdue), Kind: EventPhaseOverdue,
			Date: p.Deadline.AddDate(0, 0, 1), Framework: f, Phase: pr, Status: p.Status}
		for _, s := range series {
			if s.Framework == p.Framework && s.Phase == p.Phase && !s.Date.After(*p.Deadline) {
				v, d := s.Progress, s.Date
				ev.ProgressThen, ev.MeasuredThen = &v, &d
			}
		}
		out = append(out, ev)
	}
	// Deadlines of phases never measured, in the frameworks the entity
	// reports on, pass too.
	measured := map[string]bool{}
	for _, p := range phases {
		measured[p.Framework] = true
		measured[p.Framework+"/"+p.Phase] = true
	}
	for _, f := range catalog.Frameworks {
		if !measured[f.ID] {
			continue
		}
		for _, ph := range f.Phases {
			if measured[f.ID+"/"+ph.ID] || ph.Deadline == nil || !now.After(*ph.Deadline) {
				continue
			}
			pr := &PhaseReport{Phase: ph, ID: ph.ID, Name: ph.Name, Target: ph.Target, Deadline: ph.Deadline, Status: StatusOverdue}
			out = append(out, Event{Key: code + "/" + f.ID + "/" + ph.ID + "/" + string(EventPhaseOverdue), Kind: EventPhaseOverdue,
				Date: ph.Deadline.AddDate(0, 0, 1), Framework: f, Phase: pr, Status: StatusOverdue})
		}
	}
	actions, err := Actions(ctx, e, code, now)
	if err != nil {
		return ent, nil, err
	}
	for i := range actions {
		a := &actions[i]
		base := code + "/plan/" + a.Plan + "/" + a.Item + "/"
		if a.CompletedOn != nil && !a.CompletedOn.After(now) {
			out = append(out, Event{Key: base + string(EventActionDone), Kind: EventActionDone, Date: *a.CompletedOn, Action: a, Status: a.Status})
		}
		if a.Status == StatusCancelled || a.Deadline == nil || !now.After(*a.Deadline) ||
			(a.CompletedOn != nil && !a.CompletedOn.After(*a.Deadline)) || (a.Reported == "cumplida" && a.CompletedOn == nil) {
			continue
		}
		out = append(out, Event{Key: base + string(EventActionOverdue), Kind: EventActionOverdue, Date: a.Deadline.AddDate(0, 0, 1), Action: a, Status: a.Status})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Date.Equal(out[j].Date) {
			return out[i].Date.After(out[j].Date)
		}
		return out[i].Key < out[j].Key
	})
	return ent, out, nil
}
