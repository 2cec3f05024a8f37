package datasets

import (
	"context"
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
// the given number of slices, and returns each one's rows by query name.
func SlicedQueries(ctx context.Context, eng warehouse.Engine, cutoff time.Time, slices uint64) (map[string]*warehouse.Result, error) {
	out := map[string]*warehouse.Result{}
	snap := &snapshot{eng: eng, cutoff: cutoff}
	defer snap.close(ctx)
	for i := range Catalog {
		d := &Catalog[i]
		b, ok := d.build.(aggBuild)
		if !ok {
			continue
		}
		for _, part := range b.parts {
			q, err := analytics.Get(part.query)
			if err != nil {
				return nil, err
			}
			if !strings.Contains(q.SQL, "{tajadas:") {
				continue
			}
			if out[part.query], err = runSliced(ctx, eng, q.SQL, snap, slices, d, part); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
