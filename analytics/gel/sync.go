package gel

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/observatorio-civico/observatorio/warehouse"
)

// Sync writes the catalog into the warehouse tables gel_frameworks,
// gel_phases and gel_criteria, unless the newest catalog there is already
// this one, for those who read the warehouse with SQL (the tracker's own
// queries carry the catalog in their text). Run it after the migrations;
// it is cheap when nothing changed. Rows of earlier catalogs stay; readers
// keep the newest (see 0010_gel.sql).
func (c *Catalog) Sync(ctx context.Context, e warehouse.Engine) error {
	res, err := e.Query(ctx, "SELECT argMax(catalog, updated_at) FROM gel_frameworks")
	if err != nil {
		return fmt.Errorf("gel: leyendo el catálogo: %w", err)
	}
	if len(res.Rows) == 1 && res.Rows[0][0] == c.Checksum {
		return nil
	}
	now := time.Now().UTC().Truncate(time.Second)
	var fw, ph, cr [][]any
	for i, f := range c.Frameworks {
		fw = append(fw, []any{c.Checksum, f.ID, i + 1, f.Name, f.Short, f.Part, f.Unit, f.Description, refsJSON(f.References), now})
		for _, p := range f.Phases {
			ph = append(ph, []any{c.Checksum, f.ID, p.ID, p.Position, p.Name, p.Summary, p.Kind, dateOrNil(p.Deadline), p.Target,
				len(p.Criteria), refsJSON(p.References), now})
			for _, k := range p.Criteria {
				cr = append(cr, []any{c.Checksum, f.ID, p.ID, k.ID, k.Position, k.Name, k.Group, k.Target, k.Unit,
					dateOrNil(k.Deadline), refsJSON(k.References), now})
			}
		}
	}
	// The frameworks go last: readers switch to the new catalog when its
	// frameworks appear, and by then the rest is written.
	for _, t := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"gel_criteria", []string{"catalog", "framework", "phase", "criterion", "position", "name", "grp", "target", "unit", "deadline", "refs", "updated_at"}, cr},
		{"gel_phases", []string{"catalog", "framework", "phase", "position", "name", "summary", "kind", "deadline", "target", "criteria", "refs", "updated_at"}, ph},
		{"gel_frameworks", []string{"catalog", "framework", "position", "name", "short_name", "part", "unit", "description", "refs", "updated_at"}, fw},
	} {
		if len(t.rows) == 0 {
			continue
		}
		if err := e.Insert(ctx, t.table, t.cols, t.rows); err != nil {
			return fmt.Errorf("gel: escribiendo %s: %w", t.table, err)
		}
	}
	return nil
}

// synced remembers, per engine, that the embedded catalog was written.
var synced sync.Map // warehouse.Engine → struct{}

// Ensure syncs the embedded catalog once per engine and process: the
// pages call it so that they work even where nobody ran Sync.
func Ensure(ctx context.Context, e warehouse.Engine) error {
	if _, ok := synced.Load(e); ok {
		return nil
	}
	if err := catalog.Sync(ctx, e); err != nil {
		return err
	}
	synced.Store(e, struct{}{})
	return nil
}

func dateOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

func refsJSON(r []Reference) string {
	if len(r) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(r)
	return string(b)
}
