package ingest

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// SourceKind is how a source is reached.
type SourceKind string

// Source kinds.
const (
	SourceFile    SourceKind = "file"    // local files: a path, a glob or a folder
	SourceHTTP    SourceKind = "http"    // one CSV or JSON document over HTTP(S), fetched conditionally
	SourceSocrata SourceKind = "socrata" // a Socrata SODA dataset, paged and incremental
)

// Format is the text format of a file or HTTP document.
type Format string

// Formats. JSON means an array of objects or newline-delimited objects.
const (
	FormatCSV  Format = "csv"
	FormatJSON Format = "json"
)

// SourceConfig declares one source. It is decoded from YAML (unknown keys
// are errors) and is meant to be embedded in the ETL's configuration file:
//
//	name: florencia-predial
//	kind: file
//	record: liquidation
//	file: {path: "data/florencia/predial_*.csv"}
//	encoding: windows-1252
//	delimiter: ";"
//	numbers: {decimal: ",", thousands: "."}
//	dates: {formats: ["dd/mm/yyyy"]}
//	mapping:
//	  "No. Factura": liquidation_id
//	  "Cédula/NIT": taxpayer_id
//	  "Avalúo": avaluo
//	defaults: {municipality_code: "18001", tax: predial}
type SourceConfig struct {
	Name        string     `yaml:"name"`
	Kind        SourceKind `yaml:"kind"`
	Record      Kind       `yaml:"record"` // liquidation, payment, gel_measurement, budget_line, entity
	Description string     `yaml:"description,omitempty"`

	File    *FileConfig    `yaml:"file,omitempty"`
	HTTP    *HTTPConfig    `yaml:"http,omitempty"`
	Socrata *SocrataConfig `yaml:"socrata,omitempty"`

	// Format of files and HTTP documents: csv (default; .json and .ndjson
	// files are read as JSON) or json. Socrata is always JSON.
	Format Format `yaml:"format,omitempty"`

	// Encoding: utf-8 (default, with or without BOM), latin-1
	// (iso-8859-1), windows-1252, utf-16 (BOM decides the byte order) or
	// auto (BOM, else UTF-8 if valid, else Windows-1252).
	Encoding string `yaml:"encoding,omitempty"`
	// Delimiter: ",", ";", "\t" (or "tab"), "|" or auto (default): the
	// most frequent of them in the header line.
	Delimiter string `yaml:"delimiter,omitempty"`
	// Header: the first line (after SkipLines) names the columns
	// (default true). Without it, Columns gives the field of each position.
	Header *bool `yaml:"header,omitempty"`
	// Columns: for header-less files, the canonical field of each column
	// ("" or "-" to ignore a column).
	Columns []string `yaml:"columns,omitempty"`
	// SkipLines: lines before the header (titles, notes) to skip.
	SkipLines int `yaml:"skip_lines,omitempty"`
	// LazyQuotes keeps a stray quote inside a quoted field as text instead
	// of rejecting the row (quotes inside unquoted fields are always text).
	LazyQuotes bool `yaml:"lazy_quotes,omitempty"`
	// Multiline allows line breaks inside quoted fields (RFC 4180). Off by
	// default: an unclosed quote then rejects only its line.
	Multiline bool `yaml:"multiline,omitempty"`
	// MaxFieldBytes caps one field (default 65536); MaxRecordBytes one
	// record (default 1 MiB). Larger ones are rejected.
	MaxFieldBytes  int `yaml:"max_field_bytes,omitempty"`
	MaxRecordBytes int `yaml:"max_record_bytes,omitempty"`

	Numbers NumbersConfig `yaml:"numbers,omitempty"`
	Dates   DatesConfig   `yaml:"dates,omitempty"`

	// Mapping maps the source's column names (or JSON keys) to canonical
	// field names. Matching ignores case, accents and repeated spaces.
	// Columns already named like a canonical field need no entry; other
	// columns are ignored (and listed in PartInfo.Ignored).
	Mapping map[string]string `yaml:"mapping,omitempty"`
	// Defaults gives a field's value when the column is absent or the cell
	// is empty (for example the municipality code of a one-town export).
	Defaults map[string]string `yaml:"defaults,omitempty"`
	// Values adds per-source synonyms of enum values:
	// {channel: {"CAJA SOCIAL": banco}}.
	Values map[string]map[string]string `yaml:"values,omitempty"`

	// Mojibake: what to do with text damaged by a double encoding
	// ("CAQUETÃ\u0081"): warn (default: keep the text, add a warning),
	// repair (fix what can be fixed, warn about the rest) or reject.
	Mojibake string `yaml:"mojibake,omitempty"`
	// Duplicates: reject (default) rejects a row whose key was already seen
	// in the same file (or Socrata pull); off disables the check.
	Duplicates string `yaml:"duplicates,omitempty"`
	// MaxTrackedKeys bounds the memory of the duplicate check (16-32 bytes
	// per key; default 2,000,000 keys, a 32 MB table). Past it, new keys
	// are not tracked and Stats.DuplicateCheckLimited is set.
	MaxTrackedKeys int `yaml:"max_tracked_keys,omitempty"`
	// CheckDIVIPOLA: municipality codes must exist in DANE's list
	// (default true).
	CheckDIVIPOLA *bool `yaml:"check_divipola,omitempty"`

	Request RequestConfig `yaml:"request,omitempty"`
}

