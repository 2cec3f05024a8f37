package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/observatorio-civico/observatorio/dashboards"
	"github.com/observatorio-civico/observatorio/datasets"
)

// The classes of requests, in report order. Each class's latencies are
// comparable among themselves: a page is not measured against a 40 MB file.
const (
	classPages    = "paginas"             // HTML: home, dashboards, datasets, GEL tracker, calendars
	classCharts   = "graficos"            // chart options (JSON) as the pages ask for them
	classFiles    = "descargas"           // release files (CSV, Excel CSV) whole, from the local copy
	classExports  = "descargas-filtradas" // CSV and JSON exports with filters, generated per request
	classAPI      = "api-json"            // keyset-paged JSON API, following "siguiente"
	classOther    = "otros"               // metadata, CKAN API, feeds, iCalendar, chart CSVs, search
	classDiscover = "descubrimiento"      // not a class: the requests of the discovery phase
)

var classOrder = []string{classPages, classCharts, classFiles, classExports, classAPI, classOther}

// defaultMix weighs the classes the way a story's readers do: mostly pages
// and the charts they load, some downloads and API use.
const defaultMix = "paginas=30,graficos=40,descargas=5,descargas-filtradas=10,api-json=10,otros=5"

func parseMix(s string) (map[string]int, error) {
	mix := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, found := strings.Cut(part, "=")
		n, err := strconv.Atoi(w)
		if !found || err != nil || n < 0 {
			return nil, fmt.Errorf("mezcla: %q no es clase=peso", part)
		}
		known := false
		for _, c := range classOrder {
			known = known || c == name
		}
		if !known {
			return nil, fmt.Errorf("mezcla: clase %q desconocida (clases: %s)", name, strings.Join(classOrder, ", "))
		}
		mix[name] = n
	}
	return mix, nil
}

// target is one request of the plan: a path with its query. For the API,
// follow is how many pages of the keyset chain to walk from it.
type target struct {
	path   string
	follow int
}

// plan is what the clients ask for, by class.
type plan struct {
	targets map[string][]target
	// slowest are the discovery's requests, slowest first.
	slowest []timed
}

func (p *plan) counts() map[string]int {
	out := map[string]int{}
	for c, ts := range p.targets {
		out[c] = len(ts)
	}
	return out
}

// defaultYears is how many of the years the filter offers (the latest)
// the selections use when -years is not given.
const defaultYears = 5

// discoverOptions say which selections to try.
type discoverOptions struct {
	municipalities []string // DIVIPOLA codes; the demo's three by default
	years          []int    // empty: the latest defaultYears the home page's filter offers
	workers        int
	apiPages       int
}

