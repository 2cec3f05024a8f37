package etl

import (
	"github.com/observatorio-civico/observatorio/ingest"
)

// Warehouse columns of the GEL tracker's record kinds (package analytics/gel;
// tables in warehouse/migrations/0010_gel.sql).
var (
	GELActionColumns = []string{"entity_code", "plan", "item", "framework", "phase", "action", "responsible", "indicator", "goal",
		"deadline", "deadline_text", "status", "completed_on", "evidence_url", "synthetic", "source", "source_file", "source_line", "run_id", "loaded_at"}
	GDIndexColumns = []string{"sigep_code", "entity_name", "entity_code", "department", "municipality", "peer_group", "year", "index_name",
		"score", "peer_average", "synthetic", "source", "source_file", "source_line", "run_id", "loaded_at"}
)

func dateOrNil(d *ingest.Date) any {
	if d == nil || d.IsZero() {
		return nil
	}
	return d.Time()
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func (t *transformer) gelAction(a *ingest.GELActionItem) []any {
	o := &a.Origin
	status := a.Status
	if status == "" {
		status = ingest.ActionPending
	}
	source := o.Source
	if a.Source != "" {
		source = a.Source
	}
	return []any{a.EntityCode, a.Plan, a.Item, a.Framework, a.Phase, a.Action, a.Responsible, a.Indicator, a.Goal,
		dateOrNil(a.Deadline), a.DeadlineText, status, dateOrNil(a.CompletedOn), a.EvidenceURL, boolByte(a.Synthetic),
		source, o.File, line(o), t.runID, t.now}
}

// gdIndex keeps the published row as it is and adds the DIVIPOLA code of
// alcaldías and gobernaciones when the file does not carry it.
func (t *transformer) gdIndex(s *ingest.GDIndexScore) []any {
	o := &s.Origin
	code := s.EntityCode
	if code == "" {
		code = ingest.ResolveEntityCode(s.EntityName, s.Department, s.Municipality)
	}
	var peer any // NULL when the file has no peer average
	if s.PeerAverage != nil {
		peer = *s.PeerAverage
	}
	return []any{s.SIGEPCode, s.EntityName, code, s.Department, s.Municipality, s.PeerGroup, s.Year, s.Index,
		s.Score, peer, boolByte(s.Synthetic), o.Source, o.File, line(o), t.runID, t.now}
}
