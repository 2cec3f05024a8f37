package datasets

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/observatorio-civico/observatorio/analytics"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// ForgetWithheldClasses makes the next publications build record-level
// releases as if k-anonymity had withheld no class, until restore is
// called.
func ForgetWithheldClasses() (restore func()) {
	testHookClasses = func(k *kClasses) { k.classes = nil }
	return func() { testHookClasses = nil }
}

// FailPublishing makes the next publications fail the dataset id with err,
// until restore is called.
func FailPublishing(id string, err error) (restore func()) {
	testHookPublish = func(d string) error {
		if d == id {
			return err
		}
		return nil
	}
	return func() { testHookPublish = nil }
}

// FileWriter is the release file writer, for tests of its storage.
type FileWriter = fileWriter

// NewFileWriter starts a release file.
var NewFileWriter = newFileWriter

// Abort drops a file that will not be recorded.
func (f *fileWriter) Abort() { f.abort() }

// SlicedQueries runs every aggregate query that splits the taxpayers, in
// the given number of slices, folds each into its cells as a publication
// does, and returns each query's cells by query name, one line per cell
// (its key, measures, contributors, top contributions and total), sorted.
func SlicedQueries(ctx context.Context, eng warehouse.Engine, cutoff time.Time, slices uint64) (map[string][]string, error) {
	out := map[string][]string{}
	snap := &snapshot{eng: eng, cutoff: cutoff}
	defer snap.close(ctx)
	for i := range Catalog {
		d := &Catalog[i]
		b, ok := d.build.(aggBuild)
		if !ok {
			continue
		}
		for pi, part := range b.parts {
			q, err := analytics.Get(part.query)
			if err != nil {
				return nil, err
			}
			if !strings.Contains(q.SQL, "{tajadas:") {
				continue
			}
			f := &partFold{d: d, part: part, pi: pi, nparts: len(b.parts), dims: dimColumns(d), rows: map[string]*aggRow{}}
			if err := runSliced(ctx, eng, q.SQL, snap, slices, f.add); err != nil {
				return nil, err
			}
			cells := f.cells
			f.finish(rules{k: DefaultK, dominancePct: 85}, map[string]map[string]*cell{})
			var lines []string
			for _, c := range cells {
				lines = append(lines, fmt.Sprint(c.row.key, c.row.dims.vals, c.values.vals, c.contrib, c.top1, c.top2, c.total, c.reason))
			}
			sort.Strings(lines)
			out[part.query] = lines
		}
	}
	return out, nil
}
