package warehouse

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"
)

// server is the ClickHouse server backend: clickhouse-go over the native
// protocol for statements, typed queries and batch inserts, and the HTTP
// interface for formatted exports, so that CSV or Parquet come out of the
// engine byte for byte as they do from chDB.
type server struct {
	db        string
	cfg       ServerConfig
	conn      driver.Conn
	httpAddrs []string
	http      *http.Client
	types     typeCache
	// httpSettings go with every HTTP export; see openServer.
	httpSettings url.Values
}

func openServer(ctx context.Context, cfg Config) (Engine, error) {
	sc := cfg.Server
	if sc.DialTimeout == 0 {
		sc.DialTimeout = 5 * time.Second
	}
	if sc.MaxOpenConns == 0 {
		sc.MaxOpenConns = defaultServerConns
	}
	if sc.User == "" {
		sc.User = "default"
	}
	// The database may not exist yet, and the handshake fails on a missing
	// database, so connect to "default" first to create it.
	boot, err := dialServer(sc, "default", cfg.Cluster)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, sc.DialTimeout+time.Second)
	defer cancel()
	if err := boot.Ping(pingCtx); err != nil {
		boot.Close()
		return nil, &ConfigError{fmt.Sprintf("no se pudo conectar con ClickHouse en %s: %v", strings.Join(sc.Addrs, ", "), oneLine(err))}
	}
	ddl := "CREATE DATABASE IF NOT EXISTS " + quoteIdent(cfg.Database)
	if cfg.Cluster != "" {
		if !validIdent(cfg.Cluster) {
			boot.Close()
			return nil, &ConfigError{fmt.Sprintf("nombre de clúster inválido: %q", cfg.Cluster)}
		}
		ddl += " ON CLUSTER " + quoteIdent(cfg.Cluster)
	}
	if err := boot.Exec(ctx, ddl); err != nil {
		boot.Close()
		return nil, &ConfigError{fmt.Sprintf("no se pudo crear la base de datos %s: %v", cfg.Database, oneLine(err))}
	}
	boot.Close()
	conn, err := dialServer(sc, cfg.Database, cfg.Cluster)
	if err != nil {
		return nil, err
	}
	s := &server{db: cfg.Database, cfg: sc, conn: conn, httpAddrs: sc.HTTPAddrs}
	if len(s.httpAddrs) == 0 {
		port := "8123"
		if sc.TLS {
			port = "8443"
		}
		for _, a := range sc.Addrs {
			host, _, err := net.SplitHostPort(a)
			if err != nil {
				host = a
			}
			s.httpAddrs = append(s.httpAddrs, net.JoinHostPort(host, port))
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if sc.TLS {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: sc.TLSSkipVerify}
	}
	s.http = &http.Client{Transport: tr}
	// Servers from 21.9 on drop trailing zeros of decimals in text formats
	// unless told not to; older ones (18.16) always keep them and reject the
	// setting. Ask the server which it is, so exports are the same bytes as
	// the embedded engine's.
	s.httpSettings = url.Values{}
	res, err := s.Query(ctx, "SELECT count() FROM system.settings WHERE name = 'output_format_decimal_trailing_zeros'")
	if err != nil {
		conn.Close()
		return nil, &ConfigError{fmt.Sprintf("ClickHouse en %s no responde consultas: %v", strings.Join(sc.Addrs, ", "), oneLine(err))}
	}
	if res.Rows[0][0].(uint64) > 0 {
		s.httpSettings.Set("output_format_decimal_trailing_zeros", "1")
	}
	return s, nil
}

func dialServer(sc ServerConfig, db, cluster string) (driver.Conn, error) {
	opts := &clickhouse.Options{
		Addr:             sc.Addrs,
		Auth:             clickhouse.Auth{Database: db, Username: sc.User, Password: sc.Password},
		DialTimeout:      sc.DialTimeout,
		MaxOpenConns:     sc.MaxOpenConns,
		MaxIdleConns:     4,
		ConnMaxLifetime:  time.Hour,
		ConnOpenStrategy: clickhouse.ConnOpenInOrder,
	}
	if cluster != "" {
		// An insert into a Distributed table returns only when every shard
		// has the rows, so a committed ETL batch is really in the cluster
		// (the default queues them on the receiving node and sends later).
		opts.Settings = clickhouse.Settings{"insert_distributed_sync": 1}
	}
	if sc.TLS {
		opts.TLS = &tls.Config{InsecureSkipVerify: sc.TLSSkipVerify}
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, &ConfigError{fmt.Sprintf("configuración de ClickHouse inválida: %v", oneLine(err))}
	}
	return conn, nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func (s *server) Kind() string     { return "server" }
func (s *server) Database() string { return s.db }

func (s *server) Ping(ctx context.Context) error { return s.conn.Ping(ctx) }

func (s *server) Close() error { return s.conn.Close() }

func (s *server) wrap(sql string, err error) error {
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		return &QueryError{Engine: "server", SQL: sql, Message: fmt.Sprintf("Code: %d. DB::Exception: %s", ex.Code, ex.Message)}
	}
	return err
}

// withTimeout applies the configured query timeout when the caller set none.
func (s *server) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || s.cfg.QueryTimeout == 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.cfg.QueryTimeout)
}

