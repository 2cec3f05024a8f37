package datasets_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/datasets/datasetstest"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestFileWriterStoresAfterTheStream: a release file reaches the warehouse
// only when it is closed, whole and in order, so that the engine's stream
// that produces it is never held up by the inserts (store.go); with the
// local cache the spool becomes the cached copy, without it a temporary
// file that no one else can see and that goes with Close; an aborted file
// leaves nothing anywhere.
func TestFileWriterStoresAfterTheStream(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := datasetstest.Ctx(t)
		datasetstest.KeepCacheDir(t)
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)

		// 9.5 MiB: without the spool, two inserts of 4 chunks would run
		// while the stream is still being written.
		content := bytes.Repeat([]byte("0123456789abcdef\n"), (19<<19)/17)
		sum := sha256.Sum256(content)
		want := hex.EncodeToString(sum[:])

		for _, c := range []struct {
			name  string
			cache string
		}{{"con caché", filepath.Join(tmp, "cache")}, {"sin caché", ""}} {
			t.Run(c.name, func(t *testing.T) {
				datasets.CacheDir = c.cache
				name := "prueba-" + strings.ReplaceAll(c.name, " ", "-") + ".csv"
				w := datasets.NewFileWriter(ctx, e, "prueba", 1, name)
				for rest := content; len(rest) > 0; {
					n := min(len(rest), 300_000)
					if _, err := w.Write(rest[:n]); err != nil {
						t.Fatal(err)
					}
					rest = rest[n:]
				}
				if n := chunks(t, e, name); n != 0 {
					t.Fatalf("antes de cerrarse el archivo ya tiene %d trozos en el almacén", n)
				}
				if c.cache == "" {
					if left := spools(t, tmp); len(left) != 0 {
						t.Fatalf("la copia local sin caché es visible en %s: %v", tmp, left)
					}
				}
				f, err := w.Close(datasets.FormatCSV)
				if err != nil {
					t.Fatal(err)
				}
				if f.SHA256 != want || f.Bytes != int64(len(content)) {
					t.Fatalf("descripción %s, %d bytes; se esperaba %s, %d", f.SHA256, f.Bytes, want, len(content))
				}
				if n := chunks(t, e, name); n != 10 {
					t.Errorf("%d trozos en el almacén, se esperaban 10", n)
				}
				res, err := e.Query(ctx, `SELECT hex(SHA256(arrayStringConcat(groupArray(data)))) FROM
					(SELECT data FROM dataset_files WHERE dataset = 'prueba' AND name = {n:String} ORDER BY chunk)`, warehouse.P("n", name))
				if err != nil {
					t.Fatal(err)
				}
				if got := strings.ToLower(res.Rows[0][0].(string)); got != want {
					t.Errorf("el almacén guarda otro contenido: SHA-256 %s", got)
				}
				if c.cache != "" {
					if _, err := os.Stat(filepath.Join(c.cache, want[:2], want)); err != nil {
						t.Errorf("el archivo no quedó en la caché local: %v", err)
					}
				}
				if left := spools(t, tmp); len(left) != 0 {
					t.Errorf("quedaron copias locales: %v", left)
				}

				aborted := datasets.NewFileWriter(ctx, e, "prueba", 1, "abortado-"+name)
				aborted.Write(content)
				aborted.Abort()
				if n := chunks(t, e, "abortado-"+name); n != 0 {
					t.Errorf("un archivo abortado dejó %d trozos en el almacén", n)
				}
				if left := spools(t, tmp); len(left) != 0 {
					t.Errorf("un archivo abortado dejó copias locales: %v", left)
				}
			})
		}
	})
}

func chunks(t *testing.T, e warehouse.Engine, name string) uint64 {
	t.Helper()
	res, err := e.Query(datasetstest.Ctx(t), "SELECT count() FROM dataset_files WHERE dataset = 'prueba' AND name = {n:String}", warehouse.P("n", name))
	if err != nil {
		t.Fatal(err)
	}
	return res.Rows[0][0].(uint64)
}

// spools lists the partial files under dir (the cache's and temporary ones).
func spools(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasPrefix(d.Name(), ".parcial-") || strings.HasPrefix(d.Name(), "observatorio-archivo-")) {
			out = append(out, p)
		}
		return nil
	})
	return out
}
