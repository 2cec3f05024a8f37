package ingest

import (
	"errors"
	"fmt"
	"strings"
)

// Machine codes of rejects (and of the file-level errors in SourceError).
const (
	CodeRequired         = "required_missing"
	CodeNumber           = "number_invalid"
	CodeNumberAmbiguous  = "number_ambiguous"
	CodeInteger          = "integer_invalid"
	CodeRange            = "out_of_range"
	CodeDate             = "date_invalid"
	CodeDateTime         = "datetime_invalid"
	CodeNotAllowed       = "value_not_allowed"
	CodeMunicipality     = "divipola_invalid"
	CodeMunicipalityUnk  = "divipola_unknown"
	CodeDepartment       = "department_invalid"
	CodeTaxpayerID       = "id_invalid"
	CodeCheckDigit       = "check_digit_invalid"
	CodeCIIU             = "ciiu_invalid"
	CodeURL              = "url_invalid"
	CodeBool             = "bool_invalid"
	CodeText             = "text_invalid"
	CodeEncoding         = "encoding_invalid"
	CodeMojibake         = "mojibake"
	CodeColumnsMissing   = "columns_missing"
	CodeColumnsExtra     = "columns_extra"
	CodeTruncated        = "truncated_record"
	CodeQuoteUnterm      = "quote_unterminated"
	CodeQuoteStray       = "quote_stray"
	CodeFieldTooLarge    = "field_too_large"
	CodeRecordTooLarge   = "record_too_large"
	CodeDuplicateKey     = "duplicate_key"
	CodeJSONElement      = "json_not_object"
	CodeDecode           = "decode_failed"
	CodeEmptyFile        = "empty_file"
	CodeMissingColumn    = "column_missing_in_header"
	CodeDuplicateColumn  = "column_mapped_twice"
	CodeNoFiles          = "no_files"
	CodeHTTP             = "http_error"
	CodeMalformedJSON    = "json_malformed"
	CodeSocrataFields    = "socrata_field_missing"
	CodeIrreversible     = "mojibake_irreversible"
	CodeMojibakeRepaired = "mojibake_repaired"
	CodePadded           = "code_padded"
	CodeEncodingGuess    = "encoding_suspect"
)

// Issue is one finding about one field.
type Issue struct {
	Field  string // canonical field name, or "(columna N)" for a column with no header
	Raw    string // raw text of the field (capped)
	Code   string // machine code (Code* constants)
	Reason string // explanation in Spanish (es-CO)
}

func (i Issue) String() string {
	if i.Field == "" {
		return fmt.Sprintf("%s [%s]", i.Reason, i.Code)
	}
	return fmt.Sprintf("campo «%s»: %s [%s]", i.Field, i.Reason, i.Code)
}

// Reject is a row that did not become a record. It names the source, the
// file or URL, the physical line (CSV) or the page and index (JSON), the
// first failing field with its raw text, a machine code and a reason in
// Spanish. Other failing fields of the same row are in Also.
type Reject struct {
	Origin
	Issue
	Also   []Issue // further problems in the same row
	Record string  // raw text of the row (capped), for the quarantine
}

// String formats the reject in Spanish on one line.
func (r Reject) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fuente «%s», %s: %s", r.Source, r.Origin.Where(), r.Issue.String())
	if r.Raw != "" {
		fmt.Fprintf(&b, " (valor «%s»)", r.Raw)
	}
	for _, a := range r.Also {
		fmt.Fprintf(&b, "; %s", a.String())
	}
	return b.String()
}

// SourceError is an error that stops a whole file, document or source
// (empty file, required column missing from the header, HTTP failure...).
// Reason is in Spanish; Code is a machine code; Err the underlying error.
type SourceError struct {
	Source string
	File   string
	Code   string
	Reason string
	Err    error
}

func (e *SourceError) Error() string {
	var b strings.Builder
	b.WriteString("ingest: ")
	if e.Source != "" {
		fmt.Fprintf(&b, "fuente «%s»: ", e.Source)
	}
	if e.File != "" {
		fmt.Fprintf(&b, "«%s»: ", e.File)
	}
	b.WriteString(e.Reason)
	fmt.Fprintf(&b, " [%s]", e.Code)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *SourceError) Unwrap() error { return e.Err }

// ErrUnchanged is returned by Open when a conditional HTTP request says the
// document did not change since the state given with WithState (304 Not
// Modified, or the same ETag). Nothing needs to be loaded.
var ErrUnchanged = errors.New("ingest: source unchanged since last fetch")

// ErrEmptyFile is wrapped by the SourceError returned for an empty file.
var ErrEmptyFile = errors.New("empty file")

// capText shortens s to at most n bytes (on a rune boundary) for reports.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}

const rawCap = 200 // bytes of a raw field kept in an Issue

func issue(field, raw, code, format string, args ...any) Issue {
	return Issue{Field: field, Raw: capText(raw, rawCap), Code: code, Reason: fmt.Sprintf(format, args...)}
}
