package demo

import "math"

// Randomness. Every value of the data set is a pure function of the seed and
// of the row's coordinates (municipality, kind, entity, year, period), drawn
// from a small splitmix64 stream. Nothing depends on the order in which rows
// are computed, so the files are the same bytes whatever the number of
// workers, and a row can be recomputed on its own.

// mix is the splitmix64 finalizer: a bijection on uint64 with good avalanche.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// key hashes a seed and up to five coordinates.
func key(seed uint64, a ...uint64) uint64 {
	h := mix(seed ^ 0x6f627365727661) // "observa"
	for _, x := range a {
		h = mix(h ^ (x + 0x9e3779b97f4a7c15))
	}
	return h
}

// rnd is a splitmix64 stream. The zero value is usable but all streams
// should come from newRnd.
type rnd struct{ s uint64 }

func newRnd(seed uint64, a ...uint64) rnd { return rnd{s: key(seed, a...)} }

func (r *rnd) u64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix(r.s)
}

// float returns a uniform value in [0, 1).
func (r *rnd) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

// intn returns a uniform value in [0, n); n <= 0 gives 0.
func (r *rnd) intn(n int) int {
	if n <= 0 {
		return 0
	}
	return int(r.u64() % uint64(n))
}

// between returns a uniform value in [lo, hi].
func (r *rnd) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.intn(hi-lo+1)
}

// chance reports true with probability p.
func (r *rnd) chance(p float64) bool { return r.float() < p }

// norm returns a standard normal value (Box-Muller).
func (r *rnd) norm() float64 {
	u := r.float()
	for u == 0 {
		u = r.float()
	}
	v := r.float()
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*v)
}

// lognormal returns median * exp(sigma * z) with z a standard normal draw
// clamped to ±3.5, so that a tail draw cannot produce absurd values.
func (r *rnd) lognormal(median, sigma float64) float64 {
	z := r.norm()
	if z > 3.5 {
		z = 3.5
	} else if z < -3.5 {
		z = -3.5
	}
	return median * math.Exp(sigma*z)
}

// pick returns an index with probability proportional to its weight.
func (r *rnd) pick(weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := r.float() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// perm is an affine bijection of [0, n): i -> (a*i + c) mod n with a coprime
// to n. It spreads the quotas of a plan (how many rows pay online, late...)
// over the entities without storing anything.
type perm struct{ n, a, c uint64 }

func newPerm(n int, seed uint64) perm {
	if n <= 1 {
		return perm{n: uint64(max(n, 1)), a: 1}
	}
	un := uint64(n)
	a := uint64(float64(n)*0.6180339887) | 1
	a += seed % 97 * 2
	for gcd(a%un, un) != 1 || a%un == 0 {
		a++
	}
	return perm{n: un, a: a % un, c: mix(seed) % un}
}

// at returns the image of i. a, i and c are below n < 2^32, so a*i + c
// does not overflow.
func (p perm) at(i int) int { return int((p.a*uint64(i) + p.c) % p.n) }

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
