package datasets_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/datasets/datasetstest"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// validatorDir holds the npm validators (package.json and package-lock.json
// committed, node_modules installed by `npm ci --prefix`).
var validatorDir, _ = filepath.Abs(filepath.Join("testdata", "validate"))

func needNode(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node no está instalado (apt-get install nodejs npm): se omite la validación con las bibliotecas de Frictionless y el esquema de Project Open Data")
	}
	if _, err := os.Stat(filepath.Join(validatorDir, "node_modules", "datapackage")); err != nil {
		t.Skip("faltan los validadores npm: ejecute `npm ci --prefix datasets/testdata/validate`; se omite la validación")
	}
}

type verdict struct {
	OK       bool     `json:"ok"`
	Errors   []string `json:"errors"`
	Datasets int      `json:"datasets"`
	Packages []struct {
		Dir       string   `json:"dir"`
		OK        bool     `json:"ok"`
		Errors    []string `json:"errors"`
		Resources []struct {
			Name    string `json:"name"`
			Tabular bool   `json:"tabular"`
			Rows    int    `json:"rows"`
		} `json:"resources"`
	} `json:"packages"`
}

func runValidator(t *testing.T, args ...string) verdict {
	t.Helper()
	cmd := exec.Command("node", append([]string{filepath.Join(validatorDir, "validate.js")}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Run() // the verdict says why it failed
	var v verdict
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatalf("salida del validador ilegible: %v\n%s\n%s", err, out.String(), errb.String())
	}
	return v
}

// saveRelease writes a release's files to a folder, as a user who
// downloads them all gets them.
func saveRelease(t *testing.T, e warehouse.Engine, rel *datasets.Release) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range rel.Files {
		r, err := datasets.OpenFile(datasetstest.Ctx(t), e, rel, f.Name)
		if err != nil {
			t.Fatal(err)
		}
		w, err := os.Create(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, r); err != nil {
			t.Fatal(err)
		}
		w.Close()
		r.Close()
	}
	return dir
}

// TestValidators: every dataset's datapackage.json and its CSV files (plain
// and Excel profile) pass the Frictionless libraries (npm datapackage and
// tableschema: the descriptor, and every row cast to its declared type),
// and /data.json passes the Project Open Data v1.1 JSON Schema. Broken
// inputs are rejected, so the validators do look.
func TestValidators(t *testing.T) {
	needNode(t)
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := datasetstest.Ctx(t)
		datasetstest.Load(t, e)
		latest, err := datasets.LatestAll(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		var dirs []string
		rels := map[string]*datasets.Release{}
		for _, d := range datasets.Catalog {
			rel := latest[d.ID]
			if rel == nil {
				t.Fatalf("%s sin versión", d.ID)
			}
			dir := saveRelease(t, e, rel)
			dirs = append(dirs, dir)
			rels[dir] = rel
		}
		// A broken copy of one package must fail.
		broken := saveRelease(t, e, latest["liquidaciones"])
		csvPath := filepath.Join(broken, "liquidaciones.csv")
		b, _ := os.ReadFile(csvPath)
		lines := strings.SplitN(string(b), "\r\n", 3)
		fields := strings.Split(lines[1], ",")
		fields[5] = "dos mil" // vigencia, an integer
		os.WriteFile(csvPath, []byte(lines[0]+"\r\n"+strings.Join(fields, ",")+"\r\n"+lines[2]), 0o644)
		v := runValidator(t, append([]string{"datapackage"}, append(dirs, broken)...)...)
		if len(v.Packages) != len(dirs)+1 {
			t.Fatalf("el validador devolvió %d paquetes: %v", len(v.Packages), v.Errors)
		}
		for _, p := range v.Packages {
			if p.Dir == broken {
				if p.OK {
					t.Errorf("el validador aceptó un CSV con «dos mil» en una columna entera")
				}
				continue
			}
			rel := rels[p.Dir]
			if !p.OK {
				t.Errorf("%s: datapackage inválido: %v", rel.Dataset, p.Errors)
				continue
			}
			tabular := 0
			for _, r := range p.Resources {
				if r.Tabular {
					tabular++
					if uint64(r.Rows) != rel.Rows {
						t.Errorf("%s/%s: %d filas leídas, la versión tiene %d", rel.Dataset, r.Name, r.Rows, rel.Rows)
					}
				}
			}
			if tabular != 2 {
				t.Errorf("%s: %d recursos tabulares validados (CSV y CSV para Excel)", rel.Dataset, tabular)
			}
		}
		cat, err := datasets.DCATCatalog("https://observatorio.example.org", latest)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "data.json")
		os.WriteFile(path, cat, 0o644)
		schemas, _ := filepath.Abs(filepath.Join("testdata", "pod-v1.1"))
		v = runValidator(t, "pod", path, schemas)
		if !v.OK || v.Datasets != len(datasets.Catalog) {
			t.Errorf("data.json no valida con el esquema de Project Open Data v1.1 (%d conjuntos): %v", v.Datasets, v.Errors)
		}
		var bad map[string]any
		json.Unmarshal(cat, &bad)
		delete(bad["dataset"].([]any)[0].(map[string]any), "title")
		b, _ = json.Marshal(bad)
		os.WriteFile(path, b, 0o644)
		if v := runValidator(t, "pod", path, schemas); v.OK {
			t.Errorf("el esquema aceptó un conjunto sin título")
		}
	})
}
