package gel

import (
	"context"
	"os"
	"testing"
	"testing/fstest"
	"time"

	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/ingest"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// measurementMapping names the Spanish headers of the test files.
var measurementMapping = map[string]string{
	"Marco": "framework", "Fase": "phase", "Criterio": "criterion", "Código DANE": "entity_code",
	"Fecha de medición": "measured_on", "Valor": "value", "Unidad": "unit", "Evidencia": "evidence_url",
	"Fuente": "source", "Sintético": "synthetic",
}

// source declares a CSV file of files as an ETL source.
func source(name string, kind ingest.Kind, path string, mapping map[string]string) ingest.SourceConfig {
	return ingest.SourceConfig{Name: name, Kind: ingest.SourceFile, Record: kind, File: &ingest.FileConfig{Path: path},
		Encoding: "utf-8", Delimiter: ",", Mapping: mapping}
}

// load runs one ETL job over in-memory files, through ingest and the ETL
// runner exactly as scheduled jobs do, and fails the test unless every row
// loads.
func load(t *testing.T, e warehouse.Engine, job string, files fstest.MapFS, srcs ...ingest.SourceConfig) *etl.RunReport {
	t.Helper()
	r := &etl.Runner{Eng: e, Config: etl.Config{Jobs: []etl.JobConfig{{Name: job, Sources: srcs}}},
		IngestOptions: []ingest.Option{ingest.WithFS(files)}}
	rep, err := r.Run(context.Background(), job)
	if err != nil {
		t.Fatalf("etl %s: %v", job, err)
	}
	if rep.Quarantined != 0 || rep.Loaded == 0 {
		t.Fatalf("etl %s: %s", job, rep.Summary())
	}
	return rep
}

// testdata reads a file of testdata/ into an in-memory file system.
func testdata(t *testing.T, names ...string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, n := range names {
		b, err := os.ReadFile("testdata/" + n)
		if err != nil {
			t.Fatal(err)
		}
		fsys[n] = &fstest.MapFile{Data: b}
	}
	return fsys
}

func seedEntities(t *testing.T, e warehouse.Engine) {
	t.Helper()
	if _, err := warehouse.SeedEntities(context.Background(), e); err != nil {
		t.Fatal(err)
	}
}

func date(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func datep(s string) *time.Time {
	d := date(s)
	return &d
}
