package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HTTPError is an HTTP request that failed for good: a status that is not
// retried (4xx other than 429), or the last of the retries.
type HTTPError struct {
	URL      string
	Status   int    // 0 when no response arrived
	Message  string // server's message (Socrata's JSON "message"), or the cause
	Attempts int
	Err      error
}

func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s", e.URL)
	if e.Status > 0 {
		fmt.Fprintf(&b, ": %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (%d intentos)", e.Attempts)
	}
	if e.Err != nil && e.Message == "" {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *HTTPError) Unwrap() error { return e.Err }

// TimeoutError is a request that took longer than its timeout, or a body
// that stopped sending data for longer than the stall timeout.
type TimeoutError struct {
	What  string // "respuesta", "página", "datos"
	Limit time.Duration
}

func (e *TimeoutError) Error() string {
	if e.What == "datos" {
		return fmt.Sprintf("el servidor dejó de enviar datos durante %s (stall_timeout)", e.Limit)
	}
	return fmt.Sprintf("tiempo de espera agotado: sin %s completa en %s (timeout)", e.What, e.Limit)
}

// Timeout reports true, like net.Error.
func (e *TimeoutError) Timeout() bool { return true }

type reqSettings struct {
	timeout, stall, backoffMin, backoffMax, maxRetryAfter time.Duration
	retries                                               int
	userAgent                                             string
}

func requestSettings(c RequestConfig) reqSettings {
	s := reqSettings{timeout: time.Duration(c.Timeout), stall: time.Duration(c.StallTimeout),
		backoffMin: time.Duration(c.BackoffMin), backoffMax: time.Duration(c.BackoffMax),
		maxRetryAfter: time.Duration(c.MaxRetryAfter), retries: c.Retries, userAgent: c.UserAgent}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&s.timeout, 60*time.Second)
	def(&s.stall, 30*time.Second)
	def(&s.backoffMin, 500*time.Millisecond)
	def(&s.backoffMax, 30*time.Second)
	def(&s.maxRetryAfter, 5*time.Minute)
	switch {
	case c.Retries == 0:
		s.retries = 4
	case c.Retries < 0:
		s.retries = 0
	}
	if s.userAgent == "" {
		s.userAgent = "observatorio-ingest/1 (+https://github.com/observatorio-civico/observatorio)"
	}
	return s
}

// fetcher performs GET requests with timeouts, retries and backoff.
type fetcher struct {
	client *http.Client
	s      reqSettings
	log    *slog.Logger
	sleep  func(ctx context.Context, d time.Duration) error // replaced in tests
	jitter func() float64
}

