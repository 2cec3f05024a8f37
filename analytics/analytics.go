// Package analytics holds the named, parameterized queries that answer the
// observatory's questions. Each query is one SQL file under queries/,
// written once for both engines; handlers, dashboards and datasets refer to
// queries by name and never build SQL from user input.
package analytics

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"github.com/observatorio-civico/observatorio/warehouse"
)

//go:embed queries/*.sql
var files embed.FS

// Query is one named query.
type Query struct {
	Name        string
	Description string // first comment line, in Spanish
	SQL         string
}

var registry = mustLoad()

func mustLoad() map[string]Query {
	m := map[string]Query{}
	entries, err := fs.ReadDir(files, "queries")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := files.ReadFile("queries/" + e.Name())
		if err != nil {
			panic(err)
		}
		name := strings.TrimSuffix(e.Name(), ".sql")
		desc, _, _ := strings.Cut(string(b), "\n")
		m[name] = Query{Name: name, Description: strings.TrimSpace(strings.TrimPrefix(desc, "--")), SQL: string(b)}
	}
	return m
}

// Names lists the queries.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Get returns a query by name.
func Get(name string) (Query, error) {
	q, ok := registry[name]
	if !ok {
		return Query{}, fmt.Errorf("consulta desconocida %q", name)
	}
	return q, nil
}

// Run runs a named query and returns its typed rows.
func Run(ctx context.Context, e warehouse.Engine, name string, params ...warehouse.Param) (*warehouse.Result, error) {
	q, err := Get(name)
	if err != nil {
		return nil, err
	}
	return e.Query(ctx, q.SQL, params...)
}

// Stream runs a named query and writes it in a ClickHouse output format.
func Stream(ctx context.Context, e warehouse.Engine, w io.Writer, format, name string, params ...warehouse.Param) error {
	q, err := Get(name)
	if err != nil {
		return err
	}
	return e.Stream(ctx, w, format, q.SQL, params...)
}
