package server

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"

	"github.com/observatorio-civico/observatorio/analytics/gel/geldemo"
	"github.com/observatorio-civico/observatorio/dashboards"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

// gelSite serves the tracker's routes (with the site's security headers
// and static files) over a warehouse loaded with the tracker's demo set.
func gelSite(t *testing.T, e warehouse.Engine) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	if _, err := warehouse.SeedEntities(ctx, e); err != nil {
		t.Fatal(err)
	}
	if _, err := geldemo.Load(ctx, e); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	s := &Server{eng: e, web: e, opts: Options{Demo: true, Now: func() time.Time { return now }}}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(securityHeaders())
	s.gelRoutes(r)
	r.GET("/static/*archivo", gin.WrapH(dashboards.AssetHandler()))
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func fetch(t *testing.T, u string) (int, http.Header, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestGELRoutes(t *testing.T) {
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		srv := gelSite(t, e)
		for path, want := range map[string]int{
			"/gobierno-en-linea":                                         200,
			"/gobierno-en-linea/marcos":                                  200,
			"/gobierno-en-linea/clasificacion?marco=gd2018":              200,
			"/gobierno-en-linea/entidades/25151?fecha=2009-08-31":        200,
			"/gobierno-en-linea/entidades/68001?marco=igd":               200,
			"/gobierno-en-linea/entidades/25151/novedades.atom":          200,
			"/gobierno-en-linea?municipio=25151":                         303,
			"/gobierno-en-linea/entidades/25151?fecha=ayer":              400,
			"/gobierno-en-linea/entidades/123":                           404,
			"/gobierno-en-linea/clasificacion?departamento=Cundinamarca": 400,
		} {
			code, h, body := fetch(t, srv.URL+path)
			if code != want {
				t.Errorf("%s: %d, se esperaba %d: %.200s", path, code, want, body)
			}
			if code == 200 && strings.HasPrefix(h.Get("Content-Type"), "text/html") && !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") {
				t.Errorf("%s: sin CSP", path)
			}
		}
		// The feed's links point at the host the reader used.
		_, h, feed := fetch(t, srv.URL+"/gobierno-en-linea/entidades/25151/novedades.atom")
		if h.Get("Content-Type") != "application/atom+xml; charset=utf-8" || !strings.Contains(feed, `href="`+srv.URL+`/gobierno-en-linea/entidades/25151/novedades.atom"`) {
			t.Errorf("canal: %s\n%.400s", h.Get("Content-Type"), feed)
		}
	})
}

