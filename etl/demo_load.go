package etl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/observatorio-civico/observatorio/etl/demo"
	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// DemoReport counts what LoadDemo wrote.
type DemoReport struct {
	RunID        string
	Liquidations int
	Payments     int
}

// NewRunID returns a fresh ETL run id.
func NewRunID() string {
	b := make([]byte, 8)
	rand.Read(b)
	// Sortable: runs started later have larger ids.
	return time.Now().UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b)
}

// LoadDemo generates the demo data set and loads it straight into the
// warehouse: taxpayer ids become pseudonyms, names are dropped, every row
// keeps its provenance, and the run is logged in etl_runs. Verification is
// left "pending" until the liquidation core recomputes the rows.
func LoadDemo(ctx context.Context, e warehouse.Engine, p *Pseudonymizer, o demo.Options) (*DemoReport, error) {
	const batch = 5000
	rep := &DemoReport{RunID: NewRunID()}
	started := time.Now().UTC().Truncate(time.Second)
	loaded := started
	var lrows, prows [][]any
	flush := func(force bool) error {
		if len(lrows) >= batch || (force && len(lrows) > 0) {
			if err := e.Insert(ctx, "liquidations", LiquidationColumns, lrows); err != nil {
				return err
			}
			rep.Liquidations += len(lrows)
			lrows = lrows[:0]
		}
		if len(prows) >= batch || (force && len(prows) > 0) {
			if err := e.Insert(ctx, "payments", PaymentColumns, prows); err != nil {
				return err
			}
			rep.Payments += len(prows)
			prows = prows[:0]
		}
		return nil
	}
	err := demo.GenerateRows(o, func(l *demo.Liquidation) error {
		lrows = append(lrows, []any{l.ID, l.Municipality, l.Tax, l.TaxYear, p.Pseudonym(l.TaxpayerID), l.TaxpayerKind,
			l.FilingChannel, l.IssueDate, l.DueDate, l.BaseAmount, l.InputsJSON(), l.BilledTotal, l.BilledTotal,
			"pending", "0", "", "demo", "demo/liquidaciones.csv", l.SourceLine, rep.RunID, loaded})
		return flush(false)
	}, func(pm *demo.Payment) error {
		prows = append(prows, []any{pm.ID, pm.LiquidationID, pm.Municipality, pm.Tax, pm.TaxYear, p.Pseudonym(pm.TaxpayerID),
			pm.PaidAt, pm.PaidAt, pm.Amount, pm.Channel, "demo", "demo/pagos.csv", pm.SourceLine, rep.RunID, loaded})
		return flush(false)
	})
	if err == nil {
		err = flush(true)
	}
	// The same state a Runner's commit leaves (see consolidate), which the
	// embedded engine's FINAL relies on.
	for _, tbl := range []string{tableOf[ingest.KindLiquidation], tableOf[ingest.KindPayment]} {
		if err == nil {
			err = consolidate(ctx, e, slog.Default(), tbl)
		}
	}
	status, msg := "committed", ""
	if err != nil {
		status, msg = "failed", err.Error()
	}
	logErr := e.Insert(ctx, "etl_runs", []string{"run_id", "job", "started_at", "finished_at", "status", "rows_read", "rows_loaded", "rows_quarantined", "rows_skipped", "rows_unchanged", "error"},
		[][]any{{rep.RunID, "demo", started, time.Now().UTC().Truncate(time.Second), status, rep.Liquidations + rep.Payments, rep.Liquidations + rep.Payments, 0, 0, 0, msg}})
	if err != nil {
		return rep, fmt.Errorf("carga de demostración: %w", err)
	}
	return rep, logErr
}
