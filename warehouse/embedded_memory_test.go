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
func TestEmbeddedReturnsFreedMemory(t *testing.T) {
	if os.Getenv(memChildEnv) != "" {
		embeddedMemoryChild(t)
		return
	}
	run := func(mode string) (before, after int) {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestEmbeddedReturnsFreedMemory$", "-test.count=1")
		cmd.Env = append(os.Environ(), memChildEnv+"="+mode, "OBSERVATORIO_TEST_MEM_DIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("proceso hijo (%s): %v\n%s", mode, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if _, err := fmt.Sscanf(strings.TrimSpace(line), "anon_mb %d %d", &before, &after); err == nil {
				return before, after
			}
		}
		t.Fatalf("el proceso hijo no informó su memoria:\n%s", out)
		return 0, 0
	}
	before, after := run("omision")
	t.Logf("configuración por omisión: memoria anónima %d MB antes, %d MB después de la consulta", before, after)
	if after-before > 60 {
		t.Errorf("con la configuración por omisión el proceso retuvo %d MB después de la consulta (de %d a %d MB)", after-before, before, after)
	}
	b2, a2 := run("biblioteca")
	t.Logf("ajuste propio de la biblioteca (allocator_decay_ms -1): memoria anónima %d MB antes, %d MB después", b2, a2)
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
