package warehouse

import (
	"context"
	"fmt"
	"strings"
)

// Copying a result too large for memory into a table in the order of a key
// (a record-level dataset release: millions of rows, numbered in key order
// so that two releases compare line by line). Measured at 9.9M liquidations
// on the embedded engine (etl/BENCHMARKS.md, "Session 6"):
//
//   - one INSERT ... SELECT ... ORDER BY: 838 MB with the defaults, 543 MB
//     with one thread and insert blocks of a quarter of QueryMemoryMB, and
//     still growing with the rows: the external sort merges one stream per
//     spilled file, 4-7 MB each;
//   - through a scratch MergeTree ordered by the key (CopySorted): the
//     rows go in sorted block by block (372 MB), one merge orders the parts
//     (246 MB: a vertical merge reads the key column first), and the copy
//     reads the single part in key order with no sort at all (373 MB);
//     81-86 s in all instead of 73 s, and no step holds the rows: the
//     inserts sort a block at a time, the merge keeps a block per part.

// SortedCopySettings is the SETTINGS clause for the INSERT ... SELECT that
// copies rows too large for memory into a table, or "" where the server's
// own settings govern. On the embedded engine every thread of a statement
// keeps its own blocks, and an insert gathers QueryMemoryMB into each part
// by default: one thread, and parts of a quarter of it.
func SortedCopySettings(e Engine) string {
	if em, ok := beneath[*embedded](e); ok {
		return fmt.Sprintf("\nSETTINGS max_threads = 1, min_insert_block_size_bytes = %d", em.queryMemory/4)
	}
	return ""
}

// SortedCopy is a copy of rows into a table in the order of a key
// (CopySorted).
type SortedCopy struct {
	Table   string   // the target
	Columns []string // the target's columns the copy fills
	// Select is the SELECT list over the sorted rows, one expression per
	// column; rowNumberInAllBlocks() numbers the rows in key order.
	Select string
	Key    []string // the key, columns of Query
	Query  string   // the rows to copy
	// Scratch names the scratch tables of the embedded engine
	// (<Scratch>_orden, <Scratch>_etapa).
	Scratch string
	// The parameters of Query and of Select.
	QueryParams, SelectParams []Param
}

// CopySorted inserts the rows of c.Query into c.Table in the order of
// c.Key.
//
// On the embedded engine no statement sorts them all at once (see above):
// the rows go into a scratch MergeTree ordered by the key, merged into one
// part; the copy reads it in key order into a staging table laid out like
// the target, merged into one part in turn, which is attached to the target
// (AttachStage). The target thus holds the copied rows in one part: a
// reader of them in order (the release's files) reads one stream, where
// over the 18 parts of the insert blocks of 9.9M rows it held 460 MB
// instead of 315.
//
// A server sorts with its own settings for external sorting, in one
// INSERT ... SELECT ... ORDER BY.
//
// Scratch tables of a copy that died with its process go with the next
// copy with the same Scratch.
func CopySorted(ctx context.Context, e Engine, c SortedCopy) error {
	order := strings.Join(c.Key, ", ")
	insert := func(target, from string) string {
		return "INSERT INTO " + quoteIdent(e.Database()) + "." + quoteIdent(target) + " (" + strings.Join(c.Columns, ", ") + ")\n" +
			"SELECT " + c.Select + " FROM " + from + " AS o" + SortedCopySettings(e)
	}
	if _, ok := beneath[*embedded](e); !ok {
		return e.Exec(ctx, insert(c.Table, "(SELECT * FROM (\n"+c.Query+"\n) ORDER BY "+order+")"),
			append(append([]Param{}, c.QueryParams...), c.SelectParams...)...)
	}
	sorted, stage := c.Scratch+sortedSuffix, c.Scratch+stageSuffix
	if !validIdent(sorted) || !validIdent(stage) {
		return fmt.Errorf("nombre de tabla auxiliar inválido: %q", c.Scratch)
	}
	drop := func() {
		// Nothing waits for this, and a table left behind goes with the
		// next copy.
		for _, t := range []string{sorted, stage} {
			DropTable(context.WithoutCancel(ctx), e, t)
		}
	}
	drop()
	defer drop()
	// Nullable columns may be part of a dataset's key.
	create := "CREATE TABLE " + quoteIdent(e.Database()) + "." + quoteIdent(sorted) +
		" ENGINE = MergeTree ORDER BY (" + order + ") SETTINGS allow_nullable_key = 1 AS\n" + c.Query + SortedCopySettings(e)
	if err := e.Exec(ctx, create, c.QueryParams...); err != nil {
		return err
	}
	if err := MergeSplitPartitions(ctx, e, sorted); err != nil {
		return err
	}
	if err := CreateStage(ctx, e, c.Table, stage); err != nil {
		return err
	}
	from := "(SELECT * FROM " + quoteIdent(e.Database()) + "." + quoteIdent(sorted) + " ORDER BY " + order + ")"
	if err := e.Exec(ctx, insert(stage, from), c.SelectParams...); err != nil {
		return err
	}
	if err := MergeSplitPartitions(ctx, e, stage); err != nil {
		return err
	}
	_, err := AttachStage(ctx, e, stage, c.Table)
	return err
}

// QueryMemory is how much memory one statement's sort, aggregation or join
// may hold on e before it continues on disk or, for a join, fails: the
// embedded engine's QueryMemoryMB; on a server, whose own settings decide,
// the embedded engine's default, for callers that size their statements by
// it.
func QueryMemory(e Engine) int64 {
	if em, ok := beneath[*embedded](e); ok {
		return em.queryMemory
	}
	return defaultQueryMemoryMB << 20
}
