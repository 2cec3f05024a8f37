package gel

import (
	"context"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// EntityReport is everything an official's page shows about one entity
// and one framework on a date: every phase of the catalog with its
// progress, status, criteria and evidence, the phases and criteria the
// sources measured that the catalog does not know, the trend, the rank,
// the peer averages and the action plan.
type EntityReport struct {
	Entity    Entity
	Framework *Framework
	Date      time.Time
	Phases    []*PhaseReport // catalog order
	Extra     []*PhaseReport // measured phases not in the catalog
	// Overall is the framework's general score (its General phase, or the
	// mean of all its phases, a phase never measured counting 0): the
	// score the ranking uses.
	Overall  decimal.Decimal
	Measured bool // any measurement of this framework up to Date
	Rank     *RankRow
	Overdue  []*PhaseReport // phases whose deadline passed unmet
	Actions  []Action
	// OverdueActions are the actions whose deadline passed unfinished.
	OverdueActions []Action
	Series         []SeriesPoint // the trend, by phase and date
	IGD            []IGDRow      // the published Índice de Gobierno Digital (framework igd)
	Synthetic      bool          // some figure shown is synthetic
	// Frameworks lists the frameworks with measurements for this entity.
	Frameworks []string
}

// PhaseReport is one phase of an EntityReport.
type PhaseReport struct {
	Phase      *Phase // nil for a phase the catalog does not know
	ID, Name   string
	Progress   decimal.Decimal
	Measured   bool
	Source     string // "global" or "criterios"
	Criteria   int    // criteria measured
	Met        int    // of which meet their target
	MeasuredOn *time.Time
	Target     decimal.Decimal
	Deadline   *time.Time
	MetOn      *time.Time
	Status     Status
	Synthetic  bool
	// Trend is the change since the previous measurement (nil without one).
	Trend *decimal.Decimal
	// NationalAvg and DeptAvg are the mean progress in this phase of the
	// entities measured in it, in the country and in the department.
	NationalAvg, DeptAvg *decimal.Decimal
	Total                *CriterionRow      // the phase's own measurement, if any
	Items                []*CriterionReport // catalog criteria, then the others measured
}

// CriterionReport is one criterion of a PhaseReport: from the catalog
// (measured or not) or only in the measurements.
type CriterionReport struct {
	ID, Name, Group string
	InCatalog       bool
	Measured        bool
	Row             *CriterionRow // nil when never measured
	Target          decimal.Decimal
	Deadline        *time.Time
	Status          Status
}

// Report builds an EntityReport. code is a DIVIPOLA code (ErrUnknownEntity
// otherwise), framework a catalog id (ErrUnknownFramework otherwise).
func Report(ctx context.Context, e warehouse.Engine, code, framework string, at time.Time) (*EntityReport, error) {
	return ReportFrom(ctx, e, code, framework, at, nil)
}

// ReportFrom is Report with the phases of every entity for this framework
// and date already at hand (Phases(ctx, e, framework, "", at)): callers
// that build several reports for one date (pages) query them once. nil
// queries them.
func ReportFrom(ctx context.Context, e warehouse.Engine, code, framework string, at time.Time, all []PhaseRow) (*EntityReport, error) {
	f := catalog.Framework(framework)
	if f == nil {
		return nil, ErrUnknownFramework
	}
	at = day(at)
	ent, err := LookupEntity(ctx, e, code)
	if err != nil {
		return nil, err
	}
	rep := &EntityReport{Entity: ent, Framework: f, Date: at}
	if all == nil {
		var err error
		if all, err = Phases(ctx, e, f.ID, "", at); err != nil {
			return nil, err
		}
	}
	var phases []PhaseRow
	for _, p := range all {
		if p.Entity.Code == code && p.Framework == f.ID {
			phases = append(phases, p)
		}
	}
	crits, err := Criteria(ctx, e, f.ID, code, at)
	if err != nil {
		return nil, err
	}
	if rep.Series, err = Series(ctx, e, f.ID, code, at); err != nil {
		return nil, err
	}
	byPhase := map[string]PhaseRow{}
	for _, p := range phases {
		byPhase[p.Phase] = p
	}
	critBy := map[string][]CriterionRow{}
	for _, c := range crits {
		critBy[c.Phase] = append(critBy[c.Phase], c)
	}
	// Peer averages per phase: the entities measured in it.
	type acc struct {
		sum, dsum decimal.Decimal
		n, dn     int64
	}
	avgs := map[string]*acc{}
	for _, p := range all {
		if p.Entity.Code[len(p.Entity.Code)-3:] == "000" {
			continue
		}
		a := avgs[p.Phase]
		if a == nil {
			a = &acc{}
			avgs[p.Phase] = a
		}
		a.sum, a.n = a.sum.Add(p.Progress), a.n+1
		if p.Entity.DepartmentCode == ent.DepartmentCode {
			a.dsum, a.dn = a.dsum.Add(p.Progress), a.dn+1
		}
	}
	build := func(id string, ph *Phase) *PhaseReport {
		pr := &PhaseReport{Phase: ph, ID: id, Name: id}
		if ph != nil {
			pr.Name, pr.Target, pr.Deadline = ph.Name, ph.Target, ph.Deadline
		} else {
			pr.Target = decimal.NewFromInt(100)
		}
		if row, ok := byPhase[id]; ok {
			pr.Measured, pr.Progress, pr.Source = true, row.Progress, row.Source
			pr.Criteria, pr.Met, pr.MetOn, pr.Status, pr.Synthetic = row.Criteria, row.Met, row.MetOn, row.Status, row.Synthetic
			m := row.MeasuredOn
			pr.MeasuredOn = &m
			if ph == nil {
				pr.Name, pr.Target, pr.Deadline = row.PhaseName, row.Target, row.Deadline
			}
			rep.Measured = true
			rep.Synthetic = rep.Synthetic || row.Synthetic
		} else {
			pr.Status = PhaseStatus(nil, pr.Deadline, at)
		}
		if a := avgs[id]; a != nil && a.n > 0 {
			v := a.sum.Div(decimal.NewFromInt(a.n)).Round(1)
			pr.NationalAvg = &v
			if a.dn > 0 {
				d := a.dsum.Div(decimal.NewFromInt(a.dn)).Round(1)
				pr.DeptAvg = &d
			}
		}
		seen := map[string]bool{}
		rows := critBy[id]
		find := func(cid string) *CriterionRow {
			for i := range rows {
				if rows[i].Criterion == cid {
					return &rows[i]
				}
			}
			return nil
		}
		if t := find(TotalCriterion); t != nil {
			pr.Total = t
			seen[TotalCriterion] = true
		}
		if ph != nil {
			for _, c := range ph.Criteria {
				cr := &CriterionReport{ID: c.ID, Name: c.Name, Group: c.Group, InCatalog: true, Target: c.Target, Deadline: c.Deadline}
				if row := find(c.ID); row != nil {
					cr.Measured, cr.Row, cr.Status = true, row, row.Status
					seen[c.ID] = true
				} else {
					cr.Status = PhaseStatus(nil, c.Deadline, at)
				}
				pr.Items = append(pr.Items, cr)
			}
		}
		for i := range rows {
			r := &rows[i]
			if seen[r.Criterion] {
				continue
			}
			pr.Items = append(pr.Items, &CriterionReport{ID: r.Criterion, Name: r.Name, Group: r.Group, InCatalog: r.InCatalog,
				Measured: true, Row: r, Target: r.Target, Deadline: r.Deadline, Status: r.Status})
		}
		return pr
	}
	known := map[string]bool{}
	for _, ph := range f.Phases {
		known[ph.ID] = true
		rep.Phases = append(rep.Phases, build(ph.ID, ph))
	}
	var extra []string
	for _, p := range phases {
		if !known[p.Phase] {
			extra = append(extra, p.Phase)
		}
	}
	sort.Strings(extra)
	for _, id := range extra {
		rep.Extra = append(rep.Extra, build(id, nil))
	}
	// Trend: the change between the last two measurements of each phase.
	last := map[string][]decimal.Decimal{}
	for _, s := range rep.Series {
		last[s.Phase] = append(last[s.Phase], s.Progress)
		rep.Synthetic = rep.Synthetic || s.Synthetic
	}
	for _, pr := range append(append([]*PhaseReport{}, rep.Phases...), rep.Extra...) {
		if pts := last[pr.ID]; len(pts) >= 2 {
			d := pts[len(pts)-1].Sub(pts[len(pts)-2])
			pr.Trend = &d
		}
		if pr.Status == StatusOverdue {
			rep.Overdue = append(rep.Overdue, pr)
		}
	}
	// Overall score, as gel_clasificacion computes it.
	if f.General != "" {
		for _, pr := range rep.Phases {
			if pr.ID == f.General {
				rep.Overall = pr.Progress
			}
		}
	} else if len(rep.Phases) > 0 {
		sum := decimal.Zero
		for _, pr := range rep.Phases {
			sum = sum.Add(pr.Progress)
		}
		rep.Overall = sum.Div(decimal.NewFromInt(int64(len(rep.Phases)))).Round(4)
	}
	ranking := RankFrom(all, f, "")
	for i := range ranking {
		if ranking[i].Entity.Code == code {
			rep.Rank = &ranking[i]
		}
	}
	if rep.Actions, err = Actions(ctx, e, code, at); err != nil {
		return nil, err
	}
	for _, a := range rep.Actions {
		if a.Status == StatusOverdue {
			rep.OverdueActions = append(rep.OverdueActions, a)
		}
		rep.Synthetic = rep.Synthetic || a.Synthetic
	}
	if f.ID == "igd" {
		if rep.IGD, err = IGD(ctx, e, code, 0); err != nil {
			return nil, err
		}
	}
	sums, err := Entities(ctx, e)
	if err != nil {
		return nil, err
	}
	for _, s := range sums {
		if s.Entity.Code == code {
			rep.Frameworks = append(rep.Frameworks, s.Framework)
		}
	}
	return rep, nil
}