// FileConfig locates local files. Path is a file or a glob; Dir a folder
// read with Pattern (default "*"), optionally recursively. Files are read
// in name order; ".gz" files are decompressed.
type FileConfig struct {
	Path      string `yaml:"path,omitempty"`
	Dir       string `yaml:"dir,omitempty"`
	Pattern   string `yaml:"pattern,omitempty"`
	Recursive bool   `yaml:"recursive,omitempty"`
}

// HTTPConfig is one document fetched over HTTP(S). With the State of the
// last fetch (ETag, Last-Modified), the request is conditional and an
// unchanged document yields ErrUnchanged.
type HTTPConfig struct {
	URL string `yaml:"url"`
	// Headers are extra request headers. HeadersFromEnv names environment
	// variables whose values become headers (for API keys: the secret stays
	// out of the configuration).
	Headers        map[string]string `yaml:"headers,omitempty"`
	HeadersFromEnv map[string]string `yaml:"headers_from_env,omitempty"`
}

// SocrataConfig is a Socrata SODA 2 dataset.
type SocrataConfig struct {
	Domain  string `yaml:"domain,omitempty"`   // e.g. www.datos.gov.co (https is implied)
	BaseURL string `yaml:"base_url,omitempty"` // instead of Domain, e.g. http://localhost:8080
	Dataset string `yaml:"dataset"`            // the 4x4 id, e.g. gt2j-8ykr
	// AppTokenEnv names the environment variable that holds the app token
	// (sent as X-App-Token). The token itself never goes in configuration.
	AppTokenEnv string `yaml:"app_token_env,omitempty"`
	PageSize    int    `yaml:"page_size,omitempty"` // $limit, default 1000, at most 50000
	Where       string `yaml:"where,omitempty"`     // extra SoQL filter, ANDed
	Order       string `yaml:"order,omitempty"`     // default ":updated_at,:id" (stable paging)
	// Incremental asks only for rows with :updated_at after the watermark of
	// the State given to Open, and selects the system fields (:*, *) so the
	// new watermark can be read from the rows.
	Incremental bool `yaml:"incremental,omitempty"`
	// MaxPageBytes caps one page's body (default 256 MiB).
	MaxPageBytes int64 `yaml:"max_page_bytes,omitempty"`
}

// NumbersConfig gives the separators of the source's numbers.
type NumbersConfig struct {
	Decimal   string `yaml:"decimal,omitempty"`   // "," "." or auto (default)
	Thousands string `yaml:"thousands,omitempty"` // "." "," " " "'" or none (default: none, or the other of "," and "." in auto)
}

// DatesConfig lists the source's date formats (see DefaultDateFormats and
// the syntax in dates.go) and its time zone (default America/Bogota).
type DatesConfig struct {
	Formats  []string `yaml:"formats,omitempty"`
	Timezone string   `yaml:"timezone,omitempty"`
}

// RequestConfig governs HTTP requests (http and socrata sources).
type RequestConfig struct {
	// Timeout bounds one request: until the headers for documents, the
	// whole body for Socrata pages (default 60s).
	Timeout Duration `yaml:"timeout,omitempty"`
	// StallTimeout fails a body that sends nothing for this long (default 30s).
	StallTimeout Duration `yaml:"stall_timeout,omitempty"`
	// Retries after the first attempt on network errors, 429 and 5xx
	// (default 4; -1 for none).
	Retries int `yaml:"retries,omitempty"`
	// Exponential backoff with jitter between BackoffMin (default 500ms)
	// and BackoffMax (default 30s); a 429's Retry-After is honoured up to
	// MaxRetryAfter (default 5m; longer waits fail).
	BackoffMin    Duration `yaml:"backoff_min,omitempty"`
	BackoffMax    Duration `yaml:"backoff_max,omitempty"`
	MaxRetryAfter Duration `yaml:"max_retry_after,omitempty"`
	UserAgent     string   `yaml:"user_agent,omitempty"`
}