func newFetcher(c *http.Client, s reqSettings, log *slog.Logger) *fetcher {
	if c == nil {
		c = http.DefaultClient
	}
	return &fetcher{client: c, s: s, log: log, sleep: sleepCtx, jitter: rand.Float64}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// fetched is a successful (2xx or 304) response. With whole, Body holds
// the complete body; otherwise Stream must be read and closed.
type fetched struct {
	Status   int
	Header   http.Header
	Body     []byte
	Stream   io.ReadCloser
	Attempts int
}

// get fetches url. With whole the body is read completely inside the
// retry loop (a connection cut in the middle of the body is retried) and
// under the request timeout; otherwise the timeout covers the headers and
// the body is guarded by the stall timeout only. maxBytes caps a whole body.
func (f *fetcher) get(ctx context.Context, url string, hdr http.Header, whole bool, maxBytes int64) (*fetched, error) {
	var last *HTTPError
	attempts := 1 + f.s.retries
	for a := 1; a <= attempts; a++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res, retryAfter, err := f.once(ctx, url, hdr, whole, maxBytes)
		if err == nil {
			res.Attempts = a
			return res, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var he *HTTPError
		if !errors.As(err, &he) {
			he = &HTTPError{URL: url, Err: err}
		}
		he.Attempts = a
		last = he
		if !retryable(he) || a == attempts {
			break
		}
		wait := f.backoff(a)
		if retryAfter > 0 {
			if retryAfter > f.s.maxRetryAfter {
				he.Message = fmt.Sprintf("%s; el servidor pide esperar %s (Retry-After), más que max_retry_after (%s)",
					he.Message, retryAfter, f.s.maxRetryAfter)
				break
			}
			wait = retryAfter
		}
		if f.log != nil {
			f.log.Warn("ingest: retrying request", "url", url, "attempt", a, "status", he.Status, "wait", wait, "error", he)
		}
		if err := f.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
	return nil, last
}

func retryable(e *HTTPError) bool {
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// backoff is exponential with "equal jitter": half the step fixed, half random.
func (f *fetcher) backoff(attempt int) time.Duration {
	d := f.s.backoffMin << min(attempt-1, 20)
	if d > f.s.backoffMax || d <= 0 {
		d = f.s.backoffMax
	}
	return d/2 + time.Duration(f.jitter()*float64(d/2))
}

// once performs one attempt.
func (f *fetcher) once(parent context.Context, url string, hdr http.Header, whole bool, maxBytes int64) (*fetched, time.Duration, error) {
	ctx, cancel := context.WithCancelCause(parent)
	what := "respuesta"
	if whole {
		what = "página"
	}
	timer := time.AfterFunc(f.s.timeout, func() { cancel(&TimeoutError{What: what, Limit: f.s.timeout}) })
	fail := func(err error) (*fetched, time.Duration, error) {
		timer.Stop()
		var te *TimeoutError
		if c := context.Cause(ctx); errors.As(c, &te) {
			err = te // report the timeout, not "context canceled"
		}
		cancel(nil)
		return nil, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		timer.Stop()
		cancel(nil)
		return nil, 0, &HTTPError{URL: url, Err: err, Status: -1}
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", f.s.userAgent)
	resp, err := f.client.Do(req)
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode == http.StatusNotModified {
		timer.Stop()
		_ = resp.Body.Close()
		cancel(nil)
		return &fetched{Status: resp.StatusCode, Header: resp.Header}, 0, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		_ = resp.Body.Close()
		timer.Stop()
		cancel(nil)
		return nil, retryAfter(resp.Header.Get("Retry-After")), &HTTPError{URL: url, Status: resp.StatusCode, Message: serverMessage(b)}
	}
	body := newGuardedBody(ctx, cancel, resp.Body, f.s.stall)
	if !whole {
		timer.Stop()
		return &fetched{Status: resp.StatusCode, Header: resp.Header, Stream: body}, 0, nil
	}
	b, err := io.ReadAll(io.LimitReader(body, maxBytes+1))
	if err != nil {
		_ = body.Close()
		return fail(fmt.Errorf("respuesta cortada después de %d bytes: %w", len(b), err))
	}
	timer.Stop()
	_ = body.Close()
	if int64(len(b)) > maxBytes {
		return nil, 0, &HTTPError{URL: url, Status: -1, Message: fmt.Sprintf("la respuesta pasa de %d bytes (max_page_bytes)", maxBytes)}
	}
	return &fetched{Status: resp.StatusCode, Header: resp.Header, Body: b}, 0, nil
}

// guardedBody cancels the request when no byte arrives for stall, and
// reports the cause instead of "context canceled".
type guardedBody struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	rc     io.ReadCloser
	stall  time.Duration
	timer  *time.Timer
}

func newGuardedBody(ctx context.Context, cancel context.CancelCauseFunc, rc io.ReadCloser, stall time.Duration) *guardedBody {
	g := &guardedBody{ctx: ctx, cancel: cancel, rc: rc, stall: stall}
	g.timer = time.AfterFunc(stall, func() { cancel(&TimeoutError{What: "datos", Limit: stall}) })
	return g
}

func (g *guardedBody) Read(p []byte) (int, error) {
	n, err := g.rc.Read(p)
	if n > 0 {
		g.timer.Reset(g.stall)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		var te *TimeoutError
		if c := context.Cause(g.ctx); errors.As(c, &te) {
			err = te
		}
	}
	return n, err
}

func (g *guardedBody) Close() error {
	g.timer.Stop()
	err := g.rc.Close()
	g.cancel(nil)
	return err
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		if s == 0 {
			return time.Millisecond
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
		return time.Millisecond
	}
	return 0
}

// serverMessage extracts a readable message from an error body: Socrata's
// {"message": ..., "error": true}, else the text itself.
func serverMessage(b []byte) string {
	var m struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	}
	if json.Unmarshal(b, &m) == nil && m.Message != "" {
		if m.Code != "" {
			return m.Message + " (" + m.Code + ")"
		}
		return m.Message
	}
	return capText(string(bytes.TrimSpace(b)), 300)
}