// discover builds the plan from the observatory's own lists (its
// dashboards and its dataset catalog, from the code) and from the site (the
// years its filter offers, the charts each page loads, the GEL entities the
// tracker links): every page and download a reader could reach with the
// given municipalities and years. Every planned page, file and export is
// requested once (pages with GET, downloads with HEAD) and must answer; a
// route that fails here stops the run before any measurement, since a load
// test of broken routes measures nothing.
func discover(ctx context.Context, hc *http.Client, base string, o discoverOptions) (*plan, error) {
	d := &discoverer{hc: hc, base: strings.TrimSuffix(base, "/"), seen: map[string]bool{}, p: &plan{targets: map[string][]target{}}}
	home, err := d.get(ctx, "/")
	if err != nil {
		return nil, err
	}
	years := o.years
	if len(years) == 0 {
		// The recent years a reader picks; older ones cost the same.
		years = yearOptions(home)
		if len(years) == 0 {
			return nil, fmt.Errorf("la página de inicio no ofrece años en su filtro: indique -years")
		}
		years = years[max(0, len(years)-defaultYears):]
	}
	taxes := taxOptions(home)
	recent := years[max(0, len(years)-2):]

	// Pages: home and dashboards for each selection. The canonical URL of
	// each (after the redirect a dashboard answers when a filter does not
	// apply to it) is what the load asks for, as a reader following links.
	var pages []string
	for _, sel := range selections(o.municipalities, years, recent, taxes) {
		pages = append(pages, withQuery("/", sel))
		for _, id := range dashboards.DashboardIDs() {
			pages = append(pages, withQuery("/tableros/"+id, sel))
		}
	}
	pages = append(pages, "/datos", "/datos?q=pagos", dashboards.GELBase, dashboards.GELBase+"/clasificacion", dashboards.GELBase+"/marcos")
	for _, ds := range datasets.Catalog {
		pages = append(pages, "/datos/"+ds.ID)
	}
	for _, m := range o.municipalities {
		for _, y := range recent {
			pages = append(pages, fmt.Sprintf("/calendario/%s/%d", m, y))
		}
	}
	gelIndex, err := d.get(ctx, dashboards.GELBase)
	if err != nil {
		return nil, err
	}
	for _, e := range linksWithPrefix(gelIndex, dashboards.GELBase+"/entidades/") {
		pages = append(pages, e)
		d.add(classOther, target{path: e + "/novedades.atom"})
	}

	// Downloads: every dataset's release files whole, and exports filtered
	// by municipality and year where the dataset has those columns.
	var heads []string
	for _, ds := range datasets.Catalog {
		heads = append(heads, "/datos/"+ds.ID+".csv", "/datos/"+ds.ID+".excel.csv")
		for _, q := range exportFilters(&ds, o.municipalities, years) {
			d.add(classExports, target{path: "/datos/" + ds.ID + ".csv?" + q})
			d.add(classExports, target{path: "/datos/" + ds.ID + ".json?" + q})
		}
		d.add(classAPI, target{path: "/api/datos/" + ds.ID + "?limite=100", follow: o.apiPages})
		for _, q := range exportFilters(&ds, o.municipalities, nil) {
			d.add(classAPI, target{path: "/api/datos/" + ds.ID + "?limite=100&" + q, follow: o.apiPages})
		}
		d.add(classOther, target{path: "/datos/" + ds.ID + "/versiones"})
		d.add(classOther, target{path: "/datos/" + ds.ID + "/datapackage.json"})
		d.add(classOther, target{path: "/api/3/action/package_show?id=" + ds.ID})
		d.add(classOther, target{path: "/api/3/action/datastore_search?resource_id=" + ds.ID + "&limit=100"})
	}
	for _, ds := range heads {
		d.add(classFiles, target{path: ds})
	}
	for _, p := range []string{"/data.json", "/api/3/action/package_list", "/tableros/municipios.json?q=buca", "/tableros/municipios.json?q=flor", "/tableros/municipios.json?q=caq", "/tableros/municipios.json?q=san"} {
		d.add(classOther, target{path: p})
	}
	for _, m := range o.municipalities {
		for _, y := range recent {
			d.add(classOther, target{path: fmt.Sprintf("/calendario/%s/%d.ics", m, y)}, target{path: fmt.Sprintf("/calendario/%s/%d.json", m, y)})
		}
	}

	// Check everything but the charts, with a few workers: pages with GET
	// (collecting their charts), downloads with HEAD, the rest with GET.
	type job struct {
		class, path string
	}
	var jobs []job
	for _, p := range pages {
		jobs = append(jobs, job{classPages, p})
	}
	for _, c := range []string{classFiles, classExports, classAPI, classOther} {
		for _, t := range d.p.targets[c] {
			jobs = append(jobs, job{c, t.path})
		}
	}
	var (
		mu       sync.Mutex
		failures []string
		next     = make(chan job)
		wg       sync.WaitGroup
	)
	workers := max(o.workers, 1)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				switch j.class {
				case classPages:
					final, body, err := d.fetch(ctx, http.MethodGet, j.path, true)
					mu.Lock()
					if err != nil {
						failures = append(failures, err.Error())
					} else {
						d.add(classPages, target{path: final})
						for _, c := range chartURLs(body) {
							d.add(classCharts, target{path: c})
						}
						for _, c := range linksWithPrefix(body, "/graficos/") {
							if strings.Contains(c, ".csv") {
								d.add(classOther, target{path: c})
							}
						}
					}
					mu.Unlock()
				default:
					method := http.MethodGet
					if j.class == classFiles || j.class == classExports {
						method = http.MethodHead
					}
					if _, _, err := d.fetch(ctx, method, j.path, false); err != nil {
						mu.Lock()
						failures = append(failures, err.Error())
						mu.Unlock()
					}
				}
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(failures) > 0 {
		sort.Strings(failures)
		if len(failures) > 20 {
			failures = append(failures[:20], fmt.Sprintf("… y %d más", len(failures)-20))
		}
		return nil, fmt.Errorf("%d rutas del plan no responden:\n  %s", len(failures), strings.Join(failures, "\n  "))
	}
	sort.Slice(d.p.slowest, func(i, j int) bool { return d.p.slowest[i].took > d.p.slowest[j].took })
	for c := range d.p.targets {
		sort.Slice(d.p.targets[c], func(i, j int) bool { return d.p.targets[c][i].path < d.p.targets[c][j].path })
	}
	return d.p, nil
}

