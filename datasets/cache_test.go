package datasets_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/datasets/datasetstest"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestCacheBounded: a publication writing more than CacheMaxBytes through
// to the local cache leaves it within the bound (the file written last
// stays), partial files of dead writers go and a live writer's stays, and a
// file evicted is served again, filled from the warehouse with its hash
// checked. The cache is engine-independent, so the embedded engine is
// enough.
func TestCacheBounded(t *testing.T) {
	savedDir, savedMax := datasets.CacheDir, datasets.CacheMaxBytes
	t.Cleanup(func() { datasets.CacheDir, datasets.CacheMaxBytes = savedDir, savedMax })
	cache := t.TempDir()
	datasets.CacheDir, datasets.CacheMaxBytes = cache, 256<<10
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(cache, ".parcial-muerto")
	live := filepath.Join(cache, ".parcial-vivo")
	for _, p := range []string{dead, live} {
		if err := os.WriteFile(p, []byte("a medias"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(dead, old, old)

	e := whtest.Embedded(t)
	f := datasetstest.Load(t, e) // publishes every dataset
	var published int64
	for _, r := range f.Releases {
		for _, fl := range r.Files {
			published += fl.Bytes
		}
	}
	total, files := cacheSize(t, cache)
	t.Logf("publicado: %d bytes; caché: %d bytes en %d archivos (límite %d)", published, total, len(files), datasets.CacheMaxBytes)
	if published <= datasets.CacheMaxBytes {
		t.Fatalf("la prueba necesita publicar más que el límite: %d bytes", published)
	}
	if total > datasets.CacheMaxBytes && len(files) > 1 {
		t.Errorf("la caché ocupa %d bytes en %d archivos, más que el límite de %d", total, len(files), datasets.CacheMaxBytes)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("quedó el archivo parcial de un escritor muerto: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("se borró el archivo parcial de un escritor vivo: %v", err)
	}

	// Every file of every release is still served right, from the cache or
	// filled again from the warehouse.
	ctx := datasetstest.Ctx(t)
	refilled := 0
	for _, r := range f.Releases {
		for _, fl := range r.Files {
			_, cached := files[fl.SHA256]
			fh, _, err := datasets.CachedFile(ctx, e, &r, fl.Name)
			if err != nil || fh == nil {
				t.Fatalf("%s/%s: %v", r.Dataset, fl.Name, err)
			}
			h := sha256.New()
			_, err = io.Copy(h, fh)
			fh.Close()
			if err != nil || hex.EncodeToString(h.Sum(nil)) != fl.SHA256 {
				t.Errorf("%s/%s servido con otra suma (%v)", r.Dataset, fl.Name, err)
			}
			if !cached {
				refilled++
			}
		}
	}
	if refilled == 0 {
		t.Errorf("ningún archivo había salido de la caché")
	}
	if total, files := cacheSize(t, cache); total > datasets.CacheMaxBytes && len(files) > 1 {
		t.Errorf("tras servir todo, la caché ocupa %d bytes en %d archivos", total, len(files))
	}
}

// cacheSize sums the cache's complete files, by hash.
func cacheSize(t *testing.T, dir string) (int64, map[string]int64) {
	t.Helper()
	files := map[string]int64{}
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".parcial-") {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files[d.Name()] = info.Size()
		total += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total, files
}
