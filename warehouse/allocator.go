package warehouse

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/observatorio-civico/observatorio/warehouse/chdb"
)

// The embedded engine's allocator (jemalloc, inside libchdb.so) and the
// process's memory. The engine runs inside the observatory's process, so
// what the allocator keeps of the memory the engine freed is the process's
// too. Two mechanisms bound it:
//
//   - its options (JE_MALLOC_CONF), read once when the library loads: no
//     per-thread caches, and how long freed pages stay before they go back
//     to the system (allocatorConf);
//   - the engine's memory worker, a thread of the library that reads the
//     allocator's statistics every memoryWorkerPeriodMS and returns every
//     freed page to the system when they pass a size (allocatorPool).

// jemallocConfEnv is the variable the allocator inside libchdb.so reads its
// options from (it is built with the je_ prefix, so plain MALLOC_CONF is
// not it).
const jemallocConfEnv = "JE_MALLOC_CONF"

// libraryDecayMS is the allocator's own decay (jemalloc's default, which
// the library keeps): freed pages go back to the system over about 5 s.
const libraryDecayMS = 5000

// allocatorConf tells the engine's allocator, before the library loads, to
// keep no per-thread caches and to return freed pages to the system after
// dirtyMS milliseconds (negative keeps the library's decay). muzzyMS is the
// second stage of that return (pages the system may take back lazily, which
// still count in the process's resident memory until it does); negative
// keeps the library's. The options not named here keep the library's
// built-in values. The variable is read once, when the library's first
// allocation initializes the allocator during loading; loaded removes it
// again so that the processes the observatory starts do not inherit it.
//
// Why no thread caches (tcache:false): each of the engine's threads keeps
// freed blocks of up to 32 KB in a cache of its own for its next
// allocation, and a thread of the engine's pools that goes idle keeps its
// cache until it runs again. Nothing returns that memory to the system
// and the engine's memory tracker does not see it. During the 9.9M-row
// load of a file of 15 tax years the caches held 49-63 MB
// (system.jemalloc_stats, tcache_bytes), and the load peaked at 463-479 MB
// without them against 518-532 MB with them (etl/BENCHMARKS.md, "Session
// 11"). The 1M-row ETL benchmark showed no difference in CPU per row beyond
// the spread of its runs: every allocation now takes a lock of its arena,
// and the library's arenas are per CPU.
func allocatorConf(dirtyMS, muzzyMS int) (loaded func()) {
	if os.Getenv(jemallocConfEnv) != "" || chdb.Loaded() {
		return func() {}
	}
	conf := "tcache:false"
	if dirtyMS >= 0 {
		conf += ",dirty_decay_ms:" + strconv.Itoa(dirtyMS)
	}
	if muzzyMS >= 0 {
		conf += ",muzzy_decay_ms:" + strconv.Itoa(muzzyMS)
	}
	// Go's os.Setenv also sets the C environment (cgo), where the
	// allocator reads it.
	os.Setenv(jemallocConfEnv, conf)
	return func() { os.Unsetenv(jemallocConfEnv) }
}

// checkAllocatorConf refuses an operator's JE_MALLOC_CONF that would kill
// the process as the library loads: with background_thread:true the
// library's allocator aborts during loading (free(): invalid pointer,
// SIGABRT; chDB 26.5.3), which would otherwise be the operator's only
// message.
func checkAllocatorConf(conf string) error {
	for _, opt := range strings.Split(conf, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(opt), ":")
		if k == "background_thread" && v == "true" {
			return &ConfigError{jemallocConfEnv + "=" + conf + ": background_thread:true hace abortar libchdb.so al cargarse; quite esa opción (el motor embebido devuelve la memoria con warehouse.embedded.allocator_keep_mb y allocator_decay_ms)"}
		}
	}
	return nil
}

// defaultAllocatorKeepMB is EmbeddedConfig.AllocatorKeepMB's default: no
// pool. Why, and what keeping some costs and saves (etl/BENCHMARKS.md,
// "Session 15"):
//
// Returned at once (jemalloc's decays 0, the default since session 4),
// every page the engine allocates again costs it a page fault: an ETL
// insert of 50,000 liquidations allocates and frees tens of MB, and the
// engine's threads spent more of a load in the kernel (faults, unmapping,
// the other core's TLB flushed) than in their own code. Keeping 16 MB of
// freed pages for reuse, and none while the engine holds more than 48 MB,
// took the 1M-row ETL benchmark from 219,000-227,000 to 268,000-272,000
// rows/s (6.81-7.23 to 6.13-6.18 µs of CPU per row), every job at 1.1M
// rows from 57 to 45 s, and every job at 19.8M rows from 881 to 655 s. But
// the 19.8M-row run then peaked at 514 MB instead of 498-508, in the
// aggregates' queries (the balances' and the load's peaks held), and so
// did every other bound tried (32 MB unbounded; 32 below 128 MB; 16 below
// 96; looks every 20 or 5 ms): the pages are kept while the engine holds
// little, which is when the Go side holds most (the aggregates' cells and
// the rows it reads), and the memory worker sees only the engine's memory.
// The budget is 512 MB, so the pool is the operator's choice, not the
// default.
const defaultAllocatorKeepMB = 0

