package etl

// StageTable is the staging table a run of job writes table's rows into.
func StageTable(job, runID, table string) string {
	return newStaging(nil, job, runID).name(table)
}
