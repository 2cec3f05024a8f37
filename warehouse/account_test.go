package warehouse_test

import (
	"context"
	"testing"

	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// TestMemoryAccount: the debug lines' account names every figure, the
// engine's included (its query must run on both engines, 18.16 too), and
// counts the database's parts.
func TestMemoryAccount(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		attrs := warehouse.MemoryAccount(context.Background(), e)
		got := map[string]any{}
		for i := 0; i+1 < len(attrs); i += 2 {
			got[attrs[i].(string)] = attrs[i+1]
		}
		for _, k := range []string{"go_heap_mb", "go_retenido_mb", "motor_mb", "consultas", "consultas_mb", "fusiones", "fusiones_mb", "partes"} {
			if _, ok := got[k]; !ok {
				t.Errorf("falta %s en %v", k, attrs)
			}
		}
		if n, _ := got["consultas"].(uint64); n == 0 {
			t.Errorf("consultas = %v; la del propio balance está en curso", got["consultas"])
		}
		if n, _ := got["partes"].(uint64); n == 0 {
			t.Errorf("partes = %v; las migraciones dejan filas en schema_migrations", got["partes"])
		}
	})
}
