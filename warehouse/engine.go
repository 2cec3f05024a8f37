// Package warehouse is the observatory's storage: ClickHouse, embedded
// through chDB on one machine or reached as a server (or cluster) through
// clickhouse-go. Every other package talks to the Engine interface and writes
// its SQL once; both backends run it unchanged.
package warehouse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Engine is what the rest of the observatory sees of the warehouse.
type Engine interface {
	// Kind is "embedded" (chDB) or "server" (ClickHouse over the network).
	Kind() string
	// Exec runs a statement that returns no rows (DDL, INSERT ... SELECT).
	Exec(ctx context.Context, sql string, params ...Param) error
	// Query runs a SELECT and returns its rows with typed values: integers
	// as int64/uint64, decimals as decimal.Decimal, dates and date-times as
	// time.Time in UTC, strings as string, Nullable NULLs as nil.
	Query(ctx context.Context, sql string, params ...Param) (*Result, error)
	// Stream runs a SELECT and writes its output in a ClickHouse output
	// format (CSVWithNames, JSONEachRow, Parquet, ...) to w as it is
	// produced, at constant memory whatever the size of the result.
	Stream(ctx context.Context, w io.Writer, format, sql string, params ...Param) error
	// Insert writes rows into table in one batch. Values are coerced to the
	// table's column types.
	Insert(ctx context.Context, table string, columns []string, rows [][]any) error
	// Ping checks that the warehouse answers.
	Ping(ctx context.Context) error
	// Database is the database that holds the observatory's tables.
	Database() string
	Close() error
}

// Column describes one result column.
type Column struct {
	Name string
	Type string // ClickHouse type, e.g. "Decimal(18, 2)"
}

// Result is a materialized query result. Use it for answers of bounded size;
// large exports go through Engine.Stream.
type Result struct {
	Columns []Column
	Rows    [][]any
}

