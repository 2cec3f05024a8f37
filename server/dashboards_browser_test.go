package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/observatorio-civico/observatorio/dashboards/dashtest"
)

// chromiumPath finds Debian's chromium (or the browser named by
// OBSERVATORIO_CHROMIUM); the browser tests skip without one.
func chromiumPath(t *testing.T) string {
	t.Helper()
	cands := []string{os.Getenv("OBSERVATORIO_CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	t.Skip("pruebas de navegador omitidas: no se encontró chromium (apt-get install chromium, u OBSERVATORIO_CHROMIUM=/ruta)")
	return ""
}

// screenshotDir is var/screenshots at the root of the repository (git
// ignores var/), or OBSERVATORIO_SCREENSHOTS.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("OBSERVATORIO_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "var", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is one headless Chromium for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("chromium no arrancó: %v", err)
	}
	return ctx
}

// tab is one page of the browser with a record of what it asked for and
// what it complained about.
type tab struct {
	t        *testing.T
	ctx      context.Context
	mu       sync.Mutex
	requests []string
	statuses map[string]int64
	problems []string
}

func newTab(t *testing.T, browserCtx context.Context) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx, statuses: map[string]int64{}}
	if err := chromedp.Listen(ctx, func(ev any) {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			tb.requests = append(tb.requests, e.Request.URL)
		case *network.EventResponseReceived:
			tb.statuses[e.Response.URL] = e.Response.Status
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, fmt.Sprint(a.Description, string(a.Value)))
				}
				tb.problems = append(tb.problems, "console."+string(e.Type)+": "+strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			tb.problems = append(tb.problems, "excepción: "+e.ExceptionDetails.Text+" "+fmt.Sprint(e.ExceptionDetails.Exception))
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				tb.problems = append(tb.problems, "registro: "+e.Entry.Text+" "+e.Entry.URL)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	return tb
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("navegador: %v", err)
	}
}

func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		tb.t.Fatalf("evaluar %.80s: %v", js, err)
	}
	return v
}

func poll(tb *tab, js string, what string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(45*time.Second))); err != nil {
		tb.t.Fatalf("esperando %s: %v", what, err)
	}
}

