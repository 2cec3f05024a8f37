package gel

import (
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/observatorio-civico/observatorio/ingest"
)

// Status is how a phase, a criterion or an action stands against its
// deadline on a date. The SQL of the queries (_fases.sql, gel_criterios.sql,
// gel_acciones.sql) applies the same rules; the tests check that they agree.
type Status string

// Statuses.
const (
	StatusOnTime     Status = "cumplida_a_tiempo" // reached the target on or before the deadline
	StatusLate       Status = "cumplida_tarde"    // reached it after the deadline
	StatusMet        Status = "cumplida"          // reached it; no deadline (or no date known)
	StatusOverdue    Status = "vencida"           // deadline passed, target not reached
	StatusPending    Status = "pendiente"         // not reached, deadline ahead
	StatusNoDeadline Status = "sin_plazo"         // not reached, no deadline
	StatusOngoing    Status = "en_curso"          // an action reported in progress, deadline ahead
	StatusCancelled  Status = "cancelada"         // an action dropped from the plan
)

var statusLabels = map[Status]string{
	StatusOnTime:     "Cumplida a tiempo",
	StatusLate:       "Cumplida tarde",
	StatusMet:        "Cumplida",
	StatusOverdue:    "Vencida",
	StatusPending:    "Pendiente, en plazo",
	StatusNoDeadline: "Pendiente, sin plazo",
	StatusOngoing:    "En curso, en plazo",
	StatusCancelled:  "Cancelada",
}

// Label is the status in Spanish for people.
func (s Status) Label() string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return string(s)
}

// Met reports whether the status is one of the "cumplida" ones.
func (s Status) Met() bool { return s == StatusOnTime || s == StatusLate || s == StatusMet }

// PhaseStatus is the status of a phase or criterion on date at: metOn is
// the first date it reached its target (nil if it does not meet it on
// that date), deadline its deadline (nil: none). A deadline is met by
// reaching the target on the deadline day itself; the phase is overdue
// from the next day.
func PhaseStatus(metOn, deadline *time.Time, at time.Time) Status {
	switch {
	case metOn != nil && deadline == nil:
		return StatusMet
	case metOn != nil && !metOn.After(*deadline):
		return StatusOnTime
	case metOn != nil:
		return StatusLate
	case deadline == nil:
		return StatusNoDeadline
	case at.After(*deadline):
		return StatusOverdue
	}
	return StatusPending
}

// ActionStatus is the status of an action-plan item on date at, from the
// status its plan reports, the date it was completed (nil: not known) and
// its deadline (nil: none). A completion after at does not count yet.
func ActionStatus(reported string, completedOn, deadline *time.Time, at time.Time) Status {
	done := completedOn != nil && !completedOn.After(at)
	switch {
	case reported == ingest.ActionCancelled:
		return StatusCancelled
	case done && (deadline == nil || !completedOn.After(*deadline)):
		return StatusOnTime
	case done:
		return StatusLate
	case reported == ingest.ActionDone && completedOn == nil:
		return StatusMet
	case deadline != nil && at.After(*deadline):
		return StatusOverdue
	case reported == ingest.ActionOngoing:
		return StatusOngoing
	}
	return StatusPending
}

// CompetitionRanks ranks scores from highest to lowest with ties sharing
// a rank and the next rank skipping ("1224" ranking): the rank of a score
// is 1 + the number of strictly higher scores. gel_clasificacion.sql
// computes the same on the warehouse.
func CompetitionRanks(scores []decimal.Decimal) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]].GreaterThan(scores[idx[b]]) })
	ranks := make([]int, len(scores))
	for pos, i := range idx {
		if pos > 0 && scores[i].Equal(scores[idx[pos-1]]) {
			ranks[i] = ranks[idx[pos-1]]
			continue
		}
		ranks[i] = pos + 1
	}
	return ranks
}