type discoverer struct {
	hc   *http.Client
	base string
	mu   sync.Mutex
	seen map[string]bool
	p    *plan
	n    int // requests made
}

// timed is one discovery request and how long it took (cold: the first
// time the server builds the answer).
type timed struct {
	path string
	took time.Duration
}

// add puts targets in a class once each.
func (d *discoverer) add(class string, ts ...target) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, t := range ts {
		key := class + " " + t.path
		if d.seen[key] {
			continue
		}
		d.seen[key] = true
		d.p.targets[class] = append(d.p.targets[class], t)
	}
}

func (d *discoverer) get(ctx context.Context, path string) (string, error) {
	_, body, err := d.fetch(ctx, http.MethodGet, path, true)
	return body, err
}

// fetch requests a path, following redirects, and returns the final path
// (with its query) and, when asked, the body. A refusal that says when to
// come back (429 or 503 with Retry-After: a limit, not a failure) is
// retried then, a few times: discovery is not the measurement.
func (d *discoverer) fetch(ctx context.Context, method, path string, wantBody bool) (string, string, error) {
	for attempt := 1; ; attempt++ {
		final, body, wait, err := d.request(ctx, method, path, wantBody)
		if wait <= 0 || attempt == 5 {
			return final, body, err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return "", "", ctx.Err()
		}
	}
}

