package ingest

import (
	"math/rand/v2"
	"testing"
)

// TestKeySetFindsEveryRepeat adds random hashes, a third of them repeats,
// and checks each answer against a map: a repeat returns the position of
// its first appearance, a new hash is not reported. Hashes are drawn from
// a small range too, so that long probe runs and the wrap-around at the
// table's end are exercised.
func TestKeySetFindsEveryRepeat(t *testing.T) {
	for _, spread := range []uint64{0, 1 << 20} {
		rows := uint32(300_000)
		if spread > 0 {
			rows = 5000 // one probe run holds them all
		}
		r := rand.New(rand.NewPCG(7, spread))
		k := newKeySet(1_000_000)
		first := map[uint64]uint32{}
		var seen []uint64
		for p := uint32(1); p <= rows; p++ {
			var h uint64
			switch {
			case len(seen) > 0 && r.IntN(3) == 0:
				h = seen[r.IntN(len(seen))]
			case spread > 0:
				h = ^uint64(0) - r.Uint64N(spread) // all at the table's end
			default:
				h = r.Uint64()
			}
			got, dup := k.add(h, p)
			want, known := first[h]
			if dup != known || (known && got != want) {
				t.Fatalf("spread %d, position %d: add(%x) = %d, %v; want %d, %v", spread, p, h, got, dup, want, known)
			}
			if !known {
				first[h] = p
				seen = append(seen, h)
			}
			if 4*k.n > 3*k.size() {
				t.Fatalf("load %d/%d over 3/4", k.n, k.size())
			}
		}
		if k.n != len(first) || k.limited {
			t.Fatalf("%d keys tracked, %d distinct, limited %v", k.n, len(first), k.limited)
		}
	}
}

// TestKeySetStopsAtTheLimit fills a set past its limit: the table stops at
// the limit's size (12 bytes a slot, 16 bytes a key), keys past the limit
// are not remembered and say so, and known keys are still found.
func TestKeySetStopsAtTheLimit(t *testing.T) {
	for _, limit := range []int{1, 5, 1000, 100_000} {
		k := newKeySet(limit)
		for h := uint64(1); h <= uint64(limit); h++ {
			if _, dup := k.add(h*0x9e3779b97f4a7c15, uint32(h)); dup {
				t.Fatalf("limit %d: key %d reported as a repeat", limit, h)
			}
		}
		if k.limited {
			t.Fatalf("limit %d: limited before the limit", limit)
		}
		size := k.size()
		if size != maxKeySlots(limit) && limit > minKeySlots/2 {
			t.Fatalf("limit %d: %d slots, want %d", limit, size, maxKeySlots(limit))
		}
		if 4*k.n > 3*size {
			t.Fatalf("limit %d: load %d/%d over 3/4", limit, k.n, size)
		}
		extra := uint64(limit+1) * 0x9e3779b97f4a7c15
		if _, dup := k.add(extra, 99); dup || !k.limited {
			t.Fatalf("limit %d: a key past the limit: repeat %v, limited %v", limit, dup, k.limited)
		}
		if _, dup := k.add(extra, 100); dup {
			t.Fatalf("limit %d: a key past the limit was remembered", limit)
		}
		if p, dup := k.add(0x9e3779b97f4a7c15, 101); !dup || p != 1 {
			t.Fatalf("limit %d: the first key = %d, %v after the limit", limit, p, dup)
		}
		if k.size() != size {
			t.Fatalf("limit %d: the table grew past the limit: %d slots", limit, k.size())
		}
	}
	// the default limit: 2M keys in 2.67M slots, 32 MB
	if got := maxKeySlots(2_000_000) * 12; got > 32_000_012 {
		t.Fatalf("the default limit's table takes %d bytes", got)
	}
}

// TestKeySetResetKeepsTheTable starts a second file on the same set.
func TestKeySetResetKeepsTheTable(t *testing.T) {
	k := newKeySet(10_000)
	for h := uint64(1); h <= 5000; h++ {
		k.add(h<<40, uint32(h))
	}
	size := k.size()
	k.reset()
	if _, dup := k.add(1<<40, 7); dup {
		t.Fatal("a key of the previous file reported as a repeat")
	}
	if p, dup := k.add(1<<40, 8); !dup || p != 7 {
		t.Fatalf("after reset: %d, %v", p, dup)
	}
	if k.size() != size || k.n != 1 {
		t.Fatalf("after reset: %d slots, %d keys", k.size(), k.n)
	}
}

// BenchmarkKeySet adds 1M distinct random hashes and looks them up again,
// the duplicate check's work for a 1M-row file.
func BenchmarkKeySet(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	hs := make([]uint64, 1_000_000)
	for i := range hs {
		hs[i] = r.Uint64()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := newKeySet(2_000_000)
		for p, h := range hs {
			k.add(h, uint32(p))
		}
		for p, h := range hs {
			if _, dup := k.add(h, uint32(p)); !dup {
				b.Fatal("lost a key")
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2*len(hs)), "ns/add")
}
