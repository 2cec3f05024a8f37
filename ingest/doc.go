// Package ingest reads the observatory's sources (local files, HTTP CSV or
// JSON documents, Socrata SODA datasets) and turns every row into either a
// typed record (Liquidation, Payment, GELMeasurement, BudgetLine, Entity) or
// a Reject that says where the row was (source, file or URL, physical line or
// page and index), which field failed, the raw text, a machine code and a
// reason in Spanish.
//
// Sources are declared in configuration (SourceConfig, decoded from YAML):
// encoding, delimiter, number and date formats, and a mapping from the
// source's column names to the observatory's field names, so a new
// municipality's export is added without code.
//
// Decoding streams at constant memory: rows are scanned one at a time,
// normalized to a canonical text form driven by the kind's Schema, and
// decoded with gocsv in batches. Counters keep the books:
// Stats.Read == Stats.Records + Stats.Rejects + Stats.Blank.
//
// Typical use by the ETL:
//
//	st, err := ingest.Open(ctx, cfg, ingest.WithState(prev))
//	if errors.Is(err, ingest.ErrUnchanged) { return nil }
//	if err != nil { return err }
//	defer st.Close()
//	err = st.Each(ctx, func(recs []ingest.Record, rejects []ingest.Reject) error { ... })
//	save(st.State()); log(st.Stats())
package ingest