// request is one try of fetch; retry is how long to wait before the next
// (0: do not retry).
func (d *discoverer) request(ctx context.Context, method, path string, wantBody bool) (final, body string, retry time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, method, d.base+path, nil)
	if err != nil {
		return "", "", 0, err
	}
	req.Header.Set("User-Agent", userAgent)
	// Discovery is not measured: each of its requests comes from its own
	// address (198.19.x.y), so that checking some 300 downloads does not
	// spend one client's download limit, and it waits out what refuses it.
	d.mu.Lock()
	d.n++
	n := d.n
	d.mu.Unlock()
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.19.%d.%d", n>>8&0xff, n&0xff))
	t0 := time.Now()
	defer func() {
		d.mu.Lock()
		d.p.slowest = append(d.p.slowest, timed{method + " " + path, time.Since(t0)})
		d.mu.Unlock()
	}()
	resp, err := d.hc.Do(req)
	if err != nil {
		return "", "", 0, fmt.Errorf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var b []byte
	if wantBody {
		b, err = io.ReadAll(resp.Body)
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	if err != nil {
		return "", "", 0, fmt.Errorf("%s %s: %v", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs >= 0 {
				retry = time.Duration(min(secs, 30))*time.Second + 100*time.Millisecond
			}
		}
		return "", "", retry, fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return resp.Request.URL.RequestURI(), string(b), 0, nil
}

// selections are the filter combinations tried: none, each municipality,
// each year, each municipality and year, and for the recent years each
// municipality, year and tax.
func selections(munis []string, years, recent []int, taxes []string) []string {
	out := []string{""}
	for _, m := range munis {
		out = append(out, "municipio="+m)
	}
	for _, y := range years {
		out = append(out, "anio="+strconv.Itoa(y))
	}
	for _, m := range munis {
		for _, y := range years {
			out = append(out, "municipio="+m+"&anio="+strconv.Itoa(y))
		}
		for _, y := range recent {
			for _, t := range taxes {
				out = append(out, "municipio="+m+"&anio="+strconv.Itoa(y)+"&impuesto="+t)
			}
		}
	}
	return out
}

func withQuery(path, q string) string {
	if q == "" {
		return path
	}
	return path + "?" + q
}

// exportFilters are the filtered downloads of a dataset: by municipality,
// and by municipality and year, using whichever of its filter columns hold
// a municipality, a year or a date. Without years, by municipality only.
func exportFilters(ds *datasets.Dataset, munis []string, years []int) []string {
	var muniCol, yearCol, dateCol string
	for _, name := range ds.Filters() {
		c, _ := ds.Column(name)
		switch {
		case name == "codigo_municipio" || name == "codigo_entidad":
			muniCol = name
		case name == "vigencia" || name == "anio":
			yearCol = name
		case c.Type == "Date" && dateCol == "":
			dateCol = name
		}
	}
	yearQuery := func(y int) string {
		switch {
		case yearCol != "":
			return fmt.Sprintf("%s=%d", yearCol, y)
		case dateCol != "":
			return fmt.Sprintf("desde_%s=%d-01-01&hasta_%s=%d-12-31", dateCol, y, dateCol, y)
		}
		return ""
	}
	var out []string
	if muniCol == "" {
		for _, y := range years {
			if q := yearQuery(y); q != "" {
				out = append(out, q)
			}
		}
		return out
	}
	for _, m := range munis {
		out = append(out, muniCol+"="+m)
		for _, y := range years {
			if q := yearQuery(y); q != "" {
				out = append(out, muniCol+"="+m+"&"+q)
			}
		}
	}
	return out
}

var (
	optionRE = regexp.MustCompile(`<option value="([^"]+)"`)
	chartRE  = regexp.MustCompile(`data-grafico="([^"]+)"`)
	hrefRE   = regexp.MustCompile(`href="([^"]+)"`)
)

// selectOptions returns the values of a <select id="..."> of a page.
func selectOptions(page, id string) []string {
	i := strings.Index(page, `<select id="`+id+`"`)
	if i < 0 {
		return nil
	}
	rest := page[i:]
	if j := strings.Index(rest, "</select>"); j >= 0 {
		rest = rest[:j]
	}
	var out []string
	for _, m := range optionRE.FindAllStringSubmatch(rest, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// yearOptions are the years of the home page's year filter, ascending.
func yearOptions(page string) []int {
	var out []int
	for _, v := range selectOptions(page, "f-anio") {
		if y, err := strconv.Atoi(v); err == nil {
			out = append(out, y)
		}
	}
	sort.Ints(out)
	return out
}

func taxOptions(page string) []string { return selectOptions(page, "f-impuesto") }

// chartURLs are the chart data a page loads (its data-grafico attributes).
func chartURLs(page string) []string {
	var out []string
	for _, m := range chartRE.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func linksWithPrefix(page, prefix string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range hrefRE.FindAllStringSubmatch(page, -1) {
		h := html.UnescapeString(m[1])
		if strings.HasPrefix(h, prefix) && !seen[h] {
			if u, err := url.Parse(h); err == nil && u.Host == "" {
				seen[h] = true
				out = append(out, h)
			}
		}
	}
	return out
}
