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

// TestEachBorrowedReusesReleasedBatches reads a file whose rows set
// different fields (a predial row's avalúo and estrato, an ICA row's none)
// with batches of three records, each given back as soon as it is seen,
// so that every batch after the first decodes into an earlier batch's
// memory. Every record must read as the stream's Next gives it (which
// never reuses), with no field left over from the record that used the
// memory before, and the memory must in fact be reused.
func TestEachBorrowedReusesReleasedBatches(t *testing.T) {
	var b strings.Builder
	b.WriteString("liquidation_id,municipality_code,tax,tax_year,taxpayer_id,issue_date,due_date,avaluo,estrato,period,total_amount\n")
	for i := 0; i < 20; i++ {
		if i%4 < 2 {
			fmt.Fprintf(&b, "P-%02d,18001,predial,2024,11175%05d,2024-02-01,2024-03-31,%d,%d,,270000\n", i, i, 45000000+i, 1+i%3)
		} else {
			fmt.Fprintf(&b, "I-%02d,18001,ica,2024,90012%04d,2024-02-01,,,,2024-01,%d\n", i, i, 100000+i)
		}
	}
	b.WriteString("X-99,18001,predial,2024,1,no es fecha,,,,,1\n") // a reject: not borrowed
	cfg := corpusConfig("in.csv")
	fsys := fstest.MapFS{"in.csv": {Data: []byte(b.String())}}
	want, err := itemsOf(t, cfg, WithFS(fsys), WithBatchSize(3))
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(context.Background(), cfg, WithFS(fsys), WithBatchSize(3))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var got []string
	seen := map[*Liquidation]bool{}
	reused := 0
	err = st.EachBorrowed(context.Background(), func(recs []Record, rejs []Reject, release func()) error {
		for _, r := range recs {
			l := r.(*Liquidation)
			if seen[l] {
				reused++
			}
			seen[l] = true
			got = append(got, describeItem(t, Item{Record: r}))
		}
		for i := range rejs {
			got = append(got, describeItem(t, Item{Reject: &rejs[i]}))
		}
		release()
		release() // a second call changes nothing
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) != 21 {
		t.Fatalf("%d items borrowed, %d read one by one (21 in the file)", len(got), len(want))
	}
	// Next yields records and rejects merged in file order; here each
	// batch's rejects come after its records, and the only reject is last.
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("item %d:\nborrowed %s\nread     %s", i+1, got[i], want[i])
		}
	}
	if reused < 14 {
		t.Errorf("only %d of 20 records were decoded into a released batch's memory", reused)
	}
}
