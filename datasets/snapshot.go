package datasets

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/observatorio-civico/observatorio/analytics"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// snapshot is what the statements of one publication read: the ETL runs
// committed up to its cut-off ({corte}) and, built on the first statement
// that reads it, the balances of every liquidation of that snapshot
// ({saldos}, analytics.Balances). A publication builds them once for all
// its releases and drops them at its end (close), unless they are shared
// with the next reader.
type snapshot struct {
	eng    warehouse.Engine
	cutoff time.Time
	// shared keeps the balances; when the caller gave none, the snapshot
	// owns them (own) and drops them at close.
	shared   *analytics.SharedBalances
	own      bool
	balances *analytics.Balances
	// failed is why the balances could not be built: the datasets that
	// read them fail with it, without building them again (250 s at
	// 19.8M liquidations).
	failed error
}

// params are the parameters of sql that the snapshot binds.
func (s *snapshot) params(ctx context.Context, sql string) ([]warehouse.Param, error) {
	var out []warehouse.Param
	if strings.Contains(sql, "{corte:") {
		out = append(out, warehouse.P("corte", s.cutoff))
	}
	if analytics.NeedsBalances(sql) {
		if s.failed != nil {
			return nil, s.failed
		}
		if s.balances == nil {
			step := newSteps(ctx, s.eng, "saldos")
			if s.shared == nil {
				s.shared, s.own = &analytics.SharedBalances{}, true
			}
			b, built, err := s.shared.Get(ctx, s.eng, analytics.BalanceOptions{RunsUpTo: s.cutoff})
			if err != nil {
				s.failed = err
				return nil, err
			}
			s.balances = b
			if built {
				step.done(fmt.Sprintf("%d-partes", b.Slices))
			} else {
				step.done("compartidos")
			}
		}
		out = append(out, s.balances.Param())
	}
	return out, nil
}

func (s *snapshot) close(ctx context.Context) {
	if s.own {
		s.shared.Drop(ctx)
	}
	s.balances = nil
}
