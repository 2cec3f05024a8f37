package warehouse

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one versioned schema file.
type Migration struct {
	Version  int
	Name     string
	Checksum string
	SQL      string
}

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migración con nombre inválido %s: use NNNN_nombre.sql", name)
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", name))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{Version: v, Name: rest, Checksum: hex.EncodeToString(sum[:]), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("dos migraciones con la versión %d", out[i].Version)
		}
	}
	return out, nil
}

// Layout says how DDL is emitted: for one node, or ON CLUSTER with
// replicated shards and Distributed tables.
type Layout struct {
	Database string
	Cluster  string // empty: single node
}

// migrationsTable is created before any migration, in the same layout.
const migrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime
) ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version`

var (
	createRe   = regexp.MustCompile(`(?is)^CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*ENGINE\s*=\s*(Replacing|Summing|Aggregating|Collapsing)?MergeTree\s*\(([^)]*)\)(.*)$`)
	alterRe    = regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.*)$`)
	shardKeyRe = regexp.MustCompile(`(?m)^--\s*shard_key:\s*(.+?)\s*$`)
)

// Statements returns the DDL statements of one migration text in the
// layout. In single-node form it is the text itself, with table names
// qualified by the database. In cluster form each
//
//	CREATE TABLE IF NOT EXISTS t (...) ENGINE = XMergeTree(args) ...
//
// becomes a t_local table ON CLUSTER with ReplicatedXMergeTree on the
// {shard}/{replica} macros, and a Distributed table t ON CLUSTER over it,
// sharded by the statement's shard_key; ALTER TABLE t is applied to both.
func (l Layout) Statements(text string) ([]string, error) {
	var out []string
	for _, raw := range splitStatements(text) {
		shardKey := "rand()"
		if m := shardKeyRe.FindStringSubmatch(raw); m != nil {
			shardKey = m[1]
		}
		stmt := strings.TrimSpace(stripComments(raw))
		if stmt == "" {
			continue
		}
		if l.Cluster == "" {
			out = append(out, l.qualify(stmt))
			continue
		}
		if m := createRe.FindStringSubmatch(stmt); m != nil {
			table, cols, kind, args, rest := m[1], m[2], m[3], strings.TrimSpace(m[4]), m[5]
			local := table + "_local"
			zkPath := fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s'", l.Database, local)
			engineArgs := zkPath + ", '{replica}'"
			if args != "" {
				engineArgs += ", " + args
			}
			out = append(out,
				fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s ON CLUSTER %s (%s) ENGINE = Replicated%sMergeTree(%s)%s",
					quoteIdent(l.Database), quoteIdent(local), quoteIdent(l.Cluster), cols, kind, engineArgs, rest),
				fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s ON CLUSTER %s AS %s.%s ENGINE = Distributed(%s, %s, %s, %s)",
					quoteIdent(l.Database), quoteIdent(table), quoteIdent(l.Cluster), quoteIdent(l.Database), quoteIdent(local),
					quoteIdent(l.Cluster), quoteIdent(l.Database), quoteIdent(local), shardKey))
			continue
		}
		if m := alterRe.FindStringSubmatch(stmt); m != nil {
			for _, t := range []string{m[1] + "_local", m[1]} {
				out = append(out, fmt.Sprintf("ALTER TABLE %s.%s ON CLUSTER %s %s", quoteIdent(l.Database), quoteIdent(t), quoteIdent(l.Cluster), m[2]))
			}
			continue
		}
		return nil, fmt.Errorf("sentencia sin forma de clúster conocida: %.60s", stmt)
	}
	return out, nil
}

// qualify prefixes the table of a CREATE TABLE / ALTER TABLE with the
// database, so DDL never depends on a connection's current database.
func (l Layout) qualify(stmt string) string {
	if m := createRe.FindStringSubmatchIndex(stmt); m != nil {
		return stmt[:m[2]] + quoteIdent(l.Database) + "." + stmt[m[2]:]
	}
	if m := alterRe.FindStringSubmatchIndex(stmt); m != nil {
		return stmt[:m[2]] + quoteIdent(l.Database) + "." + stmt[m[2]:]
	}
	return stmt
}

// splitStatements splits on semicolons outside quotes and comments.
func splitStatements(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(text, i) - 1
		case c == '-' && i+1 < len(text) && text[i+1] == '-':
			if j := strings.IndexByte(text[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(text)
			}
		case c == ';':
			out = append(out, text[start:i])
			start = i + 1
		}
	}
	if strings.TrimSpace(text[start:]) != "" {
		out = append(out, text[start:])
	}
	return out
}

// stripComments removes -- comments outside quotes.
func stripComments(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := skipQuoted(s, i)
			b.WriteString(s[i:j])
			i = j - 1
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return b.String()
			}
			i += j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// MigrationReport says what Migrate did.
type MigrationReport struct {
	Applied []int // versions applied now
	Current int   // highest version recorded
}

// Migrate applies the embedded migrations that are not recorded yet, in
// order, and records each in schema_migrations. Running it again does
// nothing. A migration whose recorded checksum differs from the embedded
// file is an error: applied migrations are never edited.
func Migrate(ctx context.Context, e Engine, cluster string) (*MigrationReport, error) {
	migs, err := Migrations()
	if err != nil {
		return nil, err
	}
	l := Layout{Database: e.Database(), Cluster: cluster}
	boot, err := l.Statements(migrationsTable)
	if err != nil {
		return nil, err
	}
	for _, s := range boot {
		if err := e.Exec(ctx, s); err != nil {
			return nil, fmt.Errorf("creando schema_migrations: %w", err)
		}
	}
	applied := map[int]string{}
	res, err := e.Query(ctx, "SELECT version, argMax(checksum, applied_at) FROM schema_migrations GROUP BY version")
	if err != nil {
		return nil, err
	}
	for _, r := range res.Rows {
		applied[int(r[0].(uint64))] = r[1].(string)
	}
	rep := &MigrationReport{}
	for _, m := range migs {
		if sum, ok := applied[m.Version]; ok {
			if sum != m.Checksum {
				return nil, fmt.Errorf("la migración %04d_%s cambió después de aplicarse (suma %s… registrada, %s… embebida): cree una migración nueva en lugar de editarla",
					m.Version, m.Name, sum[:12], m.Checksum[:12])
			}
			rep.Current = m.Version
			continue
		}
		stmts, err := l.Statements(m.SQL)
		if err != nil {
			return nil, fmt.Errorf("migración %04d_%s: %w", m.Version, m.Name, err)
		}
		for _, s := range stmts {
			if err := e.Exec(ctx, s); err != nil {
				return nil, fmt.Errorf("migración %04d_%s: %w", m.Version, m.Name, err)
			}
		}
		if err := e.Insert(ctx, "schema_migrations", []string{"version", "name", "checksum", "applied_at"},
			[][]any{{m.Version, m.Name, m.Checksum, time.Now().UTC().Truncate(time.Second)}}); err != nil {
			return nil, fmt.Errorf("registrando la migración %04d: %w", m.Version, err)
		}
		slog.Info("migración aplicada", "version", m.Version, "nombre", m.Name, "motor", e.Kind())
		rep.Applied = append(rep.Applied, m.Version)
		rep.Current = m.Version
	}
	forgetTypes(e)
	return rep, nil
}

// forgetTypes drops cached column types after the schema changed.
func forgetTypes(e Engine) {
	switch x := e.(type) {
	case *Watched:
		forgetTypes(x.Engine)
	case *embedded:
		x.types.forget()
	case *server:
		x.types.forget()
	}
}
