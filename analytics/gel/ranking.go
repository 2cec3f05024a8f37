package gel

import (
	"sort"
	"strings"

	"github.com/shopspring/decimal"
)

// RankFrom ranks entities from their phases (the rows of Phases for one
// framework, all entities, one date) exactly as gel_clasificacion.sql
// does in the warehouse: the score is the progress in phase, or with
// phase "" the framework's general score (its General phase, or the mean
// over all its phases, unmeasured ones counting 0); competition ranks
// (ties share a rank), nationally and within the department; the mean
// scores of the country and of the department; departments' own rows
// (dd000) left out. Pages use it to rank from rows they already have; the
// tests check that it agrees with the SQL.
func RankFrom(rows []PhaseRow, f *Framework, phase string) []RankRow {
	if phase == "" {
		phase = f.General
	}
	type acc struct {
		r   RankRow
		sum decimal.Decimal
	}
	by := map[string]*acc{}
	var order []string
	for _, p := range rows {
		if p.Framework != f.ID || strings.HasSuffix(p.Entity.Code, "000") {
			continue
		}
		if phase != "" && p.Phase != phase || phase == "" && f.Phase(p.Phase) == nil {
			continue
		}
		a := by[p.Entity.Code]
		if a == nil {
			a = &acc{r: RankRow{Entity: p.Entity}}
			by[p.Entity.Code] = a
			order = append(order, p.Entity.Code)
		}
		a.sum = a.sum.Add(p.Progress)
		a.r.PhasesMeasured++
		if p.MeasuredOn.After(a.r.LastMeasured) {
			a.r.LastMeasured = p.MeasuredOn
		}
		a.r.Synthetic = a.r.Synthetic || p.Synthetic
	}
	n := decimal.NewFromInt(1)
	if phase == "" && len(f.Phases) > 0 {
		n = decimal.NewFromInt(int64(len(f.Phases)))
	}
	out := make([]RankRow, 0, len(order))
	scores := make([]decimal.Decimal, 0, len(order))
	for _, code := range order {
		a := by[code]
		a.r.Score = a.sum.DivRound(n, 4)
		out = append(out, a.r)
		scores = append(scores, a.r.Score)
	}
	ranks := CompetitionRanks(scores)
	total := decimal.Zero
	deptSum := map[string]decimal.Decimal{}
	deptN := map[string]int{}
	for i := range out {
		out[i].Rank, out[i].Entities = ranks[i], len(out)
		total = total.Add(out[i].Score)
		d := out[i].Entity.DepartmentCode
		deptSum[d] = deptSum[d].Add(out[i].Score)
		deptN[d]++
	}
	for i := range out {
		d := out[i].Entity.DepartmentCode
		out[i].NationalAvg = total.DivRound(decimal.NewFromInt(int64(len(out))), 4)
		out[i].DeptAvg = deptSum[d].DivRound(decimal.NewFromInt(int64(deptN[d])), 4)
		out[i].DeptEntities = deptN[d]
		out[i].DeptRank = 1
		for j := range out {
			if out[j].Entity.DepartmentCode == d && out[j].Score.GreaterThan(out[i].Score) {
				out[i].DeptRank++
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Rank != out[j].Rank {
			return out[i].Rank < out[j].Rank
		}
		return out[i].Entity.Code < out[j].Entity.Code
	})
	return out
}
