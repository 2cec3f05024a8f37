package warehouse

import "strings"

// Prefixes of the working tables other packages create in the warehouse and
// drop after one job (see WorkingTable).
const (
	// StagePrefix starts the ETL's staging tables: a run's rows until it
	// commits (etl, staging).
	StagePrefix = "etl_stage_"
	// BalancesPrefix starts the liquidations' balances a publication or a
	// dashboards refresh builds and drops (analytics.Balances).
	BalancesPrefix = "tmp_saldos_"
)

// Suffixes of the scratch tables of a sorted copy (SortedCopy).
const (
	sortedSuffix = "_orden"
	stageSuffix  = "_etapa"
)

// WorkingTable tells whether a table is one the observatory works in for
// the time of one job, and what it holds. Their rows are either not
// committed yet or rebuilt from the schema's tables, so a backup leaves
// them out and says why, instead of warning about a table it does not
// know; one left by a process that died goes with the next job of its
// kind.
func WorkingTable(name string) (what string, ok bool) {
	switch {
	case strings.HasPrefix(name, StagePrefix):
		return "filas de una ejecución del ETL que no se ha confirmado (en curso, o abandonada: la próxima ejecución del trabajo la borra)", true
	case strings.HasPrefix(name, BalancesPrefix):
		return "saldos de las liquidaciones de una publicación (se reconstruyen de las tablas en cada publicación)", true
	case strings.HasSuffix(name, sortedSuffix) || strings.HasSuffix(name, stageSuffix):
		return "copia ordenada de una versión en construcción (se reconstruye en la próxima publicación)", true
	}
	return "", false
}
