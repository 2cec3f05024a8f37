package datasets

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// Stats counts page views and downloads per dataset and day. Only the
// counts exist: no IP address, user agent, referrer or cookie is read or
// stored. Hits accumulate in memory and go to the warehouse (table
// dataset_stats, a SummingMergeTree) in batches.
type Stats struct {
	mu        sync.Mutex
	pending   map[statKey]*[2]uint64
	lastFlush time.Time
	flushing  bool
	// Every is how often pending hits are written (default 15 s).
	Every time.Duration
}

type statKey struct {
	dataset string
	day     time.Time
}

// Counts are one dataset's totals.
type Counts struct {
	Views     uint64
	Downloads uint64
}

// Hit counts a view (download false) or a download of a dataset.
func (s *Stats) Hit(dataset string, download bool, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		s.pending = map[statKey]*[2]uint64{}
		s.lastFlush = now
	}
	k := statKey{dataset, time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)}
	c := s.pending[k]
	if c == nil {
		c = &[2]uint64{}
		s.pending[k] = c
	}
	if download {
		c[1]++
	} else {
		c[0]++
	}
}

// MaybeFlush writes the pending hits in the background when the last write
// is older than Every.
func (s *Stats) MaybeFlush(eng warehouse.Engine, now time.Time) {
	every := s.Every
	if every == 0 {
		every = 15 * time.Second
	}
	s.mu.Lock()
	due := !s.flushing && len(s.pending) > 0 && now.Sub(s.lastFlush) >= every
	if due {
		s.flushing = true
	}
	s.mu.Unlock()
	if !due {
		return
	}
	go func() {
		if err := s.Flush(steadyContext(context.Background()), eng); err != nil {
			slog.Warn("no se pudieron guardar los contadores de descargas", "error", err)
		}
	}()
}

// Flush writes the pending hits now.
func (s *Stats) Flush(ctx context.Context, eng warehouse.Engine) error {
	s.mu.Lock()
	batch := s.pending
	s.pending = map[statKey]*[2]uint64{}
	s.lastFlush = time.Now()
	s.mu.Unlock()
	var rows [][]any
	for k, c := range batch {
		rows = append(rows, []any{k.dataset, k.day, c[0], c[1]})
	}
	err := eng.Insert(ctx, "dataset_stats", []string{"dataset", "day", "views", "downloads"}, rows)
	s.mu.Lock()
	s.flushing = false
	if err != nil { // keep the hits for the next try
		for k, c := range batch {
			p := s.pending[k]
			if p == nil {
				s.pending[k] = c
			} else {
				p[0] += c[0]
				p[1] += c[1]
			}
		}
	}
	s.mu.Unlock()
	return err
}

// Totals returns every dataset's counts: stored plus pending.
func (s *Stats) Totals(ctx context.Context, eng warehouse.Engine) (map[string]Counts, error) {
	res, err := eng.Query(ctx, "SELECT dataset, sum(views), sum(downloads) FROM dataset_stats GROUP BY dataset")
	if err != nil {
		return nil, err
	}
	out := map[string]Counts{}
	for _, r := range res.Rows {
		out[r[0].(string)] = Counts{Views: r[1].(uint64), Downloads: r[2].(uint64)}
	}
	s.mu.Lock()
	for k, c := range s.pending {
		t := out[k.dataset]
		t.Views += c[0]
		t.Downloads += c[1]
		out[k.dataset] = t
	}
	s.mu.Unlock()
	return out, nil
}
