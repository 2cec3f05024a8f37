package jsontext

import (
	"encoding/json"
	"testing"
)

// FuzzAppendString: the output is valid JSON that reads back as the input
// (invalid UTF-8 as U+FFFD, as encoding/json reads it), the same for a
// string and for its bytes.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "hola", "ñandú «x»", "a\"b\\c\x01\x1f\t\n\r", "\u2028\u2029", "\xff\xfe", "€\xe2\x82"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString(nil, s)
		if b := AppendString(nil, []byte(s)); string(b) != string(out) {
			t.Fatalf("string %q and bytes differ: %s vs %s", s, out, b)
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q → %s: %v", s, out, err)
		}
		var want string
		quoted, _ := json.Marshal(s) // encoding/json's own reading of s
		json.Unmarshal(quoted, &want)
		if back != want {
			t.Fatalf("%q → %s reads back as %q, want %q", s, out, back, want)
		}
	})
}
