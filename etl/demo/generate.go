package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/observatorio-civico/observatorio/liquidation"
)

// GeneratorVersion changes when the same seed and scale would give
// different bytes.
const GeneratorVersion = "observatorio etl/demo v1"

// generateFiles writes the demo data set into dir; see Generate.
func generateFiles(ctx context.Context, dir string, o Options) (*Manifest, error) {
	g, err := newGen(o)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	man := &Manifest{Generator: GeneratorVersion, Seed: g.seed, Scale: g.scale, Cutoff: "2026-02-28", Config: ConfigFile,
		Definitions: definitions()}
	stats := map[string]*muniStats{}
	for _, m := range profiles {
		st, err := g.municipality(ctx, dir, m, man)
		if err != nil {
			return nil, err
		}
		stats[m.code] = st
	}
	info, progress, err := g.writeGEL(dir)
	if err != nil {
		return nil, err
	}
	man.Files = append(man.Files, *info)
	man.GEL = progress
	refs, err := writeReference(ctx, dir)
	if err != nil {
		return nil, err
	}
	man.Files = append(man.Files, refs...)
	if err := writeConfig(dir); err != nil {
		return nil, err
	}
	man.finish(stats)
	b, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return man, nil
}

func newGen(o Options) (*gen, error) {
	if o.Scale <= 0 {
		o.Scale = 1
	}
	if o.Scale > 10000 {
		return nil, fmt.Errorf("demo: scale %g is too large (at most 10000)", o.Scale)
	}
	rules, err := liquidation.EmbeddedRules()
	if err != nil {
		return nil, err
	}
	g := &gen{o: o, seed: o.Seed, scale: o.Scale, rules: rules}
	for _, m := range profiles {
		c, err := loadCal(rules, m)
		if err != nil {
			return nil, err
		}
		g.cal[m.idx] = c
		g.unknownMuni[m.idx] = unknownCode(m.code)
	}
	g.buildPlans()
	return g, nil
}