// Duration is a time.Duration written in YAML as "30s", "1m30s" or a plain
// number of seconds.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		*d = Duration(f * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (use 30s, 2m, 500ms)", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// ParseSources decodes a YAML list of sources (or a mapping with a
// "sources" list) and validates each.
func ParseSources(data []byte) ([]SourceConfig, error) {
	var list []SourceConfig
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	n := &root
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.MappingNode {
		var w struct {
			Sources []SourceConfig `yaml:"sources"`
		}
		if err := strictDecode(n, &w); err != nil {
			return nil, err
		}
		list = w.Sources
	} else if err := n.Decode(&list); err != nil {
		return nil, err
	}
	var errs []error
	seen := map[string]bool{}
	for i := range list {
		if err := list[i].Validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[list[i].Name] {
			errs = append(errs, fmt.Errorf("source %q declared twice", list[i].Name))
		}
		seen[list[i].Name] = true
	}
	return list, errors.Join(errs...)
}

// The UnmarshalYAML methods reject unknown keys, so a typo in the
// configuration is an error instead of a silently ignored setting.

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *SourceConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain SourceConfig
	return strictDecode(n, (*plain)(c))
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *FileConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain FileConfig
	return strictDecode(n, (*plain)(c))
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *HTTPConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain HTTPConfig
	return strictDecode(n, (*plain)(c))
}

// UnmarshalYAML implements yaml.Unmarshaler. A literal token is refused.
func (c *SocrataConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k == "app_token" || k == "token" || k == "x-app-token" {
				return fmt.Errorf("line %d: the Socrata app token must not be written in the configuration; put it in an environment variable and name it with app_token_env", n.Content[i].Line)
			}
		}
	}
	type plain SocrataConfig
	return strictDecode(n, (*plain)(c))
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *NumbersConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain NumbersConfig
	return strictDecode(n, (*plain)(c))
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *DatesConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain DatesConfig
	return strictDecode(n, (*plain)(c))
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (c *RequestConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain RequestConfig
	return strictDecode(n, (*plain)(c))
}

