package datasetstest

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/observatorio-civico/observatorio/etl"
)

// Leak is a personal value found in a published body.
type Leak struct {
	Kind  string // what it is (identificador, nombre, dirección, hash SHA-256 de un identificador...)
	Value string
	At    int
}

// LeakScanner finds personal values, and plain hashes of identifiers, in
// published bytes (any format), with an Aho–Corasick automaton over all of
// them at once.
type LeakScanner struct {
	next    []map[byte]int
	fail    []int
	out     [][]int
	pats    []string
	kinds   []string
	numeric []bool
}

// Scanner builds the scanner for the fixture: every personal string of the
// raw demo records; for each raw id (as written and normalized) its MD5,
// SHA-1 and SHA-256 in hex, lower and upper case, and the first 16 hex
// digits of each (a truncated plain hash is still a plain hash); and the
// HMAC pseudonyms stored in the warehouse (published pseudonyms are derived
// from them, never them).
func (f *Fixture) Scanner(key []byte) *LeakScanner {
	s := &LeakScanner{next: []map[byte]int{{}}, fail: []int{0}, out: [][]int{nil}}
	for v, kind := range f.PersonalStrings() {
		s.add(v, kind)
	}
	p, _ := etl.NewPseudonymizer(key)
	for _, id := range f.RawIDs() {
		for _, form := range []string{id, etl.NormalizeID(id)} {
			for name, sum := range map[string][]byte{"MD5": md5Sum(form), "SHA-1": sha1Sum(form), "SHA-256": sha256Sum(form)} {
				h := hex.EncodeToString(sum)
				kind := "hash " + name + " simple de un identificador"
				for _, x := range []string{h, strings.ToUpper(h), h[:16], strings.ToUpper(h[:16])} {
					s.add(x, kind)
				}
			}
		}
		s.add(p.Pseudonym(id), "seudónimo HMAC interno del almacén")
	}
	s.build()
	return s
}

func md5Sum(s string) []byte    { b := md5.Sum([]byte(s)); return b[:] }
func sha1Sum(s string) []byte   { b := sha1.Sum([]byte(s)); return b[:] }
func sha256Sum(s string) []byte { b := sha256.Sum256([]byte(s)); return b[:] }

// Patterns is how many values the scanner looks for.
func (s *LeakScanner) Patterns() int { return len(s.pats) }

func (s *LeakScanner) add(p, kind string) {
	if len(p) < 5 {
		return
	}
	st := 0
	for i := 0; i < len(p); i++ {
		n, ok := s.next[st][p[i]]
		if !ok {
			n = len(s.next)
			s.next = append(s.next, map[byte]int{})
			s.fail = append(s.fail, 0)
			s.out = append(s.out, nil)
			s.next[st][p[i]] = n
		}
		st = n
	}
	numeric := true
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			numeric = false
		}
	}
	s.out[st] = append(s.out[st], len(s.pats))
	s.pats = append(s.pats, p)
	s.kinds = append(s.kinds, kind)
	s.numeric = append(s.numeric, numeric)
}

func (s *LeakScanner) build() {
	queue := []int{}
	for _, n := range s.next[0] {
		queue = append(queue, n)
	}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		for c, u := range s.next[r] {
			queue = append(queue, u)
			f := s.fail[r]
			for {
				if n, ok := s.next[f][c]; ok && n != u {
					s.fail[u] = n
					break
				}
				if f == 0 {
					s.fail[u] = 0
					break
				}
				f = s.fail[f]
			}
			s.out[u] = append(s.out[u], s.out[s.fail[u]]...)
		}
	}
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// Find returns the personal values in b. A numeric value counts only as a
// whole number (not inside a longer number or a decimal), so that an
// amount is not taken for a cédula.
func (s *LeakScanner) Find(b []byte) []Leak {
	var out []Leak
	st := 0
	for i := 0; i < len(b); i++ {
		for {
			if n, ok := s.next[st][b[i]]; ok {
				st = n
				break
			}
			if st == 0 {
				break
			}
			st = s.fail[st]
		}
		for _, pi := range s.out[st] {
			p := s.pats[pi]
			start := i - len(p) + 1
			if s.numeric[pi] {
				if start > 0 && (isDigit(b[start-1]) || (start > 1 && (b[start-1] == '.' || b[start-1] == ',') && isDigit(b[start-2]))) {
					continue
				}
				if i+1 < len(b) && (isDigit(b[i+1]) || (i+2 < len(b) && (b[i+1] == '.' || b[i+1] == ',') && isDigit(b[i+2]))) {
					continue
				}
			}
			out = append(out, Leak{Kind: s.kinds[pi], Value: p, At: start})
		}
	}
	return out
}
