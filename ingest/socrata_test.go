package ingest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// bikeCounts maps the recorded sodapy pages (bicycle counts) onto GEL
// measurements: the point is the paging, not the domain.
func bikeCounts(base string) SourceConfig {
	return SourceConfig{
		Name: "bike-counts", Kind: SourceSocrata, Record: KindGEL,
		Socrata: &SocrataConfig{BaseURL: base, Dataset: "abcd-1234", AppTokenEnv: "TEST_SODA_TOKEN", PageSize: 1000},
		Mapping: map[string]string{"id": "criterion", "date": "measured_on", "counts": "value", "status": "source"},
		Defaults: map[string]string{"framework": "bike-counts", "phase": "conteo", "entity_code": "05001",
			"unit": "score"},
		Duplicates: "off",
		Request:    RequestConfig{Timeout: Duration(5 * time.Second), BackoffMin: Duration(time.Millisecond), BackoffMax: Duration(5 * time.Millisecond)},
	}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../reference/socrata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sodaHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("X-SODA2-Fields", `["id","date","counts","status"]`)
	w.Header().Set("X-SODA2-Types", `["text","floating_timestamp","number","text"]`)
}

type seenRequest struct {
	query map[string]string
	token string
}

// replayServer serves page 1 for $offset=0 and page 2 for $offset=1000.
func replayServer(t *testing.T, page1, page2 []byte, seen *[]seenRequest, mu *sync.Mutex) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/resource/abcd-1234.json" {
			http.NotFound(w, r)
			return
		}
		q := map[string]string{}
		for k, v := range r.URL.Query() {
			q[k] = v[0]
		}
		mu.Lock()
		*seen = append(*seen, seenRequest{query: q, token: r.Header.Get("X-App-Token")})
		mu.Unlock()
		sodaHeaders(w)
		switch q["$offset"] {
		case "0":
			_, _ = w.Write(page1)
		case "1000":
			_, _ = w.Write(page2)
		default:
			_, _ = w.Write([]byte("[]"))
		}
	}))
}

func collectGEL(t *testing.T, st *Stream) ([]GELMeasurement, []Reject, error) {
	t.Helper()
	var recs []GELMeasurement
	var rejs []Reject
	err := EachOf(context.Background(), st, func(r []GELMeasurement, j []Reject) error {
		recs = append(recs, r...)
		rejs = append(rejs, j...)
		return nil
	})
	return recs, rejs, err
}

func TestSocrataReplay(t *testing.T) {
	var seen []seenRequest
	var mu sync.Mutex
	srv := replayServer(t, fixture(t, "bike_counts_page_1.json"), fixture(t, "bike_counts_page_2.json"), &seen, &mu)
	defer srv.Close()

	cfg := bikeCounts(srv.URL)
	cfg.Socrata.Incremental = true
	env := func(k string) string {
		if k == "TEST_SODA_TOKEN" {
			return "tok-123"
		}
		return ""
	}
	st, err := Open(context.Background(), cfg, WithGetenv(env), WithState(State{Watermark: "2016-01-01T00:00:00.000Z"}))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, rejs, err := collectGEL(t, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejs) != 0 || len(recs) != 1001 {
		t.Fatalf("%d records, %d rejects (first: %v)", len(recs), len(rejs), rejs)
	}
	first, last := recs[0], recs[1000]
	if first.Criterion != "100009424" || first.MeasuredOn.String() != "2016-09-21" || first.Value.String() != "100" ||
		first.Unit != "score" || first.Source != "0" || first.Framework != "bike-counts" {
		t.Errorf("first %+v", first)
	}
	if first.Origin.Page != 1 || first.Origin.Index != 1 || last.Origin.Page != 2 || last.Origin.Index != 1 ||
		last.Value.String() != "3" || last.MeasuredOn.String() != "2016-10-02" || last.Origin.Row != 1001 {
		t.Errorf("origins %+v / %+v", first.Origin, last.Origin)
	}
	if len(seen) != 2 {
		t.Fatalf("%d requests, want 2 (the second page is short)", len(seen))
	}
	for i, s := range seen {
		q := s.query
		if q["$limit"] != "1000" || q["$offset"] != strconv.Itoa(1000*i) || q["$order"] != ":updated_at,:id" ||
			q["$where"] != ":updated_at > '2016-01-01T00:00:00.000'" || q["$select"] != ":*, *" {
			t.Errorf("request %d query %v", i, q)
		}
		if s.token != "tok-123" {
			t.Errorf("request %d token %q", i, s.token)
		}
	}
	stats := st.Stats()
	if p := stats.Parts[0]; p.Pages != 2 || strings.Join(p.Columns, ",") != "id,date,counts,status" ||
		strings.Join(p.Types, ",") != "text,floating_timestamp,number,text" || p.Rows != 1001 {
		t.Errorf("part %+v", p)
	}
	if stats.Read != 1001 || stats.Records != 1001 {
		t.Errorf("stats %+v", stats)
	}
	if st.State().Watermark != "2016-01-01T00:00:00.000Z" {
		t.Errorf("watermark moved without :updated_at in the rows: %q", st.State().Watermark)
	}
}

