package warehouse_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

func TestUnavailableTellsOutagesFromMistakes(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("columna x: tipo desconocido"), false},
		{context.Canceled, false},                             // the client went away
		{fmt.Errorf("consulta: %w", context.Canceled), false}, // ... wrapped
		{&warehouse.QueryError{Message: "Code: 62. DB::Exception: Syntax error"}, false},
		{&warehouse.QueryError{Message: "Code: 60. DB::Exception: Table x doesn't exist"}, false},
		{&warehouse.QueryError{Message: "Code: 202. DB::Exception: Too many simultaneous queries"}, true},
		{&warehouse.QueryError{Message: "Code: 241. DB::Exception: Memory limit exceeded"}, true},
		{refused, true},
		{fmt.Errorf("query processing: failed to read packet: %w", fmt.Errorf("read: %w", io.EOF)), true}, // what clickhouse-go says when the server dies mid-answer
		{context.DeadlineExceeded, true},
		{clickhouse.ErrAcquireConnTimeout, true},
		{warehouse.ErrUnavailable, true},
	} {
		if got := warehouse.Unavailable(c.err); got != c.want {
			t.Errorf("Unavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no ocurrió en %v", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWatchedEngineThroughAKilledServer kills a real ClickHouse server
// under a watched engine and brings it back on the same data: the engine
// notices the outage, refuses calls at once while it lasts (no call waits
// on a dead connection), notices the return by itself and the
// clickhouse-go pool and the HTTP exports reconnect, with the data intact.
func TestWatchedEngineThroughAKilledServer(t *testing.T) {
	inner, srv := whtest.Server(t)
	w := warehouse.Watch(inner)
	if warehouse.Watch(w) != w {
		t.Fatal("Watch of a watched engine wraps it again")
	}
	ctx := context.Background()
	if err := w.Exec(ctx, "CREATE TABLE caida (n UInt64) ENGINE = MergeTree ORDER BY n"); err != nil {
		t.Fatal(err)
	}
	if err := w.Exec(ctx, "INSERT INTO caida SELECT number FROM numbers(100000)"); err != nil {
		t.Fatal(err)
	}
	// A mistake in a request proves that the warehouse answers.
	if _, err := w.Query(ctx, "SELEC 1"); err == nil || warehouse.Unavailable(err) {
		t.Fatalf("syntax error: %v", err)
	}
	// A download whose client goes away says nothing about the warehouse.
	if err := w.Stream(ctx, failingWriter{}, "CSV", "SELECT n FROM caida"); err == nil {
		t.Fatal("Stream to a failing writer succeeded")
	}
	if _, down := w.Down(); down {
		t.Fatal("down before any outage")
	}

	// Queries in flight when the server dies fail as unavailable.
	var wg sync.WaitGroup
	inflight := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := w.Query(ctx, "SELECT count() FROM numbers(5000000000)")
			inflight <- err
		}()
	}
	time.Sleep(300 * time.Millisecond)
	killed := time.Now()
	srv.Kill()
	wg.Wait()
	close(inflight)
	for err := range inflight {
		if !warehouse.Unavailable(err) {
			t.Errorf("query in flight during the kill: %v (not classified as unavailable)", err)
		}
	}
	waitFor(t, "the engine marks the warehouse down", 10*time.Second, func() bool { _, d := w.Down(); return d })
	since, _ := w.Down()
	refusedBefore := w.Refused()
	for i := 0; i < 50; i++ {
		_, err := w.Query(ctx, "SELECT 1")
		if !errors.Is(err, warehouse.ErrUnavailable) || !warehouse.Unavailable(err) {
			t.Fatalf("call while down: %v", err)
		}
	}
	if w.Refused()-refusedBefore != 50 {
		t.Errorf("%d of 50 calls refused without asking the warehouse", w.Refused()-refusedBefore)
	}
	if err := w.Ping(ctx); err == nil {
		t.Fatal("Ping answered with the server dead")
	}

	srv.Restart(t)
	restarted := time.Now()
	// Nobody pings on purpose, and nobody calls for a while: the first
	// call after that finds the warehouse back by itself.
	time.Sleep(warehouse.DefaultRetryEvery + 200*time.Millisecond)
	if _, err := w.Query(ctx, "SELECT 1"); err != nil {
		t.Fatalf("first call %v after the server came back: %v", time.Since(restarted).Round(time.Millisecond), err)
	}
	t.Logf("caída detectada %v después de matar el servidor", since.Sub(killed).Round(time.Millisecond))
	if _, down := w.Down(); down {
		t.Fatal("still down after a successful query")
	}
	if w.Outages() != 1 || w.LastOutage() <= 0 {
		t.Errorf("outages %d, last %v", w.Outages(), w.LastOutage())
	}
	// The pool reconnects for many callers at once; data survived.
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := w.Query(ctx, "SELECT count() FROM caida")
			if err == nil && res.Rows[0][0].(uint64) != 100000 {
				err = fmt.Errorf("count %v after the restart", res.Rows[0][0])
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var buf bytes.Buffer
	if err := w.Stream(ctx, &buf, "CSV", "SELECT count() FROM caida"); err != nil || buf.String() != "100000\n" {
		t.Errorf("HTTP export after the restart: %q, %v", buf.String(), err)
	}
	if err := w.Insert(ctx, "caida", []string{"n"}, [][]any{{uint64(100000)}}); err != nil {
		t.Errorf("insert after the restart: %v", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, syscall.EPIPE }
