package ingest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/observatorio-civico/observatorio/ingest"
)

// The ETL opens a source, hands records to the loader and rejects to the
// quarantine, and keeps the state and the counters for the run log.
func Example() {
	cfg, _ := ingest.ReferenceSource("divipola") // a SourceConfig, as decoded from the YAML configuration
	ctx := context.Background()
	st, err := ingest.Open(ctx, cfg, ingest.WithFS(ingest.ReferenceFS()), ingest.WithState(ingest.State{}))
	if errors.Is(err, ingest.ErrUnchanged) {
		return // nothing new since the last run
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	byDept := map[string]int{}
	err = ingest.EachOf(ctx, st, func(recs []ingest.Entity, rejects []ingest.Reject) error {
		for _, e := range recs {
			byDept[e.DepartmentName]++
		}
		for _, r := range rejects {
			fmt.Println(r) // the ETL writes these to its quarantine table
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := st.Stats()
	fmt.Println(s.Read, s.Records, s.Rejects, s.Blank, byDept["CAQUETÁ"], byDept["CUNDINAMARCA"])
	// Output: 1122 1122 0 0 16 116
}

func ExampleParseNumber() {
	for _, s := range []string{"1.234.567,89", "$ 335.680.000", "(1.000,5)"} {
		v, code := ingest.ParseNumber(s, ingest.NumberFormat{Decimal: ',', Thousands: '.'})
		fmt.Println(v, code == "")
	}
	// Output:
	// 1234567.89 true
	// 335680000 true
	// -1000.5 true
}
