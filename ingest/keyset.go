package ingest

import "hash/maphash"

// keySet remembers 64-bit hashes of the keys seen in a file, with the
// position (line) of their first appearance, in an open-addressing table.
// It costs 12 bytes per slot and keeps the load under 1/2, so about 24
// bytes per key, and stops growing at limit keys: past that, new keys are
// not remembered (limited is set) but known keys are still found. Two
// different keys collide with probability about n²/2⁶⁵ (1e-7 for 2M keys).
type keySet struct {
	seed    maphash.Seed
	hashes  []uint64 // 0 = empty slot
	pos     []uint32
	n       int
	limit   int
	limited bool
}

func newKeySet(limit int) *keySet {
	return &keySet{seed: maphash.MakeSeed(), hashes: make([]uint64, 1024), pos: make([]uint32, 1024), limit: limit}
}

func (k *keySet) reset() {
	clear(k.hashes)
	k.n = 0
}

// add records h at position p. If h was already there it returns the
// position of the first appearance and true.
func (k *keySet) add(h uint64, p uint32) (uint32, bool) {
	if h == 0 {
		h = 1
	}
	mask := uint64(len(k.hashes) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch k.hashes[i] {
		case h:
			return k.pos[i], true
		case 0:
			if k.n >= k.limit {
				k.limited = true
				return 0, false
			}
			k.hashes[i], k.pos[i] = h, p
			k.n++
			if 2*k.n > len(k.hashes) {
				k.grow()
			}
			return 0, false
		}
	}
}

func (k *keySet) grow() {
	old, oldPos := k.hashes, k.pos
	k.hashes = make([]uint64, 2*len(old))
	k.pos = make([]uint32, 2*len(old))
	mask := uint64(len(k.hashes) - 1)
	for j, h := range old {
		if h == 0 {
			continue
		}
		i := h & mask
		for k.hashes[i] != 0 {
			i = (i + 1) & mask
		}
		k.hashes[i], k.pos[i] = h, oldPos[j]
	}
}