// strictDecode decodes a mapping node into v (a pointer to a struct without
// an UnmarshalYAML method), refusing keys that no field declares.
func strictDecode(n *yaml.Node, v any) error {
	if n.Kind == yaml.MappingNode {
		t := reflect.TypeOf(v).Elem()
		known := map[string]bool{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			name := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
			if name != "" && name != "-" {
				known[name] = true
				names = append(names, name)
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if !known[k.Value] {
				sort.Strings(names)
				return fmt.Errorf("line %d: unknown key %q (known: %s)", k.Line, k.Value, strings.Join(names, ", "))
			}
		}
	}
	return n.Decode(v)
}

var datasetID = regexp.MustCompile(`^[a-z0-9]{4}-[a-z0-9]{4}$`)

// Validate checks the declaration without touching the source. All the
// problems found are returned together.
func (c *SourceConfig) Validate() error {
	var errs []string
	add := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if c.Name == "" {
		add("name is required")
	}
	schema, err := SchemaFor(c.Record)
	if err != nil {
		add("record: %v", err)
	}
	blocks := 0
	for _, b := range []bool{c.File != nil, c.HTTP != nil, c.Socrata != nil} {
		if b {
			blocks++
		}
	}
	if blocks > 1 {
		add("only one of file, http and socrata may be given")
	}
	switch c.Kind {
	case SourceFile:
		switch {
		case c.File == nil:
			add("kind file needs a file block")
		case (c.File.Path == "") == (c.File.Dir == ""):
			add("file needs exactly one of path and dir")
		case c.File.Path != "" && (c.File.Pattern != "" || c.File.Recursive):
			add("file.pattern and file.recursive go with file.dir")
		}
	case SourceHTTP:
		if c.HTTP == nil || c.HTTP.URL == "" {
			add("kind http needs http.url")
		} else if !strings.HasPrefix(c.HTTP.URL, "http://") && !strings.HasPrefix(c.HTTP.URL, "https://") {
			add("http.url must start with http:// or https://")
		}
	case SourceSocrata:
		s := c.Socrata
		switch {
		case s == nil:
			add("kind socrata needs a socrata block")
		default:
			if (s.Domain == "") == (s.BaseURL == "") {
				add("socrata needs exactly one of domain and base_url")
			}
			if !datasetID.MatchString(s.Dataset) {
				add("socrata.dataset %q is not a dataset id like abcd-1234", s.Dataset)
			}
			if s.PageSize < 0 || s.PageSize > 50000 {
				add("socrata.page_size must be between 1 and 50000")
			}
			if s.AppTokenEnv != "" && !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(s.AppTokenEnv) {
				add("socrata.app_token_env must be the name of an environment variable, not the token")
			}
		}
		if c.Format != "" && c.Format != FormatJSON {
			add("socrata sources are JSON")
		}
	default:
		add("kind must be file, http or socrata, not %q", c.Kind)
	}
	switch c.Format {
	case "", FormatCSV, FormatJSON:
	default:
		add("format must be csv or json")
	}
	if _, err := encodingByName(c.Encoding); err != nil {
		add("%v", err)
	}
	if _, err := delimiterByName(c.Delimiter); err != nil {
		add("%v", err)
	}
	if _, err := c.Numbers.format(); err != nil {
		add("%v", err)
	}
	if _, err := loadLocation(c.Dates.Timezone); err != nil {
		add("dates.timezone: %v", err)
	}
	for _, f := range c.Dates.Formats {
		if _, err := compileDateFormat(f); err != nil {
			add("dates.formats: %v", err)
		}
	}
	switch c.Mojibake {
	case "", "warn", "repair", "reject":
	default:
		add("mojibake must be warn, repair or reject")
	}
	switch c.Duplicates {
	case "", "reject", "off":
	default:
		add("duplicates must be reject or off")
	}
	if c.SkipLines < 0 || c.MaxFieldBytes < 0 || c.MaxRecordBytes < 0 || c.MaxTrackedKeys < 0 {
		add("skip_lines, max_field_bytes, max_record_bytes and max_tracked_keys cannot be negative")
	}
	if c.Header != nil && !*c.Header && len(c.Columns) == 0 && c.Format != FormatJSON && c.Kind != SourceSocrata {
		add("a file without header needs columns")
	}
	if schema != nil {
		targets := map[string]string{}
		for src, dst := range c.Mapping {
			if _, ok := schema.Field(dst); !ok {
				add("mapping %q: %q is not a field of %s", src, dst, c.Record)
			}
			if prev, dup := targets[foldHeader(src)]; dup {
				add("mapping: columns %q and %q are the same name once case and accents are ignored", prev, src)
			}
			targets[foldHeader(src)] = src
		}
		for _, col := range c.Columns {
			if col == "" || col == "-" {
				continue
			}
			if _, ok := schema.Field(col); !ok {
				add("columns: %q is not a field of %s", col, c.Record)
			}
		}
		for f := range c.Defaults {
			if _, ok := schema.Field(f); !ok {
				add("defaults: %q is not a field of %s", f, c.Record)
			}
		}
		for f, m := range c.Values {
			fd, ok := schema.Field(f)
			switch {
			case !ok:
				add("values: %q is not a field of %s", f, c.Record)
			case fd.Type != TypeEnum:
				add("values: %q is not an enumerated field", f)
			default:
				for k, v := range m {
					if !contains(fd.Allowed, v) {
						add("values.%s: %q maps to %q, which is not one of %s", f, k, v, strings.Join(fd.Allowed, ", "))
					}
				}
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("ingest: source %q: %s", c.Name, strings.Join(errs, "; "))
}

func (n NumbersConfig) format() (NumberFormat, error) {
	var f NumberFormat
	switch strings.ToLower(n.Decimal) {
	case "", "auto":
		if n.Thousands != "" && n.Thousands != "auto" {
			return f, fmt.Errorf("numbers.thousands needs an explicit numbers.decimal")
		}
		return f, nil
	case ".":
		f.Decimal = '.'
	case ",":
		f.Decimal = ','
	default:
		return f, fmt.Errorf("numbers.decimal must be \".\", \",\" or auto")
	}
	switch n.Thousands {
	case "", "none":
	case ".", ",", " ", "'":
		f.Thousands = n.Thousands[0]
	default:
		return f, fmt.Errorf("numbers.thousands must be \".\", \",\", \" \", \"'\" or none")
	}
	if f.Thousands == f.Decimal {
		return f, fmt.Errorf("numbers.decimal and numbers.thousands must differ")
	}
	return f, nil
}

func delimiterByName(s string) (byte, error) {
	switch s {
	case "", "auto":
		return 0, nil
	case ",", ";", "|":
		return s[0], nil
	case "\t", "tab", `\t`:
		return '\t', nil
	}
	return 0, fmt.Errorf("delimiter must be \",\", \";\", tab, \"|\" or auto, not %q", s)
}

// State is what a source remembers between runs; the ETL stores it after a
// successful load and passes it back with WithState.
type State struct {
	ETag         string `json:"etag,omitempty" yaml:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty" yaml:"last_modified,omitempty"`
	// Watermark is the largest Socrata :updated_at loaded.
	Watermark string `json:"watermark,omitempty" yaml:"watermark,omitempty"`
}
