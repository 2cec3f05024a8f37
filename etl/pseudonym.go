package etl

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
	"sync"
)

// Pseudonymizer replaces taxpayer identifiers (cédula, NIT) with a keyed
// pseudonym, HMAC-SHA256(key, normalized id). A plain hash would not do:
// Colombia's whole cédula space hashes in minutes on two cores, so an
// unkeyed digest is a lookup table away from the id. The key never lives in
// the repository or next to the data.
type Pseudonymizer struct {
	key  []byte
	macs sync.Pool // of hash.Hash: keyed HMACs reused across rows
}

// MinKeyBytes is the shortest key accepted.
const MinKeyBytes = 32

// NewPseudonymizer makes a pseudonymizer with key.
func NewPseudonymizer(key []byte) (*Pseudonymizer, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("la clave de seudonimización debe tener al menos %d bytes (tiene %d)", MinKeyBytes, len(key))
	}
	p := &Pseudonymizer{key: append([]byte(nil), key...)}
	p.macs.New = func() any { return hmac.New(sha256.New, p.key) }
	return p, nil
}

// KeyFromEnv reads the key from OBSERVATORIO_PSEUDONYM_KEY (hex) or the
// file named by OBSERVATORIO_PSEUDONYM_KEY_FILE (raw bytes or hex). In demo
// mode, with neither set, it generates a random key for this process and
// says so; otherwise a missing key is an error: the ETL refuses to run.
func KeyFromEnv(demo bool) (key []byte, generated bool, err error) {
	if v := strings.TrimSpace(os.Getenv("OBSERVATORIO_PSEUDONYM_KEY")); v != "" {
		key, err = hex.DecodeString(v)
		if err != nil {
			return nil, false, errors.New("OBSERVATORIO_PSEUDONYM_KEY debe estar en hexadecimal")
		}
		return key, false, nil
	}
	if p := os.Getenv("OBSERVATORIO_PSEUDONYM_KEY_FILE"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, false, fmt.Errorf("no se pudo leer la clave de seudonimización: %w", err)
		}
		if h, err := hex.DecodeString(strings.TrimSpace(string(b))); err == nil {
			return h, false, nil
		}
		return b, false, nil
	}
	if !demo {
		return nil, false, errors.New("falta la clave de seudonimización: defina OBSERVATORIO_PSEUDONYM_KEY (hex, 32 bytes o más) u OBSERVATORIO_PSEUDONYM_KEY_FILE; sin ella el ETL no corre (salvo en modo demostración)")
	}
	key = make([]byte, MinKeyBytes)
	if _, err := rand.Read(key); err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// NormalizeID canonicalizes a taxpayer id: digits and letters only, upper
// case, without the dots, dashes and spaces that sources write differently
// ("1.234.567-8" and "12345678" are the same NIT with its check digit).
func NormalizeID(id string) string {
	var b strings.Builder
	b.Grow(len(id))
	for _, r := range id {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Pseudonym returns the hex HMAC of the normalized id ("" for an empty id).
func (p *Pseudonymizer) Pseudonym(id string) string {
	return string(p.AppendPseudonym(nil, id))
}

// AppendPseudonym appends Pseudonym(id) to dst, without allocating when
// dst has room: the ETL writes one per source row.
func (p *Pseudonymizer) AppendPseudonym(dst []byte, id string) []byte {
	var buf [32]byte
	n := buf[:0]
	for i := 0; i < len(id); i++ { // NormalizeID on bytes: it keeps ASCII only
		switch c := id[i]; {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'Z':
			n = append(n, c)
		case c >= 'a' && c <= 'z':
			n = append(n, c-'a'+'A')
		}
	}
	if len(n) == 0 {
		return dst
	}
	m := p.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(n)
	var sum [sha256.Size]byte
	dst = hex.AppendEncode(dst, m.Sum(sum[:0]))
	p.macs.Put(m)
	return dst
}
