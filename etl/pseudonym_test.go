package etl

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestPseudonymIsKeyedAndNormalized(t *testing.T) {
	a, _ := NewPseudonymizer([]byte(strings.Repeat("k", 32)))
	b, _ := NewPseudonymizer([]byte(strings.Repeat("j", 32)))
	if a.Pseudonym("1.234.567-8") != a.Pseudonym("12345678") {
		t.Fatal("same id written two ways gave two pseudonyms")
	}
	if a.Pseudonym("12345678") == b.Pseudonym("12345678") {
		t.Fatal("pseudonym does not depend on the key")
	}
	plain := sha256.Sum256([]byte("12345678"))
	if a.Pseudonym("12345678") == hex.EncodeToString(plain[:]) {
		t.Fatal("pseudonym is a plain hash")
	}
	if a.Pseudonym(" - ") != "" {
		t.Fatal("empty id got a pseudonym")
	}
	if _, err := NewPseudonymizer([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestKeyFromEnvRefusesWithoutKeyOutsideDemo(t *testing.T) {
	t.Setenv("OBSERVATORIO_PSEUDONYM_KEY", "")
	t.Setenv("OBSERVATORIO_PSEUDONYM_KEY_FILE", "")
	if _, _, err := KeyFromEnv(false); err == nil {
		t.Fatal("no key, not demo: accepted")
	}
	k, gen, err := KeyFromEnv(true)
	if err != nil || !gen || len(k) < MinKeyBytes {
		t.Fatalf("demo key: %v %v %d", err, gen, len(k))
	}
	t.Setenv("OBSERVATORIO_PSEUDONYM_KEY", strings.Repeat("ab", 32))
	k, gen, err = KeyFromEnv(false)
	if err != nil || gen || len(k) != 32 {
		t.Fatalf("env key: %v %v %d", err, gen, len(k))
	}
}
