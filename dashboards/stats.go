package dashboards

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Views of the dashboards and downloads of their chart data are counted in
// memory and written to dashboard_stats in batches (a row per dashboard and
// day), never per request: ClickHouse wants few, large inserts. Nothing
// about the visitor is kept. Counts not yet written when the process stops
// are lost (at most StatsEvery's worth).

type statKey struct {
	Dashboard string
	Day       time.Time
}

type statCount struct{ Views, Downloads uint64 }

type stats struct {
	mu       sync.Mutex
	pending  map[statKey]*statCount
	last     time.Time
	flushing bool
}

func (s *Site) count(dashboard string, views, downloads uint64) {
	s.stats.mu.Lock()
	k := statKey{dashboard, s.today()}
	c := s.stats.pending[k]
	if c == nil {
		c = &statCount{}
		s.stats.pending[k] = c
	}
	c.Views += views
	c.Downloads += downloads
	if s.stats.last.IsZero() {
		s.stats.last = time.Now()
	}
	due := time.Since(s.stats.last) >= s.o.StatsEvery && !s.stats.flushing
	if due {
		s.stats.flushing = true
	}
	s.stats.mu.Unlock()
	if due {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := s.flushStats(ctx); err != nil {
				slog.Warn("tableros: no se pudieron guardar los contadores de uso", "error", err)
			}
		}()
	}
}

// CountDownload counts one download of an item shown on the dashboards
// (the data behind a chart; a caller may count other downloads under their
// own names).
func (s *Site) CountDownload(item string) { s.count(item, 0, 1) }

// FlushStats writes the pending counters now (at shutdown, in tests).
func (s *Site) FlushStats(ctx context.Context) error {
	s.stats.mu.Lock()
	if s.stats.flushing {
		s.stats.mu.Unlock()
		return nil
	}
	s.stats.flushing = true
	s.stats.mu.Unlock()
	return s.flushStats(ctx)
}

func (s *Site) flushStats(ctx context.Context) error {
	s.stats.mu.Lock()
	pending := s.stats.pending
	s.stats.pending = map[statKey]*statCount{}
	s.stats.last = time.Now()
	s.stats.mu.Unlock()
	var rows [][]any
	for k, c := range pending {
		rows = append(rows, []any{k.Dashboard, k.Day, c.Views, c.Downloads})
	}
	var err error
	if len(rows) > 0 {
		err = s.eng.Insert(ctx, "dashboard_stats", []string{"dashboard", "day", "views", "downloads"}, rows)
	}
	s.stats.mu.Lock()
	s.stats.flushing = false
	if err != nil { // keep them for the next attempt
		for k, c := range pending {
			p := s.stats.pending[k]
			if p == nil {
				p = &statCount{}
				s.stats.pending[k] = p
			}
			p.Views += c.Views
			p.Downloads += c.Downloads
		}
	}
	s.stats.mu.Unlock()
	return err
}