func TestSocrataWatermarkAndNoToken(t *testing.T) {
	rows := []string{
		`{":id":"row-a",":updated_at":"2024-05-01T10:00:00.000Z","id":"A","date":"2024-05-01T00:00:00.000","counts":"1","status":"0"}`,
		`{":id":"row-b",":updated_at":"2024-05-03T08:00:00.000Z","id":"B","date":"2024-05-01T00:00:00.000","counts":"2","status":"0"}`,
		`{":id":"row-c",":updated_at":"2024-05-02T09:00:00.000Z","id":"C","date":"2024-05-01T00:00:00.000","counts":"3","status":"0"}`,
	}
	var tokens []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokens = append(tokens, r.Header.Get("X-App-Token"))
		off, _ := strconv.Atoi(r.URL.Query().Get("$offset"))
		lim, _ := strconv.Atoi(r.URL.Query().Get("$limit"))
		sodaHeaders(w)
		end := min(off+lim, len(rows))
		_, _ = w.Write([]byte("[" + strings.Join(rows[min(off, end):end], ",") + "]"))
	}))
	defer srv.Close()
	cfg := bikeCounts(srv.URL)
	cfg.Socrata.PageSize = 2
	cfg.Socrata.Incremental = true
	st, err := Open(context.Background(), cfg, WithGetenv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := collectGEL(t, st)
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d records, err %v", len(recs), err)
	}
	if got := st.State().Watermark; got != "2024-05-03T08:00:00.000Z" {
		t.Errorf("watermark %q", got)
	}
	if len(tokens) != 2 || tokens[0] != "" {
		t.Errorf("tokens %q", tokens)
	}
	if p := st.Stats().Parts[0]; strings.Join(p.Ignored, ",") != ":id,:updated_at" {
		t.Errorf("ignored %v", p.Ignored)
	}
}

// cutServer sends half of page 1 and drops the connection the first
// `cuts` times it is asked for offset 0 (and always for offset 1000 when
// cutPage2 is set).
func cutServer(t *testing.T, page1, page2 []byte, cuts int, cutPage2 bool, calls *int) *httptest.Server {
	var mu sync.Mutex
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*calls++
		mu.Unlock()
		body := page1
		cut := false
		if r.URL.Query().Get("$offset") == "1000" {
			body, cut = page2, cutPage2
		} else {
			mu.Lock()
			if cuts > 0 {
				cuts--
				cut = true
			}
			mu.Unlock()
		}
		sodaHeaders(w)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		if !cut {
			_, _ = w.Write(body)
			return
		}
		_, _ = w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drop the connection in the middle of the body
	}))
}

