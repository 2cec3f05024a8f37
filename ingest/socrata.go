package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// socrataSource pages through a SODA 2 resource:
//
//	GET {base}/resource/{dataset}.json?$limit=N&$offset=K&$order=:updated_at,:id[&$where=...][&$select=:*,*]
//
// with X-App-Token when configured. Each page is fetched whole (retried on
// network errors, 429 and 5xx) before any of its rows is handed over, so a
// connection cut in the middle of a page never yields half a page. Paging
// stops at the first page shorter than $limit.
type socrataSource struct {
	rt      *compiled
	f       *fetcher
	resURL  string
	token   string
	limit   int
	order   string
	where   string
	sel     string
	maxPage int64

	offset int
	page   int
	last   *jsonPart
	done   bool
	inf    *PartInfo
	prevWM string
	wm     string
}

const socrataWatch = ":updated_at"

func newSocrataSource(rt *compiled, o *options) (*socrataSource, error) {
	c := rt.cfg.Socrata
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		base = "https://" + strings.TrimRight(c.Domain, "/")
	}
	s := &socrataSource{rt: rt, f: newFetcher(o.client, requestSettings(rt.cfg.Request), o.log),
		resURL: base + "/resource/" + c.Dataset + ".json", limit: c.PageSize, order: c.Order,
		maxPage: c.MaxPageBytes, prevWM: o.state.Watermark}
	if o.fetchHook != nil {
		o.fetchHook(s.f)
	}
	if s.limit == 0 {
		s.limit = 1000
	}
	if s.order == "" {
		s.order = ":updated_at,:id"
	}
	if s.maxPage == 0 {
		s.maxPage = 256 << 20
	}
	if c.AppTokenEnv != "" {
		s.token = o.getenv(c.AppTokenEnv)
		if s.token == "" && o.log != nil {
			o.log.Warn("ingest: Socrata app token variable is empty; requests will be throttled", "source", rt.cfg.Name, "env", c.AppTokenEnv)
		}
	}
	s.where = c.Where
	if c.Incremental {
		s.sel = ":*, *"
		if s.prevWM != "" {
			w := fmt.Sprintf("%s > '%s'", socrataWatch, soqlTimestamp(s.prevWM))
			if s.where != "" {
				w += " AND (" + s.where + ")"
			}
			s.where = w
		}
	}
	s.inf = &PartInfo{Name: s.resURL}
	return s, nil
}

// soqlTimestamp writes a watermark as a SoQL floating timestamp literal
// (UTC, no zone), escaping quotes.
func soqlTimestamp(v string) string {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Format("2006-01-02T15:04:05.000")
		}
	}
	return strings.ReplaceAll(v, "'", "''")
}

func (s *socrataSource) next(ctx context.Context) (part, error) {
	if s.last != nil {
		if s.last.watchMax > s.wm {
			s.wm = s.last.watchMax
		}
		if s.last.index < s.limit {
			s.done = true
		}
		s.last = nil
	}
	if s.done {
		return nil, io.EOF
	}
	s.page++
	q := url.Values{}
	q.Set("$limit", strconv.Itoa(s.limit))
	q.Set("$offset", strconv.Itoa(s.offset))
	q.Set("$order", s.order)
	if s.where != "" {
		q.Set("$where", s.where)
	}
	if s.sel != "" {
		q.Set("$select", s.sel)
	}
	hdr := http.Header{}
	hdr.Set("Accept", "application/json")
	if s.token != "" {
		hdr.Set("X-App-Token", s.token)
	}
	res, err := s.f.get(ctx, s.resURL+"?"+q.Encode(), hdr, true, s.maxPage)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &SourceError{Source: s.rt.cfg.Name, File: s.resURL, Code: CodeHTTP,
			Reason: fmt.Sprintf("no se pudo leer la página %d (offset %d) del conjunto de datos", s.page, s.offset), Err: err}
	}
	if s.page == 1 {
		if err := s.checkFields(res.Header); err != nil {
			return nil, err
		}
	}
	s.inf.Pages++
	p, err := openJSONPart(s.rt, s.resURL, io.NopCloser(bytes.NewReader(res.Body)), s.inf)
	if err != nil {
		return nil, err
	}
	p.page, p.base, p.scp, p.watch = s.page, s.offset, s.resURL, socrataWatch
	s.offset += s.limit
	s.last = p
	return p, nil
}

// checkFields reads X-SODA2-Fields and X-SODA2-Types (JSON arrays) and
// fails when a required field has no column in the dataset and no
// default. Socrata omits the headers for very wide datasets; then nothing
// is checked here and missing values are rejected row by row.
func (s *socrataSource) checkFields(h http.Header) error {
	var fields, types []string
	if v := h.Get("X-SODA2-Fields"); v != "" {
		_ = json.Unmarshal([]byte(v), &fields)
	}
	if v := h.Get("X-SODA2-Types"); v != "" {
		_ = json.Unmarshal([]byte(v), &types)
	}
	s.inf.Columns, s.inf.Types = fields, types
	if len(fields) == 0 {
		return nil
	}
	have := map[int]bool{}
	for _, f := range fields {
		if i, ok := s.rt.mapping[foldHeader(f)]; ok {
			have[i] = true
		}
	}
	var missing []string
	for i, f := range s.rt.schema.Fields {
		if have[i] || s.rt.defaults[i] != "" {
			continue
		}
		if f.Required {
			missing = append(missing, f.Name)
		} else {
			s.inf.Absent = append(s.inf.Absent, f.Name)
		}
	}
	if len(missing) > 0 {
		return &SourceError{Source: s.rt.cfg.Name, File: s.resURL, Code: CodeSocrataFields,
			Reason: fmt.Sprintf("el conjunto de datos no tiene columnas para los campos obligatorios %s (columnas: %s)",
				strings.Join(missing, ", "), strings.Join(fields, ", "))}
	}
	return nil
}

func (s *socrataSource) state() State {
	st := State{Watermark: s.prevWM}
	if s.wm > st.Watermark {
		st.Watermark = s.wm
	}
	return st
}

func (s *socrataSource) close() error { return nil }
