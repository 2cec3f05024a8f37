package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// Same seed and scale, same bytes, whatever the number of workers; another
// seed, other bytes.
func TestDeterministic(t *testing.T) {
	ctx := context.Background()
	gen := func(seed uint64, workers int) (*Manifest, []byte) {
		dir := t.TempDir()
		m, err := Generate(ctx, dir, Options{Seed: seed, Scale: 0.05, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		return m, b
	}
	a, ab := gen(42, 1)
	b, bb := gen(42, 3)
	if !bytes.Equal(ab, bb) {
		t.Fatal("manifests differ between 1 and 3 workers")
	}
	if len(a.Files) != len(b.Files) || len(a.Files) < 90 {
		t.Fatalf("%d and %d files", len(a.Files), len(b.Files))
	}
	for i := range a.Files {
		if a.Files[i].SHA256 != b.Files[i].SHA256 || a.Files[i].SHA256 == "" {
			t.Errorf("%s: %s != %s", a.Files[i].Path, a.Files[i].SHA256, b.Files[i].SHA256)
		}
	}
	c, _ := gen(43, 2)
	same := 0
	for i := range a.Files {
		if a.Files[i].SHA256 == c.Files[i].SHA256 {
			same++
		}
	}
	if same > 2 { // only the reference copies are the same
		t.Errorf("seed 43 gives %d identical files", same)
	}
}

// A cancelled context stops the generation with its error.
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, t.TempDir(), Options{Seed: 1, Scale: 0.05}); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