func TestSocrataConnectionCutMidPage(t *testing.T) {
	page1, page2 := fixture(t, "bike_counts_page_1.json"), fixture(t, "bike_counts_page_2.json")

	t.Run("retried", func(t *testing.T) {
		calls := 0
		srv := cutServer(t, page1, page2, 1, false, &calls)
		defer srv.Close()
		st, err := Open(context.Background(), bikeCounts(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		recs, _, err := collectGEL(t, st)
		if err != nil || len(recs) != 1001 || calls != 3 {
			t.Fatalf("records %d, calls %d, err %v", len(recs), calls, err)
		}
	})

	t.Run("gives up", func(t *testing.T) {
		calls := 0
		srv := cutServer(t, page1, page2, 0, true, &calls)
		defer srv.Close()
		cfg := bikeCounts(srv.URL)
		cfg.Socrata.PageSize = 1000
		cfg.Request.Retries = 2
		st, err := Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		recs, _, err := collectGEL(t, st)
		var se *SourceError
		if !errors.As(err, &se) || se.Code != CodeHTTP || !strings.Contains(se.Reason, "página 2 (offset 1000)") ||
			!strings.Contains(err.Error(), "unexpected EOF") {
			t.Fatalf("err = %v", err)
		}
		// page 1 was handed over whole, nothing of the broken page 2
		if len(recs) != 1000 || calls != 1+3 {
			t.Fatalf("records %d, calls %d", len(recs), calls)
		}
	})
}

func TestSocrataRetry429Then500ThenOK(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		switch n {
		case 1:
			w.Header().Set("Retry-After", "7")
			http.Error(w, `{"message":"Too many requests","error":true}`, http.StatusTooManyRequests)
		case 2:
			http.Error(w, "upstream exploded", http.StatusInternalServerError)
		default:
			sodaHeaders(w)
			_, _ = w.Write(fixture(t, "bike_counts_page_2.json"))
		}
	}))
	defer srv.Close()
	var waits []time.Duration
	record := func(o *options) {
		o.fetchHook = func(f *fetcher) {
			f.sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
		}
	}
	cfg := bikeCounts(srv.URL)
	cfg.Request.BackoffMin = Duration(100 * time.Millisecond)
	cfg.Request.BackoffMax = Duration(time.Second)
	st, err := Open(context.Background(), cfg, record)
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := collectGEL(t, st)
	if err != nil || len(recs) != 1 || calls != 3 {
		t.Fatalf("records %d calls %d err %v", len(recs), calls, err)
	}
	if len(waits) != 2 || waits[0] != 7*time.Second {
		t.Fatalf("waits %v: the 429 must wait Retry-After (7s)", waits)
	}
	// second retry: step 200ms, equal jitter → between 100ms and 200ms
	if waits[1] < 100*time.Millisecond || waits[1] > 200*time.Millisecond {
		t.Errorf("backoff after the 500: %v", waits[1])
	}
}

func TestSocrataRetryAfterTooLong(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	_, err := Open(context.Background(), bikeCounts(srv.URL))
	if err == nil || !strings.Contains(err.Error(), "Retry-After") || !strings.Contains(err.Error(), "429") {
		t.Fatalf("err = %v", err)
	}
}

func TestSocrataStall(t *testing.T) {
	t.Run("no headers", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}))
		defer srv.Close()
		cfg := bikeCounts(srv.URL)
		cfg.Request.Timeout = Duration(150 * time.Millisecond)
		cfg.Request.Retries = 1
		start := time.Now()
		_, err := Open(context.Background(), cfg)
		var te *TimeoutError
		if !errors.As(err, &te) || !strings.Contains(err.Error(), "tiempo de espera agotado") || !strings.Contains(err.Error(), "2 intentos") {
			t.Fatalf("err = %v", err)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("took %v", time.Since(start))
		}
	})
	t.Run("body stalls", func(t *testing.T) {
		page1 := fixture(t, "bike_counts_page_1.json")
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sodaHeaders(w)
			w.Header().Set("Content-Length", strconv.Itoa(len(page1)))
			_, _ = w.Write(page1[:100])
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}))
		defer srv.Close()
		cfg := bikeCounts(srv.URL)
		cfg.Request.StallTimeout = Duration(150 * time.Millisecond)
		cfg.Request.Retries = -1
		_, err := Open(context.Background(), cfg)
		var te *TimeoutError
		if !errors.As(err, &te) || te.What != "datos" || !strings.Contains(err.Error(), "dejó de enviar datos") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSocrata403(t *testing.T) {
	body := fixture(t, "403_response_json.txt")
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	_, err := Open(context.Background(), bikeCounts(srv.URL))
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 403 || he.Message != "You must be logged in to access this resource" {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "403 Forbidden") || !strings.Contains(msg, "bike-counts") || !strings.Contains(msg, "abcd-1234") || calls != 1 {
		t.Fatalf("message %q, calls %d", msg, calls)
	}
}

func TestSocrataMissingField(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sodaHeaders(w)
		_, _ = w.Write(fixture(t, "bike_counts_page_2.json"))
	}))
	defer srv.Close()
	cfg := bikeCounts(srv.URL)
	delete(cfg.Mapping, "counts") // value is required
	_, err := Open(context.Background(), cfg)
	var se *SourceError
	if !errors.As(err, &se) || se.Code != CodeSocrataFields || !strings.Contains(se.Reason, "value") {
		t.Fatalf("err = %v", err)
	}
}

func TestSocrataContextCancel(t *testing.T) {
	var seen []seenRequest
	var mu sync.Mutex
	srv := replayServer(t, fixture(t, "bike_counts_page_1.json"), fixture(t, "bike_counts_page_2.json"), &seen, &mu)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := Open(ctx, bikeCounts(srv.URL), WithBatchSize(100))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = st.Each(ctx, func(recs []Record, _ []Reject) error {
		n += len(recs)
		if n >= 200 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n >= 1001 {
		t.Fatalf("err %v after %d records", err, n)
	}
}