// TestGELOfficialWalkthrough is the "done when", in a real
// browser: an official who has never used the site starts at the
// tracker's page, looks up her municipality by name, sees each phase's
// progress, what is overdue and where the municipality ranks, and
// follows the subscription link to a feed her reader can take. Embedded
// engine only (TestGELRoutes covers both); skips without Chromium.
func TestGELOfficialWalkthrough(t *testing.T) {
	chromium := ""
	for _, c := range []string{os.Getenv("OBSERVATORIO_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(c); c != "" && err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		t.Skip("prueba de navegador omitida: no se encontró chromium (apt-get install chromium, u OBSERVATORIO_CHROMIUM=/ruta)")
	}
	srv := gelSite(t, whtest.Embedded(t))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	var mu sync.Mutex
	var problems []string
	chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, "excepción: "+e.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, fmt.Sprint("console.error ", e.Args))
			}
		}
	})
	tctx, tcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer tcancel()
	text := func(js string) string {
		v, err := chromedp.Run(tctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	// 1. The tracker's home; she types her municipality's name, without accents.
	if err := chromedp.Do(tctx,
		chromedp.Navigate(srv.URL+"/gobierno-en-linea"),
		chromedp.WaitVisible(chromedp.CSS("#g-municipio")),
		chromedp.SendKeys(chromedp.CSS("#g-municipio"), "caqueza"),
		chromedp.Submit(chromedp.CSS("#g-municipio")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tctx, `location.pathname === '/gobierno-en-linea/entidades/25151' && document.readyState === 'complete' && !!document.querySelector('#c-fases')`)
	if h1 := text(`document.querySelector('h1').textContent`); !strings.HasPrefix(h1, "Cáqueza (Cundinamarca)") {
		t.Fatalf("llegó a %q", h1)
	}
	// 2. Each phase's progress, today: the five phases with a status.
	rows := text(`Array.from(document.querySelectorAll('table:has(#c-fases) tbody tr')).map(r => r.innerText.replace(/\s+/g, ' ')).join('\n')`)
	for _, ph := range []string{"Información", "Interacción", "Transacción", "Transformación", "Democracia en línea"} {
		if !strings.Contains(rows, ph) {
			t.Errorf("no ve la fase %s en:\n%s", ph, rows)
		}
	}
	// 3. What is overdue and where it ranks.
	if s := text(`document.querySelector('#e-vencido').parentElement.innerText`); !strings.Contains(s, "plazo vencido") {
		t.Errorf("no ve lo vencido:\n%s", s)
	}
	if s := text(`document.querySelector('.cifras').innerText`); !strings.Contains(s, "Puesto en el país") || !strings.Contains(s, "Puesto en Cundinamarca") || !strings.Contains(s, " de ") {
		t.Errorf("no ve su puesto:\n%s", s)
	}
	// 4. The day of the diagnosis, through the date field.
	if err := chromedp.Do(tctx,
		chromedp.SetValue(chromedp.CSS("#e-fecha"), "2009-08-31"),
		chromedp.Submit(chromedp.CSS("#e-fecha")),
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tctx, `location.search.includes('fecha=2009-08-31') && document.readyState === 'complete' && !!document.querySelector('#c-fases')`)
	rows = text(`Array.from(document.querySelectorAll('table:has(#c-fases) tbody tr')).map(r => r.innerText.replace(/\s+/g, ' ')).join('\n')`)
	for _, want := range []string{"Información 1 de noviembre de 2008 90 %", "Vencida", "Interacción 1 de diciembre de 2009 70 %"} {
		if !strings.Contains(rows, want) {
			t.Errorf("el 31 de agosto de 2009 no ve %q en:\n%s", want, rows)
		}
	}
	// Screenshots for people to look at (var/ is ignored by git).
	dir := filepath.Join("..", "var", "screenshots")
	if os.MkdirAll(dir, 0o755) == nil {
		for i := 0; i < 4; i++ {
			text(fmt.Sprintf(`window.scrollTo(0, %d), ''`, i*860))
			if img, err := chromedp.Run(tctx, chromedp.CaptureScreenshot()); err == nil {
				os.WriteFile(filepath.Join(dir, fmt.Sprintf("gel_entidad_caqueza_2009_%d.png", i+1)), img, 0o644)
			}
		}
	}
	// 5. She compares: the department's ranking, from the page's link.
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS(`main a[href*="departamento="]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tctx, `location.pathname === '/gobierno-en-linea/clasificacion' && document.readyState === 'complete' && !!document.querySelector('#tabla-dep')`)
	if s := text(`document.querySelector('table:has(#tabla-dep)').innerText`); !strings.Contains(s, "Cáqueza (Cundinamarca)") || !strings.Contains(s, "de 8") {
		t.Errorf("la clasificación de Cundinamarca no muestra a Cáqueza entre 8:\n%s", s)
	}
	if dir := filepath.Join("..", "var", "screenshots"); os.MkdirAll(dir, 0o755) == nil {
		if img, err := chromedp.Run(tctx, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(dir, "gel_clasificacion_cundinamarca_2009.png"), img, 0o644)
		}
	}
	// Back to her page through the ranking's link.
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.CSS(`table:has(#tabla-dep) a[href^="/gobierno-en-linea/entidades/25151"]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tctx, `location.pathname === '/gobierno-en-linea/entidades/25151' && document.readyState === 'complete' && !!document.querySelector('a[type="application/atom+xml"]')`)
	// 6. She subscribes: the link gives an Atom feed a reader accepts.
	href := text(`document.querySelector('a[type="application/atom+xml"]').href`)
	code, h, feed := fetch(t, href)
	var f struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		Title   string   `xml:"title"`
		Entries []struct {
			Title string `xml:"title"`
		} `xml:"entry"`
	}
	if code != 200 || h.Get("Content-Type") != "application/atom+xml; charset=utf-8" || xml.Unmarshal([]byte(feed), &f) != nil || len(f.Entries) == 0 {
		t.Fatalf("el canal %s: %d %s", href, code, h.Get("Content-Type"))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("la consola del navegador se quejó: %v", problems)
	}
}

// waitFor evaluates js until it is true, through navigations (an
// evaluation during one fails and is retried).
func waitFor(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := chromedp.Run(c, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("esperando %s: %v", js, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
