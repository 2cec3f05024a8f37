package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/datasets/datasetstest"
	"github.com/observatorio-civico/observatorio/etl"
	"github.com/observatorio-civico/observatorio/etl/demo"
	"github.com/observatorio-civico/observatorio/warehouse"
	"github.com/observatorio-civico/observatorio/warehouse/whtest"
)

type client struct {
	t    *testing.T
	base string
	// bodies keeps every published body fetched, for the leak scan.
	bodies map[string][]byte
}

func (c *client) do(method, path string, hdr map[string]string) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: cuerpo: %v", method, path, err)
	}
	if method == http.MethodGet && resp.StatusCode == http.StatusOK {
		c.bodies[path] = b
	}
	return resp, b
}

// get fetches path and requires status 200 (following one redirect).
func (c *client) get(path string) (*http.Response, []byte) {
	c.t.Helper()
	resp, b := c.do(http.MethodGet, path, nil)
	if resp.StatusCode == http.StatusFound {
		loc := resp.Header.Get("Location")
		resp, b = c.do(http.MethodGet, loc, nil)
	}
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
	}
	return resp, b
}

var linkRe = regexp.MustCompile(`href="([^"]+)"`)

// TestDatasetsJourney tries the open-data area as a journalist would: finds
// a dataset on /datos by searching, opens its page (dictionary, licence,
// citation, disclosure statement, preview), downloads it whole as CSV,
// Excel CSV, JSON and Parquet (a Spanish 501 where the engine cannot write
// Parquet), resumes a download with a range, reads the metadata in every
// ecosystem format and pages through the JSON API. Then every byte served
// (every dataset, format, release, diff, page and API answer) is scanned for
// the demo's raw ids, names and addresses and for plain hashes of the ids.
func TestDatasetsJourney(t *testing.T) {
	datasetstest.KeepCacheDir(t)
	whtest.Each(t, func(t *testing.T, e warehouse.Engine) {
		ctx := datasetstest.Ctx(t)
		cache := t.TempDir()
		datasets.CacheDir = cache
		f := datasetstest.Load(t, e)
		// A second committed ETL run, so that datasets have two releases.
		p, _ := etl.NewPseudonymizer(datasetstest.Key)
		o := demo.DefaultOptions()
		o.Seed, o.Scale, o.FirstYear = 11, 0.05, 2024
		more := &datasetstest.Fixture{Eng: e}
		demo.GenerateRows(o, func(l *demo.Liquidation) error { more.Liquidations = append(more.Liquidations, *l); return nil },
			func(pm *demo.Payment) error { more.Payments = append(more.Payments, *pm); return nil })
		if _, err := etl.LoadDemo(ctx, e, p, o); err != nil {
			t.Fatal(err)
		}
		if _, err := datasets.Publish(ctx, e, datasets.PublishOptions{}); err != nil {
			t.Fatal(err)
		}
		// A journey of one client downloading everything: not what the
		// rate limits are tested with (limits_test.go).
		srv := httptest.NewServer(New(e, Options{Demo: true, RateLimits: &RateLimits{}}).Handler())
		defer srv.Close()
		c := &client{t: t, base: srv.URL, bodies: map[string][]byte{}}

		// 1. Find the dataset: the list, a search, a tag.
		_, list := c.get("/datos")
		for _, d := range datasets.Catalog {
			if !bytes.Contains(list, []byte(`href="/datos/`+d.ID+`"`)) {
				t.Errorf("/datos no enlaza %s", d.ID)
			}
		}
		_, found := c.get("/datos?q=cartera+morosidad")
		if !bytes.Contains(found, []byte(`href="/datos/cartera"`)) || bytes.Contains(found, []byte(`href="/datos/entidades"`)) {
			t.Errorf("la búsqueda «cartera morosidad» no encuentra solo la cartera")
		}
		_, tagged := c.get("/datos?etiqueta=" + url.QueryEscape("verificación"))
		if !bytes.Contains(tagged, []byte(`href="/datos/verificacion"`)) || !bytes.Contains(tagged, []byte(`href="/datos/liquidaciones"`)) || bytes.Contains(tagged, []byte(`href="/datos/pagos-diarios"`)) {
			t.Errorf("la etiqueta «verificación» no filtra")
		}

		// 2. Its page: dictionary, licence, citation, disclosure, preview,
		// a download button for every format, a curl line.
		id := "liquidaciones"
		_, page := c.get("/datos/" + id)
		for _, want := range []string{"Diccionario de datos", "<code>rango_base</code>", "CC BY 4.0", "Cite así", "k-anónimo", "Vista previa",
			"Historial de versiones", "curl -fLO", "sha256sum -c", "Procedencia", "visita", "descarga"} {
			if !bytes.Contains(page, []byte(want)) {
				t.Errorf("la página de %s no dice %q", id, want)
			}
		}
		rel, err := datasets.Latest(ctx, e, id)
		if err != nil {
			t.Fatal(err)
		}
		// Every link on the page works.
		for _, m := range linkRe.FindAllSubmatch(page, -1) {
			href := string(bytes.ReplaceAll(m[1], []byte("&amp;"), []byte("&")))
			if !strings.HasPrefix(href, "/") || strings.HasPrefix(href, "/static/") {
				continue
			}
			resp, b := c.do(http.MethodGet, href, nil)
			if resp.StatusCode == http.StatusFound {
				resp, b = c.do(http.MethodGet, resp.Header.Get("Location"), nil)
			}
			if resp.StatusCode != http.StatusOK && !(resp.StatusCode == http.StatusNotImplemented && strings.HasSuffix(href, ".parquet")) {
				t.Errorf("enlace %s de la página: %s %s", href, resp.Status, b)
			}
		}

		// 3. Downloads of the whole dataset in every format.
		resp, csvBody := c.get("/datos/" + id + ".csv")
		f0, _ := rel.File(id + ".csv")
		if sum := sha256.Sum256(csvBody); hex.EncodeToString(sum[:]) != f0.SHA256 {
			t.Errorf("el CSV descargado no tiene la suma publicada")
		}
		if resp.Header.Get("ETag") != `"`+f0.SHA256+`"` || resp.Header.Get("Content-Length") != fmt.Sprint(f0.Bytes) || resp.Header.Get("Last-Modified") == "" {
			t.Errorf("cabeceras del CSV: ETag %q, Content-Length %q, Last-Modified %q", resp.Header.Get("ETag"), resp.Header.Get("Content-Length"), resp.Header.Get("Last-Modified"))
		}
		recs, err := csv.NewReader(bytes.NewReader(csvBody)).ReadAll()
		if err != nil || uint64(len(recs)-1) != rel.Rows || strings.Join(recs[0], ",") != strings.Join(mustGet(id).ColumnNames(), ",") {
			t.Errorf("CSV: %v, %d filas (versión: %d)", err, len(recs)-1, rel.Rows)
		}
		// Not modified, and a resumed download (range).
		if r304, _ := c.do(http.MethodGet, "/datos/"+id+".csv", map[string]string{"If-None-Match": `"` + f0.SHA256 + `"`}); r304.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %s", r304.Status)
		}
		// From the node's local copy and from the warehouse's.
		half := len(csvBody) / 2
		for _, dir := range []string{cache, ""} {
			datasets.CacheDir = dir
			rr, part := c.do(http.MethodGet, fmt.Sprintf("/datos/%s/versiones/%d/%s.csv", id, rel.Number, id), map[string]string{"Range": fmt.Sprintf("bytes=%d-", half)})
			if rr.StatusCode != http.StatusPartialContent || !bytes.Equal(part, csvBody[half:]) {
				t.Errorf("reanudar la descarga (caché %q): %s, %d bytes (se esperaban %d)", dir, rr.Status, len(part), len(csvBody)-half)
			}
		}
		datasets.CacheDir = cache
		// A node without the local copy makes it (and checks its hash).
		os.RemoveAll(cache)
		if _, again := c.get("/datos/" + id + ".csv"); !bytes.Equal(again, csvBody) {
			t.Errorf("la copia local rehecha desde el almacén difiere")
		}
		if _, err := os.Stat(filepath.Join(cache, f0.SHA256[:2], f0.SHA256)); err != nil {
			t.Errorf("no se rehízo la copia local: %v", err)
		}
		_, xls := c.get("/datos/" + id + ".excel.csv")
		if !bytes.HasPrefix(xls, []byte("\xEF\xBB\xBFid_registro;contribuyente;")) {
			t.Errorf("CSV para Excel sin BOM o sin punto y coma: %q", xls[:min(40, len(xls))])
		}
		_, js := c.get("/datos/" + id + ".json")
		var rows []map[string]any
		if err := json.Unmarshal(js, &rows); err != nil || uint64(len(rows)) != rel.Rows {
			t.Errorf("JSON: %v, %d filas", err, len(rows))
		}
		pr, pq := c.do(http.MethodGet, "/datos/"+id+".parquet", nil)
		if datasets.ParquetSupported(ctx, e) {
			if pr.StatusCode != http.StatusOK || !bytes.HasPrefix(pq, []byte("PAR1")) {
				t.Errorf("Parquet: %s %q", pr.Status, pq[:min(8, len(pq))])
			}
			if n := parquetRows(t, e, pq); n != rel.Rows {
				t.Errorf("Parquet: %d filas, la versión tiene %d", n, rel.Rows)
			}
		} else if pr.StatusCode != http.StatusNotImplemented || !bytes.Contains(pq, []byte("no escribe Parquet")) {
			t.Errorf("Parquet en un motor sin Parquet: %s %s", pr.Status, pq)
		}

		// Many downloads at once (more than the engine's connections): all
		// complete, whole.
		var wg sync.WaitGroup
		errs := make(chan error, 24)
		for i := 0; i < 24; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				path := "/datos/" + id + ".csv"
				if i%3 == 1 {
					path = "/datos/" + id + ".csv?codigo_municipio=68001"
				} else if i%3 == 2 {
					path = "/api/datos/" + id + "?limite=50"
				}
				cl := &http.Client{Timeout: 60 * time.Second}
				resp, err := cl.Get(srv.URL + path)
				if err != nil {
					errs <- err
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || (i%3 == 0 && !bytes.Equal(b, csvBody)) {
					errs <- fmt.Errorf("%s: %s, %d bytes, %v", path, resp.Status, len(b), err)
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("descargas simultáneas: %v", err)
		}

		// 4. A filtered part, and a bad filter.
		_, sub := c.get("/datos/" + id + ".csv?codigo_municipio=68001&vigencia=2023")
		subRecs, _ := csv.NewReader(bytes.NewReader(sub)).ReadAll()
		if len(subRecs) < 2 {
			t.Errorf("filtro: %d filas", len(subRecs)-1)
		}
		for _, r := range subRecs[1:] {
			if r[2] != "68001" || r[5] != "2023" {
				t.Errorf("fila fuera del filtro: %v", r)
				break
			}
		}
		if br, b := c.do(http.MethodGet, "/datos/"+id+".csv?nombre=Pérez", nil); br.StatusCode != http.StatusBadRequest || !bytes.Contains(b, []byte("No se puede filtrar")) {
			t.Errorf("filtro por columna no declarada: %s %s", br.Status, b)
		}

		// 5. Metadata: datapackage.json, data.json, CKAN.
		_, dp := c.get("/datos/" + id + "/datapackage.json")
		var pkg map[string]any
		if err := json.Unmarshal(dp, &pkg); err != nil || pkg["name"] != id {
			t.Errorf("datapackage.json: %v %v", err, pkg["name"])
		}
		_, dj := c.get("/data.json")
		var cat struct {
			Dataset []map[string]any `json:"dataset"`
		}
		if err := json.Unmarshal(dj, &cat); err != nil || len(cat.Dataset) != len(datasets.Catalog) {
			t.Errorf("data.json: %v, %d conjuntos", err, len(cat.Dataset))
		}
		_, pl := c.get("/api/3/action/package_list")
		if !bytes.Contains(pl, []byte(`"success":true`)) || !bytes.Contains(pl, []byte(`"liquidaciones"`)) {
			t.Errorf("package_list: %s", pl)
		}
		c.get("/api/3/action/package_show?id=" + id)
		_, ds := c.get("/api/3/action/datastore_search?resource_id=" + id + "&limit=5&filters=" + url.QueryEscape(`{"codigo_municipio":"68001"}`))
		var dsr struct {
			Success bool `json:"success"`
			Result  struct {
				Records []map[string]any `json:"records"`
				Total   uint64           `json:"total"`
			} `json:"result"`
		}
		if err := json.Unmarshal(ds, &dsr); err != nil || !dsr.Success || len(dsr.Result.Records) != 5 || dsr.Result.Total == 0 {
			t.Errorf("datastore_search: %v %s", err, ds[:min(200, len(ds))])
		}
		if nr, _ := c.do(http.MethodGet, "/api/3/action/package_show?id=no-existe", nil); nr.StatusCode != http.StatusNotFound {
			t.Errorf("package_show de un conjunto inexistente: %s", nr.Status)
		}

		// 6. The JSON API, page by page, has every row once, in order.
		next := "/api/datos/" + id + "?limite=700"
		seen := uint64(0)
		last := 0.0
		for pages := 0; next != ""; pages++ {
			if pages > 100 {
				t.Fatal("la paginación no termina")
			}
			_, b := c.get(strings.TrimPrefix(next, srv.URL))
			var pg struct {
				Registros []map[string]any `json:"registros"`
				Siguiente *string          `json:"siguiente"`
				Version   uint32           `json:"version"`
			}
			if err := json.Unmarshal(b, &pg); err != nil {
				t.Fatal(err)
			}
			for _, r := range pg.Registros {
				if r["_id"].(float64) <= last {
					t.Fatalf("orden inestable: _id %v tras %v", r["_id"], last)
				}
				last = r["_id"].(float64)
			}
			seen += uint64(len(pg.Registros))
			next = ""
			if pg.Siguiente != nil {
				next = *pg.Siguiente
			}
		}
		if seen != rel.Rows {
			t.Errorf("la API devolvió %d filas, la versión tiene %d", seen, rel.Rows)
		}

		// 7. Every dataset, every release, every file, the diffs, the
		// latest aliases, the pages: then the leak scan over all of it.
		for _, d := range datasets.Catalog {
			c.get("/datos/" + d.ID)
			_, vb := c.get("/datos/" + d.ID + "/versiones")
			var vs struct {
				Versiones []struct {
					Version     uint32          `json:"version"`
					Archivos    []datasets.File `json:"archivos"`
					Diferencias string          `json:"diferencias"`
				} `json:"versiones"`
			}
			if err := json.Unmarshal(vb, &vs); err != nil || len(vs.Versiones) == 0 {
				t.Fatalf("%s: versiones: %v", d.ID, err)
			}
			for _, v := range vs.Versiones {
				for _, fl := range v.Archivos {
					_, b := c.get(fmt.Sprintf("/datos/%s/versiones/%d/%s", d.ID, v.Version, fl.Name))
					if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != fl.SHA256 {
						t.Errorf("%s v%d %s: la suma no coincide", d.ID, v.Version, fl.Name)
					}
					if fl.Format == datasets.FormatParquet {
						c.bodies[fmt.Sprintf("/datos/%s/versiones/%d/%s (decodificado)", d.ID, v.Version, fl.Name)] = parquetText(t, e, b)
					}
				}
				if v.Diferencias != "" {
					c.get(strings.TrimPrefix(v.Diferencias, srv.URL))
				}
			}
			for _, ext := range []string{".csv", ".excel.csv", ".json"} {
				c.get("/datos/" + d.ID + ext)
			}
			c.get("/api/datos/" + d.ID + "?limite=10000")
			c.get("/api/3/action/package_show?id=" + d.ID)
			c.get("/api/3/action/datastore_search?resource_id=" + d.ID + "&limit=32000")
		}
		if len(f.Liquidations) == 0 {
			t.Fatal("sin registros de origen")
		}
		f.Liquidations = append(f.Liquidations, more.Liquidations...)
		f.Payments = append(f.Payments, more.Payments...)
		sc := f.Scanner(datasetstest.Key)
		total := 0
		for path, b := range c.bodies {
			total += len(b)
			for _, l := range sc.Find(b) {
				t.Errorf("FUGA en %s: %s %q (byte %d)", path, l.Kind, l.Value, l.At)
			}
		}
		t.Logf("escaneados %d cuerpos (%d bytes) contra %d valores personales y hashes", len(c.bodies), total, sc.Patterns())
		if dir := os.Getenv("OBSERVATORIO_GUARDAR_DESCARGAS"); dir != "" { // to look at them by hand
			for path, b := range c.bodies {
				os.WriteFile(filepath.Join(dir, e.Kind()+strings.NewReplacer("/", "_", "?", "_").Replace(path)), b, 0o644)
			}
		}
	})
}

func mustGet(id string) *datasets.Dataset {
	d, err := datasets.Get(id)
	if err != nil {
		panic(err)
	}
	return d
}

// parquetText decodes a Parquet file with the engine (chDB reads Parquet)
// into TabSeparated text, so that the leak scan sees its values whatever
// the compression or the encoding.
func parquetText(t *testing.T, e warehouse.Engine, b []byte) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.parquet")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := e.Stream(datasetstest.Ctx(t), &out, "TabSeparated", "SELECT * FROM file('"+path+"', 'Parquet')"); err != nil {
		t.Fatalf("no se pudo leer el Parquet: %v", err)
	}
	return out.Bytes()
}

func parquetRows(t *testing.T, e warehouse.Engine, b []byte) uint64 {
	return uint64(bytes.Count(parquetText(t, e, b), []byte("\n")))
}