// waitURL waits until the page (after a navigation) has the query.
func waitURL(tb *tab, search string) {
	tb.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState === 'complete' ? location.search : ''`))
		cancel()
		if err == nil && got == search {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("la dirección no llegó a %q (es %q, %v)", search, got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// chartsReady waits until every chart of the page has been drawn or has
// failed, and returns how many there are.
func (tb *tab) chartsReady() int {
	tb.t.Helper()
	poll(tb, `document.readyState === 'complete' && Array.from(document.querySelectorAll('[data-grafico]')).every(e => e.getAttribute('data-estado'))`, "los gráficos")
	failed := eval[[]string](tb, `Array.from(document.querySelectorAll('[data-grafico]')).filter(e => e.getAttribute('data-estado') !== 'listo' || !e.querySelector('canvas') || !echarts.getInstanceByDom(e)).map(e => e.id)`)
	if len(failed) > 0 {
		tb.t.Errorf("%s: gráficos sin dibujar: %v", eval[string](tb, "location.pathname + location.search"), failed)
	}
	return eval[int](tb, `document.querySelectorAll('[data-grafico]').length`)
}

// foreign returns the requests that went anywhere but the allowed hosts.
func (tb *tab) foreign(allowed ...string) []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []string
	for _, r := range tb.requests {
		if strings.HasPrefix(r, "data:") || strings.HasPrefix(r, "blob:") {
			continue
		}
		u, err := url.Parse(r)
		ok := err == nil
		if ok {
			ok = false
			for _, a := range allowed {
				if u.Scheme+"://"+u.Host == a {
					ok = true
				}
			}
		}
		if !ok {
			out = append(out, r)
		}
	}
	return out
}

func (tb *tab) takeProblems() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	p := tb.problems
	tb.problems = nil
	return p
}

func (tb *tab) screenshot(dir, name string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
	if err != nil {
		tb.t.Fatalf("captura %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".jpg"), img, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// The pages tried, with a selection that has data in the fixture.
var browserPages = []struct{ name, path string }{
	{"inicio", "/?municipio=68001&anio=2020"},
	{"recaudo", "/tableros/recaudo?municipio=68001&anio=2020"},
	{"canales", "/tableros/canales?municipio=68001&anio=2020"},
	{"cartera", "/tableros/cartera?municipio=68001"},
	{"verificacion", "/tableros/verificacion?municipio=68001&anio=2020"},
	{"presupuesto", "/tableros/presupuesto?municipio=18001"},
	{"gobierno-en-linea", "/tableros/gobierno-en-linea?municipio=25151"},
	{"observatorio", "/tableros/observatorio"},
}

// TestDashboardsInBrowser opens every dashboard in headless Chromium, as a
// desktop and as a phone: every chart draws with no console error, every
// chart has its table, its CSV link, ECharts aria with decals and a save
// button, and no request leaves the observatory. Screenshots go to
// var/screenshots. Then the filters, the embed mode and, with names that
// carry script, the XSS defences are tried end to end.
func TestDashboardsInBrowser(t *testing.T) {
	bctx := browser(t)
	srv := dashServer(t, Options{})
	base := srv.URL
	shots := screenshotDir(t)

	viewports := []struct {
		name string
		act  chromedp.Action[chromedp.Void]
	}{
		{"escritorio", chromedp.EmulateViewport(1280, 900)},
		{"movil", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2))},
	}
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			tb := newTab(t, bctx)
			tb.do(vp.act)
			for _, p := range browserPages {
				tb.do(chromedp.Navigate(base + p.path))
				n := tb.chartsReady()
				if p.name != "observatorio" && n < 1 {
					t.Errorf("%s: sin gráficos", p.name)
				}
				checks := eval[map[string]any](tb, `(() => {
					const charts = Array.from(document.querySelectorAll('[data-grafico]'));
					const opt = c => echarts.getInstanceByDom(c).getOption();
					return {
						aria: charts.every(c => { const a = [].concat(opt(c).aria)[0]; return a.enabled && a.decal.show && (c.getAttribute('aria-label') || '').startsWith('Gráfico de'); }),
						tables: charts.every(c => { const f = c.closest('figure'); const cap = f.querySelector('table caption'); return cap && cap.textContent.length > 10; }),
						csv: charts.every(c => !!c.closest('figure').querySelector('a[download][href*=".csv"]')),
						save: charts.every(c => { const b = document.querySelector('[data-guardar="' + c.id + '"]'); return b && !b.disabled; }),
						lang: document.documentElement.lang,
						overflow: document.documentElement.scrollWidth > window.innerWidth + 1,
						xss: typeof window.__xss,
					};
				})()`)
				for _, k := range []string{"aria", "tables", "csv", "save"} {
					if checks[k] != true {
						t.Errorf("%s (%s): %s = %v", p.name, vp.name, k, checks[k])
					}
				}
				if checks["lang"] != "es-CO" || checks["overflow"] != false || checks["xss"] != "undefined" {
					t.Errorf("%s (%s): %v", p.name, vp.name, checks)
				}
				if p.name == "canales" {
					text := eval[string](tb, `document.querySelector('#canales-pagos table').textContent + document.querySelector('#canales-declaraciones table').textContent`)
					for _, want := range []string{"6.263", "1.727", "2.960", "1.576", "5.638", "250", "5.388"} {
						if !strings.Contains(text, want) {
							t.Errorf("Canales: la tabla no dice %s", want)
						}
					}
					drawn := eval[[]any](tb, `echarts.getInstanceByDom(document.getElementById('grafico-canales-pagos')).getOption().series.map(s => s.name + '=' + s.data.map(d => d.value).join(','))`)
					if fmt.Sprint(drawn) != "[Electrónicos · Predial=2960 Electrónicos · ICA=1727 Electrónicos · ReteICA=1576 Presenciales=700 Total electrónicos=6263]" {
						t.Errorf("Canales: el gráfico dibuja %v", drawn)
					}
				}
				tb.screenshot(shots, p.name+"-"+vp.name)
				if pr := tb.takeProblems(); len(pr) > 0 {
					t.Errorf("%s (%s): errores en la consola: %v", p.name, vp.name, pr)
				}
			}
			if f := tb.foreign(base); len(f) > 0 {
				t.Errorf("solicitudes fuera del observatorio: %v", f)
			}
		})
	}

	t.Run("filtros", func(t *testing.T) {
		tb := newTab(t, bctx)
		tb.do(chromedp.Navigate(base + "/tableros/recaudo"))
		tb.chartsReady()
		before := eval[string](tb, `document.querySelector('#recaudo-vigencias table caption').textContent`)
		// Type part of the name without accents: the search suggests the
		// municipality; pick the suggestion, a year and a tax, and submit.
		tb.do(chromedp.SendKeys(chromedp.CSS("#f-municipio"), "bucaram"))
		poll(tb, `document.querySelectorAll('#lista-municipios option').length > 0`, "las sugerencias")
		label := eval[string](tb, `document.querySelector('#lista-municipios option').value`)
		if label != "Bucaramanga, Santander (68001)" {
			t.Fatalf("sugerencia %q", label)
		}
		tb.do(chromedp.SetValue(chromedp.CSS("#f-municipio"), label),
			chromedp.SetValue(chromedp.CSS("#f-anio"), "2020"),
			chromedp.SetValue(chromedp.CSS("#f-impuesto"), "ica"),
			chromedp.Click(chromedp.CSS("form.filtros button[type=submit]")))
		waitURL(tb, "?municipio=68001&anio=2020&impuesto=ica")
		tb.chartsReady()
		after := eval[string](tb, `document.querySelector('#recaudo-vigencias table caption').textContent`)
		if before == after || !strings.Contains(after, "Bucaramanga (68001), ICA") {
			t.Errorf("la tabla no cambió con los filtros: %q → %q", before, after)
		}
		billed := eval[[]any](tb, `echarts.getInstanceByDom(document.getElementById('grafico-recaudo-vigencias')).getOption().series[0].data.map(d => d.value)`)
		if fmt.Sprint(billed) != "[4.034e+08]" {
			t.Errorf("facturado ICA 2020 dibujado = %v, want 403.400.000", billed)
		}
		// The link is shareable: a new tab with the same URL shows the same.
		tb2 := newTab(t, bctx)
		tb2.do(chromedp.Navigate(eval[string](tb, "location.href")))
		tb2.chartsReady()
		if got := eval[string](tb2, `document.querySelector('#recaudo-vigencias table caption').textContent`); got != after {
			t.Errorf("el enlace compartido muestra otra cosa: %q", got)
		}
		if pr := append(tb.takeProblems(), tb2.takeProblems()...); len(pr) > 0 {
			t.Errorf("errores en la consola: %v", pr)
		}
	})

	t.Run("insertado", func(t *testing.T) {
		// A newsroom's page on another origin frames one chart in embed
		// mode, and (wrongly) a normal page: the first loads, the second is
		// refused by frame-ancestors.
		embed := "/tableros/recaudo?municipio=68001&embed=1&grafico=vigencias"
		newsroom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!DOCTYPE html><html lang="es"><head><link rel="icon" href="data:,"></head><body><h1>Noticia</h1>
<iframe id="bueno" src="%s%s" width="800" height="600" title="Recaudo"></iframe>
<iframe id="malo" src="%s/tableros/recaudo" width="800" height="300" title="No insertable"></iframe></body></html>`, base, embed, base)
		}))
		defer newsroom.Close()
		tb := newTab(t, bctx)
		tb.do(chromedp.Navigate(newsroom.URL))
		optionURL := base + "/graficos/recaudo/vigencias.json?municipio=68001"
		poll(tb, `document.readyState === 'complete'`, "la página del periódico")
		deadline := time.Now().Add(30 * time.Second)
		for {
			tb.mu.Lock()
			st := tb.statuses[optionURL]
			tb.mu.Unlock()
			if st == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("el gráfico insertado no pidió sus datos (%v)", tb.requests)
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(500 * time.Millisecond)
		refused := false
		for _, p := range tb.takeProblems() {
			if strings.Contains(p, "frame-ancestors 'self'") && strings.Contains(p, base) && !refused {
				refused = true // the normal page, once
			} else {
				t.Errorf("error en la consola: %s", p)
			}
		}
		if !refused {
			t.Error("la página normal se dejó insertar en otro sitio")
		}
		if f := tb.foreign(base, newsroom.URL); len(f) > 0 {
			t.Errorf("solicitudes fuera del observatorio: %v", f)
		}
		// The embed view itself: no menu, one chart, a link back.
		tb2 := newTab(t, bctx)
		tb2.do(chromedp.EmulateViewport(800, 600), chromedp.Navigate(base+embed))
		if n := tb2.chartsReady(); n != 1 {
			t.Errorf("la vista insertada tiene %d gráficos", n)
		}
		if eval[bool](tb2, `!!document.querySelector('nav.tableros') || !document.body.classList.contains('insertado') || !document.querySelector('a[target=_blank][href="/tableros/recaudo?municipio=68001"]')`) {
			t.Error("la vista insertada no es la vista compacta")
		}
		tb2.screenshot(shots, "insertado-recaudo")
	})

	t.Run("xss", func(t *testing.T) {
		evilQuery := url.QueryEscape(dashtest.Evil)
		pages := []string{
			"/", "/?municipio=" + dashtest.EvilCode,
			"/tableros/recaudo?anio=2020", "/tableros/recaudo?municipio=" + dashtest.EvilCode,
			"/tableros/canales?municipio=" + dashtest.EvilCode, "/tableros/cartera?municipio=" + dashtest.EvilCode,
			"/tableros/verificacion", "/tableros/verificacion?municipio=" + dashtest.EvilCode,
			"/tableros/presupuesto?anio=2020", "/tableros/gobierno-en-linea", "/tableros/gobierno-en-linea?municipio=" + dashtest.EvilCode,
			"/tableros/observatorio", "/tableros/recaudo?municipio=" + evilQuery, "/tableros/recaudo?municipio=muni",
			"/tableros/recaudo?embed=1&municipio=" + dashtest.EvilCode,
		}
		for _, bypass := range []bool{false, true} {
			mode := "con CSP"
			if bypass {
				mode = "sin CSP (solo el escape)"
			}
			tb := newTab(t, bctx)
			if bypass {
				tb.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true})
					return err
				}))
			}
			for _, p := range pages {
				tb.do(chromedp.Navigate(base + p))
				tb.chartsReady()
				// Show every tooltip: the category and series names go into
				// the tooltip's HTML.
				eval[bool](tb, `(() => { document.querySelectorAll('[data-grafico]').forEach(el => {
					const c = echarts.getInstanceByDom(el); if (!c) return;
					const o = c.getOption(); const n = Math.max(0, ...o.series.map(s => (s.data || []).length));
					for (let i = 0; i < n; i++) c.dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: i});
				}); return true; })()`)
				// And the search box, whose suggestions carry the names.
				if eval[bool](tb, `!!document.querySelector('#f-municipio')`) {
					eval[bool](tb, `(document.querySelector('#f-municipio').value = '', true)`)
					tb.do(chromedp.SendKeys(chromedp.CSS("#f-municipio"), "muni"))
					poll(tb, `document.querySelectorAll('#lista-municipios option').length > 0`, "sugerencias en "+p)
				}
				time.Sleep(100 * time.Millisecond)
				got := eval[map[string]any](tb, `({xss: typeof window.__xss, scripts: Array.from(document.scripts).map(s => s.src.replace(location.origin, '').split('?')[0]).join(' '),
					imgs: document.querySelectorAll('img').length, shown: document.body.innerText.includes('window.__xss=1')})`)
				if got["xss"] != "undefined" {
					t.Errorf("%s %s: ¡se ejecutó código! window.__xss es %v", mode, p, got["xss"])
				}
				scripts := got["scripts"].(string)
				if scripts != "/static/vendor/echarts/echarts.min.js /static/graficos.js" && scripts != "/static/graficos.js" {
					t.Errorf("%s %s: scripts en la página: %q", mode, p, scripts)
				}
				if got["imgs"] != float64(0) {
					t.Errorf("%s %s: se insertó una imagen", mode, p)
				}
				if strings.Contains(p, dashtest.EvilCode) && got["shown"] != true {
					t.Errorf("%s %s: el nombre no se muestra como texto", mode, p)
				}
				if pr := tb.takeProblems(); len(pr) > 0 {
					t.Errorf("%s %s: errores en la consola: %v", mode, p, pr)
				}
			}
			if f := tb.foreign(base); len(f) > 0 {
				t.Errorf("solicitudes fuera del observatorio: %v", f)
			}
		}
	})
}
