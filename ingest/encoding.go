package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encoding names after normalization.
const (
	encUTF8    = "utf-8"
	encLatin1  = "latin-1"
	encCP1252  = "windows-1252"
	encUTF16   = "utf-16"
	encUTF16LE = "utf-16le"
	encUTF16BE = "utf-16be"
	encAuto    = "auto"
)

func encodingByName(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "utf-8", "utf8", "utf-8-sig":
		return encUTF8, nil
	case "latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1":
		return encLatin1, nil
	case "windows-1252", "cp1252", "win1252", "ansi":
		return encCP1252, nil
	case "utf-16", "utf16":
		return encUTF16, nil
	case "utf-16le":
		return encUTF16LE, nil
	case "utf-16be":
		return encUTF16BE, nil
	case "auto":
		return encAuto, nil
	}
	return "", fmt.Errorf("encoding %q is not supported (utf-8, latin-1, windows-1252, utf-16, auto)", s)
}

const sniffSize = 64 << 10

// countingReader counts the bytes read from the source.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// textReader turns raw bytes into UTF-8 text without BOM. It returns the
// buffered text, the encoding actually used and, when the bytes of a
// source declared UTF-8 do not look like UTF-8, a warning.
func textReader(raw io.Reader, declared string) (*bufio.Reader, string, *Issue, error) {
	br := bufio.NewReaderSize(raw, sniffSize)
	// gzip, whatever the file is called
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, "", nil, err
		}
		br = bufio.NewReaderSize(zr, sniffSize)
	}
	enc, err := encodingByName(declared)
	if err != nil {
		return nil, "", nil, err
	}
	head, _ := br.Peek(sniffSize)
	if enc == encAuto {
		enc = guessEncoding(head)
	}
	var warn *Issue
	var dec encoding.Encoding
	switch enc {
	case encUTF8:
		if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
			_, _ = br.Discard(3)
			head = head[3:]
		}
		if !validUTF8Prefix(head) {
			i := firstInvalidUTF8(head)
			warn = &Issue{Code: CodeEncodingGuess, Raw: fmt.Sprintf("%q", head[i:min(i+4, len(head))]),
				Reason: "el archivo se declaró UTF-8 pero tiene bytes que no son UTF-8; ¿está en Latin-1 o Windows-1252? (configure encoding)"}
		}
		return br, enc, warn, nil
	case encLatin1:
		dec = charmap.ISO8859_1
	case encCP1252:
		dec = charmap.Windows1252
	case encUTF16:
		dec = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)
	case encUTF16LE:
		dec = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
	case encUTF16BE:
		dec = unicode.UTF16(unicode.BigEndian, unicode.UseBOM)
	}
	if enc == encUTF16 && !(bytes.HasPrefix(head, []byte{0xff, 0xfe}) || bytes.HasPrefix(head, []byte{0xfe, 0xff})) {
		// no BOM: guess the byte order from where the zero bytes are
		dec = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
		if len(head) > 1 && head[0] == 0 && head[1] != 0 {
			dec = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
		}
	}
	tr := bufio.NewReaderSize(transform.NewReader(br, dec.NewDecoder()), sniffSize)
	if b, _ := tr.Peek(3); bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		_, _ = tr.Discard(3)
	}
	return tr, enc, nil, nil
}

// guessEncoding: a BOM decides; else valid UTF-8 is UTF-8; else
// Windows-1252, the usual encoding of Spanish exports from Excel.
func guessEncoding(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		return encUTF8
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}), bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		return encUTF16
	case validUTF8Prefix(head):
		return encUTF8
	}
	return encCP1252
}

// validUTF8Prefix is utf8.Valid, tolerating a rune cut at the end of the
// sniffed prefix.
func validUTF8Prefix(b []byte) bool {
	return firstInvalidUTF8(b) == len(b)
}

func firstInvalidUTF8(b []byte) int {
	i := 0
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			if !utf8.FullRune(b[i:]) && len(b)-i < utf8.UTFMax {
				return len(b) // cut at the end of the prefix
			}
			return i
		}
		i += size
	}
	return len(b)
}
