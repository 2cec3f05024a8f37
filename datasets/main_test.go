package datasets_test

import (
	"os"
	"testing"

	"github.com/observatorio-civico/observatorio/datasets"
)

// TestMain keeps the local copies of release files in a folder of its own.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "observatorio-datos-prueba-*")
	if err != nil {
		panic(err)
	}
	if os.Getenv("OBSERVATORIO_BENCH_DIR") == "" {
		datasets.CacheDir = dir
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
