package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// csvScanner splits UTF-8 text into CSV records, one at a time, keeping the
// physical line numbers. Unlike encoding/csv it never holds more than
// maxRecord bytes of a record (a longer line is skipped and reported), it
// keeps the raw text of the current record for rejects, and by default a
// quote left open at the end of a line ends the record there instead of
// swallowing the rest of the file.
//
// Quotes: a field that starts with '"' is quoted ("" is a literal quote);
// a quote inside an unquoted field (Calle 5 "B") is kept as text, which is
// unambiguous. A quote inside a quoted field that is not doubled and not
// followed by the delimiter is an error (quote_stray) unless lazy is set,
// in which case it is kept as text like encoding/csv's LazyQuotes.
type csvScanner struct {
	r         *bufio.Reader
	comma     byte
	lazy      bool
	multiline bool // quoted fields may contain line breaks
	maxRecord int  // bytes
	maxLines  int  // physical lines per record when multiline

	line int  // physical lines consumed so far
	eof  bool // the input is exhausted

	long   []byte // assembles lines longer than the bufio buffer
	recBuf []byte // unquoted field bytes of the record
	ends   []int
	raw    []byte // raw text of the record, capped at rawRecordCap
	fields []string
}

const rawRecordCap = 4096

// scanRecord is one record. fields and raw are valid until the next scan.
type scanRecord struct {
	fields  []string
	start   int  // physical line where it starts (1-based)
	noEOL   bool // the last line had no line break (end of a possibly truncated file)
	problem int  // 0, or one of the prob* values
	field   int  // index of the field with the problem
	size    int  // bytes of the record, for probTooLarge
}

const (
	probNone = iota
	probQuoteStray
	probQuoteUnterminated
	probTooLarge
)

func newCSVScanner(r *bufio.Reader, comma byte) *csvScanner {
	return &csvScanner{r: r, comma: comma, maxRecord: 1 << 20, maxLines: 100}
}

// readLine returns the next physical line including its line break, or
// io.EOF. A line longer than maxRecord is consumed but returned truncated
// with tooLong set. Other read errors are returned as they are.
func (s *csvScanner) readLine() (line []byte, tooLong bool, size int, err error) {
	if s.eof {
		return nil, false, 0, io.EOF
	}
	l, err := s.r.ReadSlice('\n')
	size = len(l)
	if errors.Is(err, bufio.ErrBufferFull) {
		s.long = append(s.long[:0], l...)
		for errors.Is(err, bufio.ErrBufferFull) {
			l, err = s.r.ReadSlice('\n')
			size += len(l)
			if !tooLong && len(s.long)+len(l) <= s.maxRecord {
				s.long = append(s.long, l...)
			} else if !tooLong {
				tooLong = true
				s.long = s.long[:min(len(s.long), rawRecordCap)]
			}
		}
		l = s.long
	}
	if err == io.EOF {
		s.eof = true
		if size == 0 {
			return nil, false, 0, io.EOF
		}
		err = nil
	}
	if err != nil {
		return nil, false, size, err
	}
	s.line++
	return l, tooLong, size, nil
}

func trimEOL(l []byte) ([]byte, bool) {
	if n := len(l); n > 0 && l[n-1] == '\n' {
		l = l[:n-1]
		if n := len(l); n > 0 && l[n-1] == '\r' {
			l = l[:n-1]
		}
		return l, true
	}
	return l, false
}

func (s *csvScanner) keepRaw(l []byte) {
	if room := rawRecordCap - len(s.raw); room > 0 {
		s.raw = append(s.raw, l[:min(room, len(l))]...)
	}
}

