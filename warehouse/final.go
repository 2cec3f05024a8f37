package warehouse

import (
	"context"
	"fmt"
	"regexp"
)

// Reading ReplacingMergeTree tables with FINAL, and the state of their
// partitions that keeps it cheap on the embedded engine (see etl/BENCHMARKS.md,
// "Session 5": at 9.9M liquidations, 2.4 GB for an aggregate over 69 parts
// merged across partitions, 0.47 GB over one part per partition read
// partition by partition).

// FinalPerPartition says whether SELECT ... FINAL on e deduplicates each
// partition on its own (the embedded engine sets
// do_not_merge_across_partitions_select_final, see openEmbedded) rather
// than across the whole table. Where it does, whoever writes a
// ReplacingMergeTree whose partition is not a function of its key
// (liquidations by tax year, payments by year paid) must leave no key with
// copies in two partitions: a liquidation whose tax year was corrected would
// otherwise be read twice. The ETL's commit does (etl's consolidate), with
// AcrossPartitions to count the copies.
func FinalPerPartition(e Engine) bool { return e.Kind() == "embedded" }

// AcrossPartitions is the SETTINGS clause that makes one FINAL query on e
// deduplicate across partitions, or "" where FINAL always does (a server,
// down to ClickHouse 18.16, which does not know the setting).
func AcrossPartitions(e Engine) string {
	if FinalPerPartition(e) {
		return " SETTINGS do_not_merge_across_partitions_select_final = 0"
	}
	return ""
}

// SplitPartitions lists the partitions of table held in more than one
// active part: those that FINAL must merge at every read. Where FINAL reads
// partition by partition (FinalPerPartition), a partition in one part is
// read as it is, and the commit and the restore merge the others
// (MergePartitions).
func SplitPartitions(ctx context.Context, e Engine, table string) ([]string, error) {
	res, err := e.Query(ctx, `SELECT partition_id FROM system.parts
		WHERE database = {db:String} AND table = {t:String} AND active
		GROUP BY partition_id HAVING count() > 1 ORDER BY partition_id`,
		P("db", e.Database()), P("t", table))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Rows))
	for i, row := range res.Rows {
		ids[i], _ = row[0].(string)
	}
	return ids, nil
}

var partitionID = regexp.MustCompile(`^[0-9A-Za-z_]+$`)

// MergePartitions merges each of the partitions ids of table into one part
// (OPTIMIZE ... FINAL), which also leaves one copy of each key in it. The
// engine does nothing, silently, when it cannot assign the merge at that
// moment (a background merge holds the parts, seen on 18.16): callers check
// SplitPartitions again.
//
// The embedded engine waits for a background merge that holds the parts,
// and then rewrites the one part it left all over again unless told to
// skip a partition already in one merged part (optimize_skip_merged_partitions;
// an inserted part counts as merged too, the insert having deduplicated its
// block). That happens to an ETL run whose staging table has just started
// merging 20 parts when the run commits.
func MergePartitions(ctx context.Context, e Engine, table string, ids []string) error {
	settings := ""
	if _, ok := beneath[*embedded](e); ok {
		settings = " SETTINGS optimize_skip_merged_partitions = 1"
	}
	for _, id := range ids {
		if !partitionID.MatchString(id) {
			return fmt.Errorf("identificador de partición inesperado en %s: %q", table, id)
		}
		// A literal, not a parameter: the statement takes no expression
		// there.
		if err := e.Exec(ctx, "OPTIMIZE TABLE "+quoteIdent(e.Database())+"."+quoteIdent(table)+" PARTITION ID '"+id+"' FINAL"+settings); err != nil {
			return err
		}
	}
	return nil
}

// MergeSplitPartitions merges every partition of table held in more than
// one part (SplitPartitions, MergePartitions). A merge the engine cannot
// assign at that moment is left to its background merges: readers get the
// same rows, at the cost of merging the parts' streams.
func MergeSplitPartitions(ctx context.Context, e Engine, table string) error {
	ids, err := SplitPartitions(ctx, e, table)
	if err == nil && len(ids) > 0 {
		err = MergePartitions(ctx, e, table, ids)
	}
	return err
}
