package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// injectIntoHTML plays the attacker who got markup into the observatory's
// HTML past the escaping (a template bug, a proxy that rewrites bodies but
// not headers): it inserts markup before </body> of every HTML page the
// handler serves and leaves every header as the handler set it, the
// Content-Security-Policy included. seen gets each page's CSP.
func injectIntoHTML(h http.Handler, markup string, seen func(uri, csp string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Accept-Encoding") // a plain body to edit
		r.Header.Del("If-None-Match")   // and always a whole one
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		res := rec.Result()
		body := rec.Body.Bytes()
		if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			i := bytes.LastIndex(body, []byte("</body>"))
			if i < 0 {
				i = len(body)
			}
			body = slices.Concat(body[:i], []byte(markup), body[i:])
			seen(r.URL.RequestURI(), res.Header.Get("Content-Security-Policy"))
		}
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(res.StatusCode)
		w.Write(body)
	})
}

// recordViolations is evaluated in every document before its own scripts
// (by the browser's DevTools protocol, which the page's CSP does not
// govern): it keeps the CSP violations the document reports.
const recordViolations = `window.__violaciones = [];
document.addEventListener('securitypolicyviolation', e => window.__violaciones.push(
	{directiva: e.effectiveDirective, bloqueado: e.blockedURI, muestra: e.sample || ''}));`

// TestCSPBlocksInjectedScript is the last line of the XSS defences. The
// escaping is tried elsewhere (TestDashboardsInBrowser/xss with hostile
// names in the data, cmd/observatory's TestHostileNamesThroughTheETL from a
// source file to the HTML); this test supposes it failed. Markup with three
// ways to run script (an inline <script>, an inline event handler, a script
// from another site) is put into every kind of page the observatory serves,
// under the page's real CSP, in headless Chromium. None of it may run, the
// browser must report each as a CSP violation, no request may leave the
// observatory (the other site gets none), and the page's own
// scripts must still work. With the CSP
// bypassed (DevTools), the same markup runs all three ways: the injection
// reaches the browser, so the first half measures the CSP alone.
func TestCSPBlocksInjectedScript(t *testing.T) {
	bctx := browser(t)
	var stolen atomic.Int64 // requests the attacker's site received
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, "window.__inyectado = (window.__inyectado || []).concat('externo');")
	}))
	t.Cleanup(attacker.Close)
	markup := `<script>window.__inyectado = (window.__inyectado || []).concat('en-linea');</script>` +
		`<img alt="" src="data:image/png;base64,AAAA" onerror="window.__inyectado = (window.__inyectado || []).concat('atributo')">` +
		`<script src="` + attacker.URL + `/robar.js"></script>`
	var (
		mu   sync.Mutex
		csps = map[string]string{}
	)
	srv := httptest.NewServer(injectIntoHTML(dashHandler(t, Options{}), markup, func(uri, csp string) {
		mu.Lock()
		csps[uri] = csp
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	base := srv.URL

	// One page of each family: each sets its CSP in its own place (the
	// dashboards' pages, embed mode's variant, the server's default).
	pages := []struct {
		path   string
		charts bool
	}{
		{"/?municipio=68001&anio=2020", true},
		{"/tableros/recaudo?municipio=68001&anio=2020", true},
		{"/tableros/recaudo?municipio=68001&embed=1&grafico=vigencias", true},
		{"/datos", false},
		{"/datos/liquidaciones", false},
		{"/gobierno-en-linea", false},
		{"/gobierno-en-linea/entidades/25151", false},
		{"/calendario/68001/2026", false},
	}
	for _, bypass := range []bool{false, true} {
		mode := "con CSP"
		if bypass {
			mode = "sin CSP"
		}
		t.Run(mode, func(t *testing.T) {
			stolen.Store(0)
			tb := newTab(t, bctx)
			tb.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				if _, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: recordViolations}); err != nil {
					return err
				}
				_, err := cdp.Call(ctx, tg, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: bypass})
				return err
			}))
			for _, p := range pages {
				tb.do(chromedp.Navigate(base + p.path))
				poll(tb, `document.readyState === 'complete'`, p.path)
				if p.charts {
					tb.chartsReady() // the page's own scripts work under its CSP
				}
				if bypass {
					// Control: the markup reached the browser and runs all
					// three ways once nothing stops it.
					poll(tb, `(window.__inyectado || []).length === 3`, "el código inyectado en "+p.path)
					ran := eval[[]string](tb, `window.__inyectado.slice().sort()`)
					if fmt.Sprint(ran) != "[atributo en-linea externo]" {
						t.Errorf("%s sin CSP: se ejecutó %v", p.path, ran)
					}
					for _, pr := range tb.takeProblems() {
						if !favicon(pr) {
							t.Errorf("%s sin CSP: error en la consola: %s", p.path, pr)
						}
					}
					continue
				}
				// Each of the three is refused and reported: the inline
				// script and the third-party one by script-src-elem, the
				// handler by script-src-attr.
				poll(tb, `window.__violaciones.length >= 3 || window.__inyectado !== undefined`, "las violaciones de CSP en "+p.path)
				got := eval[map[string]any](tb, `({ran: typeof window.__inyectado, v: window.__violaciones.map(v => v.directiva + ' ' + v.bloqueado + ' ' + v.muestra)})`)
				if got["ran"] != "undefined" {
					t.Errorf("%s: ¡se ejecutó el código inyectado! window.__inyectado = %v", p.path, got["ran"])
				}
				var vs []string
				for _, v := range got["v"].([]any) {
					vs = append(vs, v.(string))
				}
				want := []string{"script-src-elem inline ", "script-src-attr inline ", "script-src-elem " + attacker.URL + "/robar.js"}
				for _, w := range want {
					found := false
					for _, v := range vs {
						found = found || strings.HasPrefix(v, w)
					}
					if !found {
						t.Errorf("%s: falta la violación %q; informadas: %q", p.path, w, vs)
					}
				}
				if len(vs) != len(want) {
					t.Errorf("%s: %d violaciones, se esperaban %d: %q", p.path, len(vs), len(want), vs)
				}
				// The console says so too, and says nothing else.
				refused := 0
				for _, pr := range tb.takeProblems() {
					switch {
					case strings.Contains(pr, "Content Security Policy"):
						refused++
					case favicon(pr):
					default:
						t.Errorf("%s: error en la consola: %s", p.path, pr)
					}
				}
				if refused == 0 {
					t.Errorf("%s: la consola no informó la violación de CSP", p.path)
				}
				mu.Lock()
				csp, served := csps[p.path]
				mu.Unlock()
				if !served {
					t.Errorf("%s: la página no pasó por la inyección", p.path)
				} else if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
					t.Errorf("%s: CSP %q", p.path, csp)
				}
			}
			// Chromium announces the blocked request to DevTools before
			// refusing it; what counts is whether it reached the other site.
			if n := stolen.Load(); !bypass && n > 0 {
				t.Errorf("con CSP, el sitio del atacante recibió %d solicitudes", n)
			} else if bypass && n == 0 {
				t.Error("sin CSP, el script del atacante no se pidió: la prueba no mide nada")
			}
		})
	}
}

// favicon says whether a console problem is Chromium asking for
// /favicon.ico on a page that names no icon (the datasets' pages).
func favicon(problem string) bool { return strings.HasSuffix(problem, "/favicon.ico") }
