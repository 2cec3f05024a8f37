package main

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const userAgent = "observatorio-loadtest/1"

// loadClient is the clients' HTTP client: keep-alive connections (one per
// client at most), no redirects followed (a 3xx is an answer), and no
// transparent decompression, so that the bytes counted are the bytes sent.
func loadClient(clients int) *http.Client {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          2 * clients,
		MaxIdleConnsPerHost:   2 * clients,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 0, // the per-request timeout bounds everything
		DisableCompression:    true,
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// runOptions configure a load run.
type runOptions struct {
	base     string
	clients  int
	duration time.Duration
	timeout  time.Duration // per request
	mix      map[string]int
	seed     uint64
	// ownAddress has each client present its own address in
	// X-Forwarded-For (clientAddress), as the readers of a public site come
	// from many; the observatory believes it from a trusted proxy (by
	// default, loopback). Without it every client is one address.
	ownAddress bool
	// done counts the requests finished so far (read by the memory sampler).
	done *atomic.Int64
}

// results are a run's records by class.
type results struct {
	elapsed time.Duration
	classes map[string]*classRec
}

// run has o.clients clients ask for the plan's targets, each client one
// request at a time with no pause (a closed loop), until o.duration has
// passed; requests in flight then finish and count. Each client picks a
// class by the weights of the mix and a target of the class at random; an
// API target is a walk of its pages, following "siguiente".
func run(ctx context.Context, hc *http.Client, p *plan, o runOptions) *results {
	var classes []string
	var weights []int
	total := 0
	for _, c := range classOrder {
		if w := o.mix[c]; w > 0 && len(p.targets[c]) > 0 {
			classes, weights = append(classes, c), append(weights, w)
			total += w
		}
	}
	base := strings.TrimSuffix(o.base, "/")
	start := time.Now()
	deadline := start.Add(o.duration)
	perClient := make([]map[string]*classRec, o.clients)
	var wg sync.WaitGroup
	for i := range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(o.seed, uint64(i)))
			addr := ""
			if o.ownAddress {
				addr = clientAddress(i)
			}
			recs := map[string]*classRec{}
			perClient[i] = recs
			if total == 0 {
				return
			}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				n := rng.IntN(total)
				k := 0
				for n >= weights[k] {
					n -= weights[k]
					k++
				}
				class := classes[k]
				ts := p.targets[class]
				t := ts[rng.IntN(len(ts))]
				rec := recs[class]
				if rec == nil {
					rec = newClassRec()
					recs[class] = rec
				}
				u := base + t.path
				for page := 0; u != "" && page < max(t.follow, 1) && time.Now().Before(deadline); page++ {
					r := fetch(ctx, hc, u, addr, class == classAPI, o.timeout)
					if ctx.Err() != nil {
						return // interrupted: the request did not fail
					}
					rec.add(r.took, r.bytes, r.status, r.retryAfter, r.err, u)
					if r.err == nil && ok(r.status) && r.bytes >= bigResponse && (class == classFiles || class == classExports) {
						rec.rates = append(rec.rates, float64(r.bytes)/r.took.Seconds())
					}
					if o.done != nil {
						o.done.Add(1)
					}
					u = r.next
				}
			}
		}()
	}
	wg.Wait()
	res := &results{elapsed: time.Since(start), classes: map[string]*classRec{}}
	for _, recs := range perClient {
		for c, r := range recs {
			if res.classes[c] == nil {
				res.classes[c] = newClassRec()
			}
			res.classes[c].merge(r)
		}
	}
	return res
}

// bigResponse is the size from which a download's own rate is noted: a
// small file's rate says more about the latency than about the bytes.
const bigResponse = 1 << 20

// response is one measured request.
type response struct {
	took   time.Duration // to the last byte of the body
	bytes  int64         // on the wire
	status int
	next   string // the API's next page, when asked for
	err    error
	// retryAfter is the Retry-After header (a refusal by a limit: 429, 503).
	retryAfter string
}

// clientAddress is client i's address, in 198.18.0.0/15, the block set
// aside for benchmarks (RFC 2544): 198.18.0.1, 198.18.0.2, …
func clientAddress(i int) string {
	n := i + 1
	return fmt.Sprintf("198.%d.%d.%d", 18+n>>16&1, n>>8&0xff, n&0xff)
}

// fetch GETs a URL as a browser would (gzip accepted), reads the whole
// body and, for the API, its link to the next page. addr, when set, is
// the client's address for X-Forwarded-For.
func fetch(ctx context.Context, hc *http.Client, u, addr string, parseNext bool, timeout time.Duration) response {
	rctx, cancel := context.WithTimeoutCause(ctx, timeout, errTimeout)
	defer cancel()
	var r response
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u, nil)
	if err != nil {
		r.err = err
		return r
	}
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("User-Agent", userAgent)
	if addr != "" {
		req.Header.Set("X-Forwarded-For", addr)
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		r.took, r.err = time.Since(start), timeoutCause(rctx, err)
		return r
	}
	r.status = resp.StatusCode
	r.retryAfter = resp.Header.Get("Retry-After")
	body := &countingReader{r: resp.Body}
	if parseNext && resp.StatusCode == http.StatusOK {
		r.next, err = nextPage(body, resp.Header.Get("Content-Encoding") == "gzip")
		if err == nil {
			_, err = io.Copy(io.Discard, body)
		}
	} else {
		_, err = io.Copy(io.Discard, body)
	}
	resp.Body.Close()
	r.took, r.bytes = time.Since(start), body.n
	if err != nil {
		r.err = timeoutCause(rctx, err)
	}
	return r
}

func timeoutCause(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), errTimeout) {
		return errTimeout
	}
	return err
}

// nextPage reads an API page's "siguiente" (null on the last page).
func nextPage(r io.Reader, gzipped bool) (string, error) {
	if gzipped {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return "", err
		}
		defer gz.Close()
		r = gz
	}
	var page struct {
		Next *string `json:"siguiente"`
	}
	if err := json.NewDecoder(r).Decode(&page); err != nil {
		return "", err
	}
	if page.Next == nil {
		return "", nil
	}
	return *page.Next, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