// scan returns the next record, or io.EOF.
func (s *csvScanner) scan() (*scanRecord, error) {
	line, tooLong, size, err := s.readLine()
	if err != nil {
		return nil, err
	}
	rec := &scanRecord{start: s.line}
	s.raw = s.raw[:0]
	s.keepRaw(line)
	if tooLong {
		rec.problem, rec.size = probTooLarge, size
		_, eol := trimEOL(line)
		rec.noEOL = !eol && s.eof
		rec.fields = nil
		return rec, nil
	}
	s.recBuf = s.recBuf[:0]
	s.ends = s.ends[:0]
	line, eol := trimEOL(line)
	rec.noEOL = !eol
	lines := 1
parseField:
	for {
		if len(line) == 0 || line[0] != '"' {
			// unquoted field: up to the next delimiter
			i := bytes.IndexByte(line, s.comma)
			f := line
			if i >= 0 {
				f = line[:i]
			}
			s.recBuf = append(s.recBuf, f...)
			s.ends = append(s.ends, len(s.recBuf))
			if i < 0 {
				break parseField
			}
			line = line[i+1:]
			continue
		}
		// quoted field
		line = line[1:]
		for {
			i := bytes.IndexByte(line, '"')
			if i >= 0 {
				s.recBuf = append(s.recBuf, line[:i]...)
				line = line[i+1:]
				switch {
				case len(line) > 0 && line[0] == '"':
					s.recBuf = append(s.recBuf, '"')
					line = line[1:]
				case len(line) > 0 && line[0] == s.comma:
					line = line[1:]
					s.ends = append(s.ends, len(s.recBuf))
					continue parseField
				case len(line) == 0:
					s.ends = append(s.ends, len(s.recBuf))
					break parseField
				default:
					// a quote neither doubled nor closing the field
					if !s.lazy && rec.problem == probNone {
						rec.problem, rec.field = probQuoteStray, len(s.ends)
					}
					s.recBuf = append(s.recBuf, '"')
				}
				continue
			}
			// no closing quote on this line
			s.recBuf = append(s.recBuf, line...)
			if !s.multiline || !eol || lines >= s.maxLines {
				if rec.problem == probNone {
					rec.problem, rec.field = probQuoteUnterminated, len(s.ends)
				}
				s.ends = append(s.ends, len(s.recBuf))
				break parseField
			}
			next, tooLong, nsize, err := s.readLine()
			if err == io.EOF {
				rec.problem, rec.field, rec.noEOL = probQuoteUnterminated, len(s.ends), true
				s.ends = append(s.ends, len(s.recBuf))
				break parseField
			}
			if err != nil {
				return nil, err
			}
			size += nsize
			lines++
			s.keepRaw(next)
			if tooLong || size > s.maxRecord {
				rec.problem, rec.size = probTooLarge, size
				// the rest of the record is dropped; parsing resumes at the next line
				s.ends = append(s.ends, len(s.recBuf))
				break parseField
			}
			s.recBuf = append(s.recBuf, '\n')
			line, eol = trimEOL(next)
			rec.noEOL = !eol
		}
	}
	str := string(s.recBuf)
	s.fields = s.fields[:0]
	prev := 0
	for _, e := range s.ends {
		s.fields = append(s.fields, str[prev:e])
		prev = e
	}
	rec.fields = s.fields
	return rec, nil
}

// rawText returns the raw text of the last record (capped), without the
// final line break.
func (s *csvScanner) rawText() string {
	r, _ := trimEOL(s.raw)
	return string(r)
}

// sniffDelimiter picks the delimiter of a header (or first) line among
// ',', ';', tab and '|' by counting them outside quotes.
func sniffDelimiter(line []byte) byte {
	cands := []byte{',', ';', '\t', '|'}
	counts := make([]int, len(cands))
	inQ := false
	for _, c := range line {
		if c == '"' {
			inQ = !inQ
			continue
		}
		if inQ {
			continue
		}
		for i, d := range cands {
			if c == d {
				counts[i]++
			}
		}
	}
	best := 0
	for i := range cands {
		if counts[i] > counts[best] {
			best = i
		}
	}
	return cands[best]
}
