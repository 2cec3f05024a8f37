package warehouse_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestEmbeddedPoolUnderLoad runs more concurrent statements than the pool
// has connections, long enough for every connection to be opened and
// returned: none may block for good (a release into a full pool did once).
func TestEmbeddedPoolUnderLoad(t *testing.T) {
	e := whtest.Embedded(t) // pool of 4
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				if _, err := e.Query(ctx, "SELECT sum(number) FROM numbers(200000)"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("statements still waiting for a connection after 60 s: the pool is stuck")
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestEmbeddedStatementAfterCloseFails: once every connection of the pool
// has been opened, a statement after Close waited for a connection forever
// (a test's cleanup hung for 10 minutes); it must fail at once. A
// connection that was running a statement when the engine closed is closed
// when it comes back.
func TestEmbeddedStatementAfterCloseFails(t *testing.T) {
	e := whtest.Embedded(t) // pool of 4
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.Exec(ctx, "SELECT sleepEachRow(0.3) FROM numbers(1) FORMAT Null")
		}()
	}
	time.Sleep(100 * time.Millisecond)
	e.Close() // while the four statements run
	wg.Wait()
	done := make(chan error, 1)
	go func() { done <- e.Exec(ctx, "SELECT 1") }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "cerrado") {
			t.Fatalf("sentencia tras Close: %v; se esperaba un error que diga que el almacén está cerrado", err)
		}
	case <-ctx.Done():
		t.Fatal("una sentencia tras Close sigue esperando una conexión")
	}
}
