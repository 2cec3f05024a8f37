package warehouse_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/observatorio-civico/observatorio/internal/procmem"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// The allocator setting is read once per process, when libchdb.so loads, so
// each case runs in a child process of its own: the test binary again,
// running only embeddedMemoryChild.
const memChildEnv = "OBSERVATORIO_TEST_MEM_CHILD"

// TestEmbeddedReturnsFreedMemory: after a statement that holds a few hundred
// MB, the process gives that memory back when it ends (allocator_decay_ms
// 0, the default). With the library's own setting (negative) the process
// kept it; that case is logged for comparison, since what the library does
// by itself is not ours to assert.
//
// Also: the engine's threads keep no allocator caches of their own (the
// allocator's statistics count no bytes in them after the statement), with
// either decay, and an operator's JE_MALLOC_CONF decides over the
// observatory's: one that asks for the caches gets them.
func TestEmbeddedReturnsFreedMemory(t *testing.T) {
	if os.Getenv(memChildEnv) != "" {
		embeddedMemoryChild(t)
		return
	}
	type report struct{ before, after, tcacheBytes int }
	run := func(mode string, env ...string) report {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestEmbeddedReturnsFreedMemory$", "-test.count=1")
		cmd.Env = append(append(os.Environ(), memChildEnv+"="+mode, "OBSERVATORIO_TEST_MEM_DIR="+t.TempDir()), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("proceso hijo (%s): %v\n%s", mode, err, out)
		}
		var r report
		found := 0
		for _, line := range strings.Split(string(out), "\n") {
			if _, err := fmt.Sscanf(strings.TrimSpace(line), "anon_mb %d %d", &r.before, &r.after); err == nil {
				found++
			}
			if _, err := fmt.Sscanf(strings.TrimSpace(line), "tcache_bytes %d", &r.tcacheBytes); err == nil {
				found++
			}
		}
		if found != 2 {
			t.Fatalf("el proceso hijo no informó su memoria:\n%s", out)
		}
		return r
	}
	r := run("omision")
	t.Logf("configuración por omisión: memoria anónima %d MB antes, %d MB después de la consulta; %d bytes en cachés de hilo", r.before, r.after, r.tcacheBytes)
	if r.after-r.before > 60 {
		t.Errorf("con la configuración por omisión el proceso retuvo %d MB después de la consulta (de %d a %d MB)", r.after-r.before, r.before, r.after)
	}
	if r.tcacheBytes != 0 {
		t.Errorf("con la configuración por omisión los hilos del motor guardan %d bytes en cachés propias; se esperaba 0", r.tcacheBytes)
	}
	r = run("biblioteca")
	t.Logf("ajuste propio de la biblioteca (allocator_decay_ms -1): memoria anónima %d MB antes, %d MB después; %d bytes en cachés de hilo", r.before, r.after, r.tcacheBytes)
	if r.tcacheBytes != 0 {
		t.Errorf("con allocator_decay_ms -1 los hilos del motor guardan %d bytes en cachés propias; se esperaba 0", r.tcacheBytes)
	}
	r = run("operador", "JE_MALLOC_CONF=tcache:true,dirty_decay_ms:0,muzzy_decay_ms:0")
	t.Logf("JE_MALLOC_CONF del operador con tcache:true: memoria anónima %d MB antes, %d MB después; %d bytes en cachés de hilo", r.before, r.after, r.tcacheBytes)
	if r.tcacheBytes == 0 {
		t.Errorf("con JE_MALLOC_CONF=tcache:true los hilos del motor no guardan nada en cachés propias: la variable del operador no decidió")
	}
}

func embeddedMemoryChild(t *testing.T) {
	ctx := context.Background()
	cfg := warehouse.EmbeddedConfig{Path: os.Getenv("OBSERVATORIO_TEST_MEM_DIR"), Library: os.Getenv("OBSERVATORIO_CHDB_LIB"), Pool: 1}
	if os.Getenv(memChildEnv) == "biblioteca" {
		own := -1
		cfg.AllocatorDecayMS = &own
	}
	e, err := warehouse.Open(ctx, warehouse.Config{Database: "memoria", Embedded: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Query(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	before := anonMB(t)
	// About 300 MB held at once (an array of 8 million strings), freed when
	// the statement ends.
	res, err := e.Query(ctx, "SELECT length(groupArray(toString(number))) FROM numbers(8000000)")
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Rows[0][0].(uint64); n != 8000000 {
		t.Fatalf("groupArray: %d elementos", n)
	}
	fmt.Printf("anon_mb %d %d\n", before, anonMB(t))
	// The allocator's statistics, merged over its arenas: the first
	// tcache_bytes line.
	res, err = e.Query(ctx, "SELECT stats FROM system.jemalloc_stats")
	if err != nil {
		t.Fatal(err)
	}
	stats, _ := res.Rows[0][0].(string)
	for _, line := range strings.Split(stats, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "tcache_bytes:" {
			fmt.Printf("tcache_bytes %s\n", f[1])
			return
		}
	}
	t.Fatalf("system.jemalloc_stats no dice tcache_bytes:\n%s", stats)
}

// anonMB is the process's resident anonymous memory (heap of Go and of the
// engine, not the mapped library).
func anonMB(t *testing.T) int {
	b, err := procmem.Status(0, "RssAnon")
	if err != nil {
		t.Skip(err)
	}
	return int(b >> 20)
}
