package etl

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// RunRow is one row of the run log.
type RunRow struct {
	RunID, Job, Status                            string
	Started, Finished                             time.Time
	Read, Loaded, Quarantined, Skipped, Unchanged uint64
	Error                                         string
}

// LastRuns returns the last n runs, newest first.
func LastRuns(ctx context.Context, e warehouse.Engine, n int) ([]RunRow, error) {
	// LIMIT takes a literal in ClickHouse 18.16; n is an int, never text.
	res, err := e.Query(ctx, fmt.Sprintf(`SELECT run_id, job, status, started_at, finished_at, rows_read, rows_loaded, rows_quarantined,
		rows_skipped, rows_unchanged, error FROM etl_runs FINAL ORDER BY started_at DESC, run_id DESC LIMIT %d`, max(n, 0)))
	if err != nil {
		return nil, err
	}
	out := make([]RunRow, len(res.Rows))
	for i, r := range res.Rows {
		out[i] = RunRow{RunID: r[0].(string), Job: r[1].(string), Status: r[2].(string), Started: r[3].(time.Time), Finished: r[4].(time.Time),
			Read: r[5].(uint64), Loaded: r[6].(uint64), Quarantined: r[7].(uint64), Skipped: r[8].(uint64), Unchanged: r[9].(uint64), Error: r[10].(string)}
	}
	return out, nil
}

// WriteStatus prints the run log as a table for the terminal.
func WriteStatus(w io.Writer, runs []RunRow, next map[string]time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TRABAJO\tESTADO\tINICIO (UTC)\tDURACIÓN\tLEÍDAS\tCARGADAS\tCUARENTENA\tOMITIDAS\tSIN CAMBIOS\tEJECUCIÓN\tERROR")
	for _, r := range runs {
		dur := "-"
		if r.Status != StatusRunning {
			dur = r.Finished.Sub(r.Started).String()
		}
		errText := r.Error
		if len(errText) > 80 {
			errText = errText[:77] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", r.Job, r.Status, r.Started.Format("2006-01-02 15:04:05"), dur,
			r.Read, r.Loaded, r.Quarantined, r.Skipped, r.Unchanged, r.RunID, errText)
	}
	tw.Flush()
	if len(next) > 0 {
		fmt.Fprintln(w, "\nPróximas ejecuciones programadas (hora de Bogotá):")
		for job, t := range next {
			fmt.Fprintf(w, "  %s: %s\n", job, t.Format("2006-01-02 15:04"))
		}
	}
}
