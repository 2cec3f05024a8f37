package ingest

import (
	"hash/maphash"
	"math/bits"
)

// keySet remembers 64-bit hashes of the keys seen in a file, with the
// position (line) of their first appearance, in an open-addressing table
// with linear probing. It costs 12 bytes per slot and keeps the load under
// 3/4, so 16-32 bytes per key while it grows, and stops growing at limit
// keys: past that, new keys are not remembered (limited is set) but known
// keys are still found. Two different keys collide with probability about
// n²/2⁶⁵ (1e-7 for 2M keys).
//
// Why not a power-of-two table at load 1/2 (sessions 1-7): a 1.4M-row
// file then needed 4M slots (48 MB) and, while doubling, held the old 24 MB
// table next to the new one; at 19.8M rows that was the load's peak. The
// slot of a hash is the high half of hash × size (multiply-shift), which
// works for any size, so the last step stops exactly at the limit's table
// (2.67M slots, 32 MB, for the default 2M keys).
type keySet struct {
	seed    maphash.Seed
	slots   []keySlot // hash 0 = empty slot
	n       int
	limit   int
	limited bool
}

// keySlot is a hash and the position of its first appearance, side by
// side: a slot is one memory access where a table of hashes and a table of
// positions cost two, and every add of a new key reads a slot at random in
// a table of tens of MB, past the processor's caches. BenchmarkKeySet: 35.9
// instead of 45.2 ns per add. Inside a 1M-row load, where perf counted
// about 300 ns per add with the engine's threads on the same cores, the
// difference was within the spread of the runs (etl/BENCHMARKS.md,
// "Session 16"). The hash is two halves so that a slot stays 12 bytes.
type keySlot struct {
	lo, hi, pos uint32
}

func (s *keySlot) hash() uint64 { return uint64(s.hi)<<32 | uint64(s.lo) }

// minKeySlots is the size of a new table; tables of a few slots would
// only make the first rows of every file pay for growing.
const minKeySlots = 1024

func newKeySet(limit int) *keySet {
	n := min(minKeySlots, maxKeySlots(limit))
	return &keySet{seed: maphash.MakeSeed(), slots: make([]keySlot, n), limit: limit}
}

// maxKeySlots is the size of the table that holds limit keys at load 3/4.
func maxKeySlots(limit int) int {
	return max(limit+limit/3+1, 8)
}

// size is the table's number of slots.
func (k *keySet) size() int { return len(k.slots) }

func (k *keySet) reset() {
	clear(k.slots)
	k.n = 0
}

// slot is the home slot of h in a table of size slots.
func slot(h uint64, size int) int {
	hi, _ := bits.Mul64(h, uint64(size))
	return int(hi)
}

// add records h at position p. If h was already there it returns the
// position of the first appearance and true.
func (k *keySet) add(h uint64, p uint32) (uint32, bool) {
	if h == 0 {
		h = 1
	}
	size := len(k.slots)
	for i := slot(h, size); ; {
		s := &k.slots[i]
		switch s.hash() {
		case h:
			return s.pos, true
		case 0:
			if k.n >= k.limit {
				k.limited = true
				return 0, false
			}
			*s = keySlot{lo: uint32(h), hi: uint32(h >> 32), pos: p}
			k.n++
			if 4*k.n > 3*size && size < maxKeySlots(k.limit) {
				k.grow()
			}
			return 0, false
		}
		if i++; i == size {
			i = 0
		}
	}
}

// grow doubles the table, or takes the limit's size if that is smaller.
func (k *keySet) grow() {
	old := k.slots
	size := min(2*len(old), maxKeySlots(k.limit))
	k.slots = make([]keySlot, size)
	for _, s := range old {
		h := s.hash()
		if h == 0 {
			continue
		}
		i := slot(h, size)
		for k.slots[i].hash() != 0 {
			if i++; i == size {
				i = 0
			}
		}
		k.slots[i] = s
	}
}
