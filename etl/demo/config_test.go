package demo_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/etl/demo"
)

// The configuration is what the ETL reads: etl.Config (strict keys, cron
// schedules, valid sources), with paths relative to its folder.
func TestConfigIsTheETLs(t *testing.T) {
	dir := t.TempDir()
	if _, err := demo.Generate(context.Background(), dir, demo.Options{Seed: 7, Scale: 0.02}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, demo.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Demo bool       `yaml:"demo"`
		ETL  etl.Config `yaml:"etl"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	cfg.ETL.ResolvePaths(dir)
	if err := cfg.ETL.Validate(); err != nil {
		t.Fatal(err)
	}
	if !cfg.Demo || len(cfg.ETL.Jobs) != 9 {
		t.Fatalf("demo %v, %d jobs", cfg.Demo, len(cfg.ETL.Jobs))
	}
	for _, j := range cfg.ETL.Jobs {
		for _, s := range j.Sources {
			matches, err := filepath.Glob(s.File.Path)
			if err != nil || len(matches) == 0 {
				t.Errorf("job %s: %s matches no file", j.Name, s.File.Path)
			}
		}
	}
}

// The walking skeleton's generator is unchanged: `make run` still shows
// 5,100 liquidations.
func TestGenerateRowsUnchanged(t *testing.T) {
	var liqs, pays int
	err := demo.GenerateRows(demo.DefaultOptions(), func(*demo.Liquidation) error { liqs++; return nil },
		func(*demo.Payment) error { pays++; return nil })
	if err != nil || liqs != 5100 || pays == 0 {
		t.Fatalf("err %v, %d liquidations, %d payments", err, liqs, pays)
	}
}