// Index returns the position of the named column, or -1.
func (r *Result) Index(name string) int {
	for i, c := range r.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Maps returns the rows as maps keyed by column name (for templates and JSON).
func (r *Result) Maps() []map[string]any {
	out := make([]map[string]any, len(r.Rows))
	for i, row := range r.Rows {
		m := make(map[string]any, len(row))
		for j, v := range row {
			m[r.Columns[j].Name] = v
		}
		out[i] = m
	}
	return out
}

// QueryError is an error reported by ClickHouse, with its own message.
type QueryError struct {
	Engine  string
	SQL     string
	Message string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("clickhouse (%s): %s", e.Engine, e.Message)
}

// ConfigError is a configuration problem found when opening the warehouse:
// a missing library, an unreachable server, an unwritable data directory.
// Its message is one line meant for the operator.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// IsConfigError reports whether err is a configuration problem.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}

// Config selects and configures the backend: embedded unless Server.Addrs is
// set.
type Config struct {
	Database string         `yaml:"database"`
	Embedded EmbeddedConfig `yaml:"embedded"`
	Server   ServerConfig   `yaml:"server"`
	// Cluster, when set, names the ClickHouse cluster (remote_servers) the
	// schema is created on: ON CLUSTER DDL, ReplicatedMergeTree shards and
	// Distributed tables over them. Server mode only.
	Cluster string `yaml:"cluster"`
}

// Default pool sizes, and what one statement of the embedded engine may
// hold (EmbeddedConfig.QueryMemoryMB).
const (
	defaultEmbeddedPool  = 4
	defaultServerConns   = 16
	defaultQueryMemoryMB = 128
)

// Connections is how many statements the engine runs at once at most: the
// embedded pool, or the server's max_open_conns (defaults applied).
func (c Config) Connections() int {
	if len(c.Server.Addrs) > 0 {
		if c.Server.MaxOpenConns > 0 {
			return c.Server.MaxOpenConns
		}
		return defaultServerConns
	}
	if c.Embedded.Pool > 0 {
		return c.Embedded.Pool
	}
	return defaultEmbeddedPool
}

// EmbeddedConfig configures chDB.
type EmbeddedConfig struct {
	// Path is the data directory; tables persist there across restarts.
	Path string `yaml:"path"`
	// Library is the path of libchdb.so; empty searches the usual places.
	Library string `yaml:"library"`
	// Pool is the number of connections (each runs one statement at a time).
	Pool int `yaml:"pool"`
	// QueryMemoryMB is how much memory one statement's sort or aggregation
	// may hold before the engine continues it on disk, what a join's right
	// side may hold (past it the join fails: the statements that join the
	// fact tables are sliced by it, see analytics.Balances), and the size
	// of a Parquet row group (default 128). The engine runs inside
	// the observatory's process, so without it a release of a
	// 10-million-row dataset sorts in RAM and the process grows with the
	// data; a ClickHouse server sets the same limits in its own users.xml.
	QueryMemoryMB int `yaml:"query_memory_mb"`
	// AllocatorKeepMB is how much of the memory the engine freed its
	// allocator (jemalloc, inside libchdb.so) may keep for reuse instead of
	// returning it to the operating system at once, and only while the
	// engine holds less than 48 MB; the engine's memory worker returns the
	// rest every 5 ms (allocatorPool). Default 0: everything at once. Pages
	// returned at once cost a page fault each time the engine allocates
	// again: with 16 the 1M-row ETL benchmark ran at 268,000-272,000
	// rows/s instead of 219,000-227,000, and every job at 19.8M rows took
	// 655 s instead of 881, but peaked at 514 MB instead of 508, past the
	// ETL's 512 MB budget (etl/BENCHMARKS.md, "Session 15"). Read once,
	// when the library loads (the first engine of the process).
	AllocatorKeepMB *int `yaml:"allocator_keep_mb"`
	// AllocatorDecayMS is how long the allocator keeps the pages it freed
	// before giving them back to the operating system (default 0: at once;
	// with allocator_keep_mb, default the library's own 5 s, within that
	// bound; negative keeps the library's). That allocator purges by itself
	// only when it allocates again, so with the library's setting and no
	// bound the process held what its largest statement used (a dataset
	// release: 0.6-0.8 GB at 1.1M rows) through every statement after it,
	// and peaked 150-250 MB higher during the ETL and the releases
	// (etl/BENCHMARKS.md). It is read once, when the library loads,
	// together with the allocator's thread caches, which are always off
	// (allocatorConf); an operator's own JE_MALLOC_CONF takes precedence
	// over both; the library aborts while loading with
	// background_thread:true in it.
	AllocatorDecayMS *int `yaml:"allocator_decay_ms"`
}

// ServerConfig configures a ClickHouse server or cluster.
type ServerConfig struct {
	// Addrs are native-protocol addresses (host:9000); several are tried in
	// order for failover.
	Addrs []string `yaml:"addrs"`
	// HTTPAddrs are HTTP interface addresses (host:8123) used to stream
	// formatted output (CSV, Parquet) straight from the engine. Empty
	// derives them from Addrs with port 8123 (8443 with TLS).
	HTTPAddrs     []string      `yaml:"http_addrs"`
	User          string        `yaml:"user"`
	Password      string        `yaml:"-"` // from the environment or a file only
	PasswordFile  string        `yaml:"password_file"`
	TLS           bool          `yaml:"tls"`
	TLSSkipVerify bool          `yaml:"tls_skip_verify"`
	DialTimeout   time.Duration `yaml:"dial_timeout"`
	QueryTimeout  time.Duration `yaml:"query_timeout"`
	MaxOpenConns  int           `yaml:"max_open_conns"`
}

// Open opens the configured backend, checks that it answers and returns it.
func Open(ctx context.Context, cfg Config) (Engine, error) {
	if cfg.Database == "" {
		cfg.Database = "observatorio"
	}
	if !validIdent(cfg.Database) {
		return nil, &ConfigError{fmt.Sprintf("nombre de base de datos inválido: %q", cfg.Database)}
	}
	if len(cfg.Server.Addrs) > 0 {
		return openServer(ctx, cfg)
	}
	if cfg.Cluster != "" {
		return nil, &ConfigError{"el modo clúster requiere un servidor ClickHouse (warehouse.server.addrs)"}
	}
	return openEmbedded(ctx, cfg)
}

// validIdent accepts the identifiers the observatory itself uses for
// databases, tables and clusters; they are spliced into DDL, so anything
// else is refused.
func validIdent(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// quoteIdent quotes an identifier that validIdent accepted.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "") + "`" }
