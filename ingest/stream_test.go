package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

func TestDamagedHeaderAndCancelInsideAFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("department_code,municipality_code,department_name,municipality_name,Tipo: Municipio / Isla / Ãrea no municipalizada\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "18,18%03d,CAQUETÁ,X,Municipio\n", i)
	}
	cfg := SourceConfig{Name: "big", Kind: SourceFile, Record: KindEntity, File: &FileConfig{Path: "big.csv"},
		Mapping: map[string]string{"Tipo: Municipio / Isla / Área no municipalizada": "kind"}}
	fsys := fstest.MapFS{"big.csv": {Data: []byte(b.String())}}
	// "Xrea" matches nothing, so the required kind is missing
	fsys["big.csv"].Data = []byte(strings.Replace(b.String(), "Ãrea", "Xrea", 1))
	if _, err := Open(context.Background(), cfg, WithFS(fsys)); err == nil || !strings.Contains(err.Error(), "kind") {
		t.Fatalf("err = %v", err)
	}
	fsys["big.csv"].Data = []byte(strings.Replace(b.String(), "Ãrea", "Ã\u0081rea", 1))
	st, err := Open(context.Background(), cfg, WithFS(fsys), WithBatchSize(100))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err = st.Each(ctx, func(recs []Record, _ []Reject) error {
		n += len(recs)
		if n == 300 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 300 {
		t.Fatalf("err %v after %d records", err, n)
	}
	if p := st.Stats().Parts[0]; p.Mapped["Tipo: Municipio / Isla / Ã\u0081rea no municipalizada"] != "kind" {
		t.Errorf("mapped %v", p.Mapped)
	}
}
