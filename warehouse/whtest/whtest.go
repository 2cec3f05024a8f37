// Package whtest gives tests a real warehouse on each engine: embedded chDB
// (one data directory per test process, one database per test) and a
// throwaway ClickHouse server started by chserver. Integration suites call
// Each so that the same assertions run on both.
package whtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/chserver"
)

var (
	embeddedOnce sync.Once
	embeddedDir  string
	embeddedErr  error
	dbSeq        atomic.Int64
)

// chDB keeps one storage path per process, so every test of a package
// shares one data directory and isolates itself in its own database. The
// engine holds the directory until the process ends, so the process cannot
// remove it; the next test process removes the directories of processes
// that are gone (a few hundred MB each: left alone, repeated runs filled
// the disk).
func sharedDir() (string, error) {
	embeddedOnce.Do(func() {
		removeStaleDirs()
		embeddedDir, embeddedErr = os.MkdirTemp("", fmt.Sprintf("%s%d-*", dirPrefix, os.Getpid()))
	})
	return embeddedDir, embeddedErr
}

const dirPrefix = "observatorio-chdb-test-"

// removeStaleDirs removes the data directories whose process has ended.
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(filepath.Base(d), dirPrefix), "-", 2)[0])
		if err != nil || pid <= 0 {
			continue // not named by this code: left alone
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(d)
		}
	}
}

func uniqueDB(t testing.TB) string {
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name())
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	return fmt.Sprintf("t%d_%s", dbSeq.Add(1), name)
}

// Embedded opens the embedded engine on a fresh database, migrated.
func Embedded(t testing.TB) warehouse.Engine {
	t.Helper()
	return EmbeddedPool(t, 4)
}

// EmbeddedPool is Embedded with a pool of n connections.
func EmbeddedPool(t testing.TB, n int) warehouse.Engine {
	t.Helper()
	return EmbeddedWith(t, func(c *warehouse.EmbeddedConfig) { c.Pool = n })
}

// EmbeddedWith is Embedded with the configuration changed by set (the data
// directory and the library are the shared ones).
func EmbeddedWith(t testing.TB, set func(*warehouse.EmbeddedConfig)) warehouse.Engine {
	t.Helper()
	dir, err := sharedDir()
	if err != nil {
		t.Fatal(err)
	}
	cfg := warehouse.EmbeddedConfig{Pool: 4}
	set(&cfg)
	cfg.Path, cfg.Library = dir, os.Getenv("OBSERVATORIO_CHDB_LIB")
	e, err := warehouse.Open(context.Background(), warehouse.Config{
		Database: uniqueDB(t),
		Embedded: cfg,
	})
	if err != nil {
		t.Fatalf("motor embebido: %v", err)
	}
	return prepare(t, e)
}

// Server starts a throwaway ClickHouse server (skipping the test when the
// binary is not installed) and opens the server engine on it, migrated.
func Server(t testing.TB) (warehouse.Engine, *chserver.Server) {
	t.Helper()
	srv := chserver.Start(t, chserver.Options{Name: "observatorio", User: "observatorio", Password: "clave-de-prueba"})
	e := OpenServer(t, srv, "")
	return prepare(t, e), srv
}

// OpenServer opens the server engine on running servers (not migrated).
func OpenServer(t testing.TB, srv *chserver.Server, cluster string, more ...*chserver.Server) warehouse.Engine {
	t.Helper()
	cfg := warehouse.Config{
		Database: uniqueDB(t),
		Cluster:  cluster,
		Server: warehouse.ServerConfig{
			Addrs:        []string{srv.Addr()},
			HTTPAddrs:    []string{srv.HTTPAddr()},
			User:         srv.User(),
			Password:     srv.Password(),
			QueryTimeout: 2 * time.Minute,
		},
	}
	for _, s := range more {
		cfg.Server.Addrs = append(cfg.Server.Addrs, s.Addr())
		cfg.Server.HTTPAddrs = append(cfg.Server.HTTPAddrs, s.HTTPAddr())
	}
	e, err := warehouse.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("motor servidor: %v\n%s", err, srv.LogTail(30))
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func prepare(t testing.TB, e warehouse.Engine) warehouse.Engine {
	t.Helper()
	ctx := context.Background()
	if _, err := warehouse.Migrate(ctx, e, ""); err != nil {
		t.Fatalf("migraciones (%s): %v", e.Kind(), err)
	}
	t.Cleanup(func() {
		e.Exec(context.Background(), "DROP DATABASE IF EXISTS "+e.Database())
		e.Close()
	})
	return e
}

// Each runs fn once on the embedded engine and once on a ClickHouse
// server, as subtests named "embedded" and "server".
func Each(t *testing.T, fn func(t *testing.T, e warehouse.Engine)) {
	t.Run("embedded", func(t *testing.T) { fn(t, Embedded(t)) })
	t.Run("server", func(t *testing.T) {
		e, _ := Server(t)
		fn(t, e)
	})
}

// Checksum is a table's row count and an order-independent hash of its
// content, as readers see it (through FINAL when the table merges rows by
// key). It is the same for the same rows on chDB and on ClickHouse 18.16:
// decimals are hashed as numbers (18.16's cityHash64 refuses Decimal, and
// the two engines print decimals differently), NULLs as a flag.
func Checksum(t testing.TB, e warehouse.Engine, table string) (rows, hash uint64) {
	t.Helper()
	ctx := context.Background()
	schema, err := warehouse.Schema()
	if err != nil {
		t.Fatal(err)
	}
	final := ""
	for _, s := range schema {
		if s.Name == table && s.Merges {
			final = " FINAL"
		}
	}
	res, err := e.Query(ctx, "DESCRIBE TABLE "+e.Database()+"."+table)
	if err != nil {
		t.Fatal(err)
	}
	var exprs []string
	for _, r := range res.Rows {
		name, typ := "`"+r[0].(string)+"`", r[1].(string)
		inner, nullable := strings.CutPrefix(typ, "Nullable(")
		v := name
		if nullable {
			exprs = append(exprs, "isNull("+name+")")
			v = "assumeNotNull(" + name + ")"
		}
		if strings.HasPrefix(inner, "Decimal(") {
			v = "toFloat64(" + v + ")"
		}
		exprs = append(exprs, v)
	}
	res, err = e.Query(ctx, fmt.Sprintf("SELECT count(), sum(cityHash64(%s)) FROM %s.%s%s", strings.Join(exprs, ", "), e.Database(), table, final))
	if err != nil {
		t.Fatal(err)
	}
	return res.Rows[0][0].(uint64), res.Rows[0][1].(uint64)
}
