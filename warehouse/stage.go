package warehouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Staging tables: a writer that must not be seen before it says so (an ETL
// run before its commit) writes into a table of its own laid out like the
// target, and moves the rows into the target when it is done. Rows of a
// ReplacingMergeTree replace older copies of their key in every merge, the
// engine's background merges included, whether or not anyone considers them
// final yet; a staging table keeps them out of the target until then.

// CreateStage creates the table stage with the structure, engine, partition
// key and sorting key of target, as AttachStage requires.
func CreateStage(ctx context.Context, e Engine, target, stage string) error {
	return e.Exec(ctx, "CREATE TABLE "+quoteIdent(e.Database())+"."+quoteIdent(stage)+
		" AS "+quoteIdent(e.Database())+"."+quoteIdent(target))
}

// CreateInsertStage is CreateStage for a table that receives many inserts
// of a few tens of thousands of rows (an ETL run's rows). On the embedded
// engine:
//   - Its parts of less than 32 MB (uncompressed) are written in the
//     Compact format (every column in one file), where the target's parts
//     are Wide (a file per column) from 10 MB. A Wide part holds a write
//     buffer and a compression buffer per column while it is written: an
//     insert of 50,000 liquidation rows (21 columns, 22 MB) peaked at
//     131-153 MB of engine memory as Wide and 63-75 MB as Compact, and
//     during a load two inserts overlap. The merges of the staging table
//     write Wide parts past 32 MB, one column at a time: with every part
//     Compact the 19.8M-row load peaked higher, not lower
//     (etl/BENCHMARKS.md, "Session 8").
//   - Its background merges take at least stageMergeParts parts at once.
//     The commit merges each partition the run wrote into one part anyway
//     (etl's staging.attach and consolidate), so every merge of the
//     staging table before it rewrites rows that will be rewritten again.
//     With the engine's own choice (6-11 parts, then those parts again, up
//     to parts of 2M rows) a row was rewritten about twice before the
//     commit; with 20 at once, at most once up to 20M rows per partition.
//     A load of 1M liquidations took 10.1-10.7 µs of CPU per row instead
//     of 10.7-13.4, one of 10M 13.3 instead of 13.9 (etl/BENCHMARKS.md,
//     "Session 10"). A merge of 20 parts holds up to 84 MB, against 20-67
//     MB for the engine's choice; in a load of one tax year per file only
//     one ran at a time. A file of many tax years brings a part to every
//     partition with each insert, so its partitions reach a merge together
//     (see mergeConcurrency).
//   - Its merges that write a Wide part go column by column (Vertical)
//     whatever their rows; the engine's default does so only from 131,072
//     rows. A file of many tax years splits each insert into a part per
//     year, so its 20-part merges have fewer rows than that but more than
//     32 MB. Written all columns at once (Horizontal), such a merge held
//     81-114 MB, and two of them 223 MB together; column by column the
//     same merges held 20-47 MB, and the 9.9M-row load of 15 tax years in
//     one file peaked at 518-532 MB instead of 537-564 (etl/BENCHMARKS.md,
//     "Session 11"). The merges that write Compact parts stay Horizontal
//     (the engine goes column by column only into Wide parts); they are
//     smaller.
//
// The target's merges, the ETL's commit among them, follow its own
// settings. A server keeps its own settings: its memory is not the
// observatory's, and 18.16 has neither Compact parts nor the setting.
func CreateInsertStage(ctx context.Context, e Engine, target, stage string) error {
	if err := CreateStage(ctx, e, target, stage); err != nil {
		return err
	}
	if _, ok := beneath[*embedded](e); !ok {
		return nil
	}
	return e.Exec(ctx, "ALTER TABLE "+quoteIdent(e.Database())+"."+quoteIdent(stage)+
		" MODIFY SETTING min_bytes_for_wide_part = 33554432, min_parts_to_merge_at_once = "+strconv.Itoa(stageMergeParts)+
		", vertical_merge_algorithm_min_rows_to_activate = 1")
}

// stageMergeParts is the fewest parts a background merge of an insert stage
// takes: about 1M rows at the ETL's default batch (20 inserts of 50,000),
// and few enough that such a merge holds little (a vertical merge reads
// each part's column in turn).
const stageMergeParts = 20

// AttachStage adds every part of stage to target, partition by partition
// (ALTER TABLE ... ATTACH PARTITION ... FROM, which links the parts' files
// rather than copying rows). It returns the number of partitions moved.
// Each partition arrives whole, but the partitions arrive one after the
// other: a writer that dies half-way leaves some of them in target, so the
// rows must still say which writer they come from (the ETL's run_id) and
// readers only count the committed ones. stage keeps its rows until it is
// dropped (DropTable).
func AttachStage(ctx context.Context, e Engine, stage, target string) (int, error) {
	res, err := e.Query(ctx, `SELECT DISTINCT partition_id FROM system.parts
		WHERE database = {db:String} AND table = {t:String} AND active ORDER BY partition_id`,
		P("db", e.Database()), P("t", stage))
	if err != nil {
		return 0, err
	}
	for _, row := range res.Rows {
		id, _ := row[0].(string)
		if !partitionID.MatchString(id) {
			return 0, fmt.Errorf("identificador de partición inesperado en %s: %q", stage, id)
		}
		if err := e.Exec(ctx, "ALTER TABLE "+quoteIdent(e.Database())+"."+quoteIdent(target)+
			" ATTACH PARTITION ID '"+id+"' FROM "+quoteIdent(e.Database())+"."+quoteIdent(stage)); err != nil {
			return 0, fmt.Errorf("pasando la partición %s de %s a %s: %w", id, stage, target, err)
		}
	}
	return len(res.Rows), nil
}

// DropTable drops table if it exists. The embedded engine's databases
// remove a dropped table's files some minutes later
// (database_atomic_delay_before_drop_table_sec); DROP ... SYNC, which would
// remove them at once, never returns on chDB 26.5, even for an empty table.
// For a staging table that costs no disk of its own: its parts are linked
// into the target, whose own merges outdate them on the same timescale.
func DropTable(ctx context.Context, e Engine, table string) error {
	return e.Exec(ctx, "DROP TABLE IF EXISTS "+quoteIdent(e.Database())+"."+quoteIdent(table))
}

// TablesWithPrefix lists the tables of the database whose names start with
// prefix, in order.
func TablesWithPrefix(ctx context.Context, e Engine, prefix string) ([]string, error) {
	// Filtered here: the database holds a few dozen tables, and servers
	// down to 18.16 have no startsWith.
	res, err := e.Query(ctx, "SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name", P("db", e.Database()))
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(res.Rows))
	for _, row := range res.Rows {
		if n, _ := row[0].(string); strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out, nil
}