// allocatorKeepBelowMB: the engine keeps freed pages only while it holds
// less than this (its live memory and the freed pages together); above it
// the memory worker returns every freed page at each look, as when they
// are returned at once. Kept whatever the engine held (32 MB at most), the
// 19.8M-row `etl run` peaked at 529 MB in the balances: a statement that
// grows a hash table frees the smaller one while it allocates the larger,
// and the pages kept from the first do not serve the second. The 1M-row
// benchmark gained as much with 48 MB as with 128 (269,818 and 270,881
// rows/s): an insert's pages are reused between inserts, when the engine
// holds little.
const allocatorKeepBelowMB = 48

// memoryWorkerPeriodMS is how often the engine's memory worker reads the
// allocator's statistics and returns the freed pages when they pass a
// bound (the library's default: 100 ms). What the engine frees between two
// looks stays in the process until the next one.
const memoryWorkerPeriodMS = 5

// allocatorPool is the engine's arguments that bound the freed pages its
// allocator keeps: at most keepMB, and none while the engine holds more
// than allocatorKeepBelowMB. The memory worker's bounds are ratios of the
// engine's hard memory limit, so it is given too: the library's own rule
// (0.9 of the memory of the machine, or of the process's cgroup if it has
// a lower limit), which is what it would set by itself. limitBytes 0 (the
// memory could not be read) keeps no pool: nil.
//
// The worker also reads the engine's resident memory from the allocator
// rather than from the cgroup (memory_worker_use_cgroup=0): the cgroup
// counts the Go side and every other process in it, the allocator only the
// engine's. Its own adjustment of the decay under memory pressure
// (memory_worker_decay_adjustment_period_ms) is off: it acts at 0.9 of the
// limit, far above anything here, and the decay stays the configured one.
func allocatorPool(keepMB int, limitBytes int64) []string {
	if limitBytes <= 0 {
		return nil
	}
	ratio := func(mb int) string {
		return strconv.FormatFloat(float64(int64(mb)<<20)/float64(limitBytes), 'g', -1, 64)
	}
	return []string{
		"--max_server_memory_usage=" + strconv.FormatInt(limitBytes, 10),
		"--memory_worker_period_ms=" + strconv.Itoa(memoryWorkerPeriodMS),
		"--memory_worker_purge_dirty_pages_threshold_ratio=" + ratio(keepMB),
		"--memory_worker_purge_total_memory_threshold_ratio=" + ratio(allocatorKeepBelowMB),
		"--memory_worker_use_cgroup=0",
		"--memory_worker_decay_adjustment_period_ms=0",
	}
}

// engineMemoryLimit is the hard memory limit the library sets by itself
// (max_server_memory_usage 0): max_server_memory_usage_to_ram_ratio (0.9)
// of the machine's memory, or of the process's cgroup limit where that is
// lower. 0 if the machine's memory cannot be read.
func engineMemoryLimit() int64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return 0
	}
	mem := int64(si.Totalram) * int64(si.Unit)
	if c := cgroupMemoryLimit(); c > 0 && c < mem {
		mem = c
	}
	// As the library computes it (a double), to the byte: the pool's
	// ratios are fractions of it.
	return int64(float64(mem) * 0.9)
}

// cgroupMemoryLimit is the memory limit of the process's cgroup (v2, or v1's
// memory controller), 0 if it has none.
func cgroupMemoryLimit() int64 {
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		// "max", or v1's "no limit" (a page-rounded maximum int64).
		if err != nil || v <= 0 || v >= 1<<62 {
			return 0
		}
		return v
	}
	return 0
}

// allocatorSettings resolves EmbeddedConfig's allocator options into the
// allocator's decays and the engine's arguments (the machine's memory is
// read only for a pool, whose bounds are fractions of the engine's hard
// limit, engineMemoryLimit). By default the engine
// returns freed pages at once (both decays 0). With allocator_keep_mb set
// it keeps up to that many MB of them (allocatorPool), with the library's
// decay for them and none for the second stage (the memory worker's
// bounds count only the first). allocator_decay_ms, when set, is both
// decays, as it always was (negative: the library's).
func allocatorSettings(cfg EmbeddedConfig) (dirtyMS, muzzyMS int, args []string) {
	keep := defaultAllocatorKeepMB
	if cfg.AllocatorKeepMB != nil {
		keep = *cfg.AllocatorKeepMB
	}
	if keep > 0 {
		args = allocatorPool(keep, engineMemoryLimit())
	}
	if args != nil {
		dirtyMS = libraryDecayMS
	}
	if cfg.AllocatorDecayMS != nil {
		dirtyMS, muzzyMS = *cfg.AllocatorDecayMS, *cfg.AllocatorDecayMS
	}
	return dirtyMS, muzzyMS, args
}
