package warehouse

import (
	"context"
	"runtime"
)

// MemoryAccount is what the process and the engine say their memory is,
// as slog attributes, for the debug lines that scripts/etl-memory.sh
// lines its RSS samples up with: the Go heap in use and held, the engine's
// tracked memory, the statements running (this one included) and their
// memory, its background merges and their memory, and the active parts of
// the observatory's database. On a server engine the engine's figures are
// the server's, not this process's.
func MemoryAccount(ctx context.Context, e Engine) []any {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	attrs := []any{"go_heap_mb", m.HeapInuse >> 20, "go_retenido_mb", (m.HeapIdle - m.HeapReleased) >> 20}
	res, err := e.Query(ctx, `SELECT
		(SELECT toInt64(value) FROM system.metrics WHERE metric = 'MemoryTracking'),
		(SELECT toUInt64(count()) FROM system.processes),
		(SELECT toInt64(sum(memory_usage)) FROM system.processes),
		(SELECT toUInt64(count()) FROM system.merges),
		(SELECT toInt64(sum(memory_usage)) FROM system.merges),
		(SELECT toUInt64(count()) FROM system.parts WHERE database = currentDatabase() AND active)`)
	if err == nil && len(res.Rows) == 1 {
		r := res.Rows[0]
		attrs = append(attrs, "motor_mb", toMB(r[0]), "consultas", r[1], "consultas_mb", toMB(r[2]),
			"fusiones", r[3], "fusiones_mb", toMB(r[4]), "partes", r[5])
	}
	return attrs
}

func toMB(v any) any {
	if n, ok := v.(int64); ok {
		return n >> 20
	}
	return v
}