func (s *server) Exec(ctx context.Context, sql string, params ...Param) error {
	q, err := Bind(sql, params...)
	if err != nil {
		return err
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	return s.wrap(q, s.conn.Exec(ctx, q))
}

func (s *server) Query(ctx context.Context, sql string, params ...Param) (*Result, error) {
	q, err := Bind(sql, params...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	rows, err := s.conn.Query(ctx, q)
	if err != nil {
		return nil, s.wrap(q, err)
	}
	defer rows.Close()
	cts := rows.ColumnTypes()
	res := &Result{Columns: make([]Column, len(cts))}
	dest := make([]any, len(cts))
	for i, ct := range cts {
		res.Columns[i] = Column{Name: ct.Name(), Type: ct.DatabaseTypeName()}
	}
	for rows.Next() {
		for i, ct := range cts {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, s.wrap(q, err)
		}
		row := make([]any, len(cts))
		for i := range dest {
			v, err := normalize(reflect.ValueOf(dest[i]).Elem().Interface(), res.Columns[i].Type)
			if err != nil {
				return nil, fmt.Errorf("columna %s: %w", res.Columns[i].Name, err)
			}
			row[i] = v
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(q, err)
	}
	return res, nil
}

// normalize turns a clickhouse-go value into the canonical representation
// (see types.go).
func normalize(v any, typ string) (any, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, nil
		}
		v = rv.Elem().Interface()
		rv = rv.Elem()
	}
	t, _ := baseType(typ)
	switch x := v.(type) {
	case time.Time:
		x = x.UTC()
		if t == "Date" || t == "Date32" {
			return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC), nil
		}
		return x, nil
	case decimal.Decimal, string, bool:
		return x, nil
	}
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return rv.Uint(), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.Slice:
		elem := strings.TrimSuffix(strings.TrimPrefix(t, "Array("), ")")
		out := make([]any, rv.Len())
		for i := range out {
			e, err := normalize(rv.Index(i).Interface(), elem)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	}
	if s, ok := v.(fmt.Stringer); ok {
		return s.String(), nil
	}
	return nil, fmt.Errorf("tipo %T (%s) sin representación canónica", v, typ)
}

// Stream posts the query to the HTTP interface and copies the response body
// as it arrives.
func (s *server) Stream(ctx context.Context, w io.Writer, format, sql string, params ...Param) error {
	q, err := Bind(sql, params...)
	if err != nil {
		return err
	}
	if !validIdent(format) {
		return fmt.Errorf("formato inválido %q", format)
	}
	var lastErr error
	for _, addr := range s.httpAddrs {
		scheme := "http"
		if s.cfg.TLS {
			scheme = "https"
		}
		u := url.URL{Scheme: scheme, Host: addr, Path: "/"}
		qs := url.Values{"database": {s.db}, "default_format": {format}}
		for k, v := range s.httpSettings {
			qs[k] = v
		}
		if dl, ok := ctx.Deadline(); ok {
			qs.Set("max_execution_time", fmt.Sprint(int(time.Until(dl).Seconds())+1))
		}
		u.RawQuery = qs.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(q))
		if err != nil {
			return err
		}
		req.SetBasicAuth(s.cfg.User, s.cfg.Password)
		resp, err := s.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			lastErr = err // try the next address
			continue
		}
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			return &QueryError{Engine: "server", SQL: q, Message: strings.TrimSpace(string(body))}
		}
		_, err = io.Copy(w, resp.Body)
		resp.Body.Close()
		return err
	}
	return fmt.Errorf("ninguna dirección HTTP de ClickHouse respondió: %w", lastErr)
}

func (s *server) Insert(ctx context.Context, table string, columns []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	types, err := s.types.columnTypes(ctx, s, table, columns)
	if err != nil {
		return err
	}
	head := insertHead(table, columns)
	// The batch gets a context that is never cancelled: clickhouse-go
	// watches a batch's context and closes its connection when it ends,
	// even after Send has returned the connection to the pool, where the
	// next statement then fails ("use of closed network connection").
	// Cancellation is checked here between rows instead, and the time
	// limit goes to the server as max_execution_time.
	bctx := context.WithoutCancel(ctx)
	limit := s.cfg.QueryTimeout
	if dl, ok := ctx.Deadline(); ok {
		limit = time.Until(dl)
	}
	if limit > 0 {
		bctx = clickhouse.Context(bctx, clickhouse.WithSettings(clickhouse.Settings{"max_execution_time": int(limit.Seconds()) + 1}))
	}
	batch, err := s.conn.PrepareBatch(bctx, head)
	if err != nil {
		return s.wrap(head, err)
	}
	defer batch.Abort()
	cts := make([]colType, len(types))
	for j, t := range types {
		cts[j] = parseColType(t)
	}
	vals := make([]any, len(columns))
	for i, row := range rows {
		if len(row) != len(columns) {
			return fmt.Errorf("fila %d de %s: %d valores para %d columnas", i+1, table, len(row), len(columns))
		}
		for j, v := range row {
			nv, err := driverValue(&cts[j], v)
			if err != nil {
				return fmt.Errorf("fila %d de %s, columna %s: %w", i+1, table, columns[j], err)
			}
			vals[j] = nv
		}
		if err := batch.Append(vals...); err != nil {
			return s.wrap(head, err)
		}
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.wrap(head, batch.Send())
}

// driverValue checks v against the column (colType.fit) and converts it to
// the exact Go type clickhouse-go appends to a column of that type.
func driverValue(c *colType, v any) (any, error) {
	cv, err := c.fit(v)
	if err != nil || cv == nil {
		return cv, err
	}
	t := c.base
	switch t {
	case "UInt8":
		return uint8(cv.(uint64)), nil
	case "UInt16":
		return uint16(cv.(uint64)), nil
	case "UInt32":
		return uint32(cv.(uint64)), nil
	case "UInt64":
		return cv.(uint64), nil
	case "Int8":
		return int8(cv.(int64)), nil
	case "Int16":
		return int16(cv.(int64)), nil
	case "Int32":
		return int32(cv.(int64)), nil
	case "Int64":
		return cv.(int64), nil
	case "Float32":
		return float32(cv.(float64)), nil
	}
	return cv, nil
}
