// Package gel tracks Gobierno en Línea / Gobierno Digital indicators
// against their deadlines, for every framework with one model:
//
//	framework (gel2008, gd2018, igd)
//	  → phase or component (deadline, target)
//	    → criterion or indicator (target, unit, deadline; "total" is the
//	      phase's own measurement)
//	      → measurements (entity, date, value, evidence, source, synthetic)
//	action plan of an entity → items (action, responsible, indicator, goal,
//	  deadline, reported status, completion date)
//
// The frameworks are data (frameworks.yaml, embedded), each with its legal
// references; Decreto 1151 de 2008's five phases carry their territorial
// deadlines and the criteria of the national strategy's presentation
// (seed 004, slides 13-17). Measurements come through the ETL into
// gel_measurements (ingest kind gel_measurement), action plans into
// gel_action_items (gel_action_item) and the published Índice de Gobierno
// Digital into gel_index_scores (gd_index_score, ingest.IGDFileSource),
// where it counts as framework "igd".
//
// The computation is SQL, one named query per file under queries/, the
// same on chDB and on ClickHouse 18.16 (no window functions, no CTEs, one
// JOIN per SELECT):
//
//	gel_fases          progress and status of each phase per entity on a date
//	gel_serie          progress per phase and entity on every measurement date (the trend)
//	gel_criterios      each measured criterion of an entity, with evidence and status
//	gel_clasificacion  ranking with ties, nationally and by department, with averages
//	gel_acciones       action-plan items and their status on a date
//	gel_igd            the published index with its peer-group average
//	gel_entidades      entities with measurements
//
// Rules (the same in SQL and in Go, tested against each other):
//
//   - A phase's progress on date d: each criterion keeps its latest
//     measurement on or before d; the phase's own measurement ("total")
//     wins when it is at least as recent as the newest criterion
//     measurement, else progress is the mean of the measured criteria,
//     each as a percentage of its target capped at 100. Criteria never
//     measured do not count (the pages show how many were measured).
//   - Status against the deadline (PhaseStatus): cumplida_a_tiempo when
//     the target was first reached on or before the deadline,
//     cumplida_tarde after it, vencida when the deadline passed (from the
//     next day) unmet, pendiente before it, sin_plazo / cumplida without a
//     deadline. Actions (ActionStatus) likewise, from their completion
//     date, plus cancelada and en_curso as reported.
//   - Rank (CompetitionRanks, RankFrom): 1 + the number of entities with a
//     strictly higher score, so ties share a rank ("1224"); the general
//     score is the framework's General phase or the mean of all its
//     phases, a phase never measured counting 0.
//
// Report and Events assemble what the officials' pages and feeds show
// (package dashboards); Phases, Series, Criteria, Ranking, Actions, IGD and
// Entities return the queries' rows typed; Run and Stream run any named
// query for SQL-only consumers (datasets). Package geldemo is the demo set.
package gel
