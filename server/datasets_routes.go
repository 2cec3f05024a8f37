package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/observatorio-civico/observatorio/datasets"
	"github.com/observatorio-civico/observatorio/stale"
	"github.com/observatorio-civico/observatorio/warehouse"
)

// datasetHandlers serve the open-data area: the catalog pages, downloads of
// releases (whole files with ranges, or filtered exports streamed from the
// same release), the JSON API, metadata (datapackage.json, /data.json) and
// a read-only CKAN action API. All the work is in package datasets.
type datasetHandlers struct {
	s     *Server
	stats *datasets.Stats
	// last keeps the last good answer of each page and release lookup:
	// served, marked stale, while the warehouse does not answer. Release
	// files come from the node's local copies, so whole downloads of the
	// latest releases keep working too.
	last *stale.Store
}

func (s *Server) datasetRoutes(r gin.IRouter) {
	h := &datasetHandlers{s: s, stats: &datasets.Stats{}, last: stale.NewStore(2048)}
	r.GET("/datos", h.list)
	r.GET("/datos/:id", h.datasetOrFile)
	r.GET("/datos/:id/datapackage.json", h.dataPackage)
	r.GET("/datos/:id/versiones", h.releases)
	r.GET("/datos/:id/versiones/:version/:file", h.releaseFile)
	r.GET("/datos/:id/diferencias", h.diff)
	r.GET("/api/datos/:id", h.apiPage)
	r.GET("/data.json", h.dcat)
	r.GET("/api/3/action/:action", h.ckan)
	r.HEAD("/datos/:id", h.datasetOrFile)
	r.HEAD("/datos/:id/versiones/:version/:file", h.releaseFile)
}

// baseURL is the site's absolute URL as the client reached it.
func baseURL(c *gin.Context) string {
	scheme := "http"
	if c.Request.TLS != nil || c.GetHeader("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

func (h *datasetHandlers) info() datasets.PageInfo {
	return datasets.PageInfo{Demo: h.s.opts.Demo, Engine: engineLabel(h.s.eng)}
}

// problem answers an error in Spanish with the right status.
func (h *datasetHandlers) problem(c *gin.Context, err error) {
	switch {
	case datasets.IsBadRequest(err):
		c.String(http.StatusBadRequest, err.Error()+"\n")
	case errors.Is(err, datasets.ErrNoRelease):
		c.Header("Retry-After", "60")
		c.String(http.StatusServiceUnavailable, "Este conjunto de datos todavía no tiene versiones publicadas: se publica después de la primera carga confirmada del ETL.\n")
	case errors.Is(err, datasets.ErrNoSuchRelease), errors.Is(err, datasets.ErrNoFile):
		c.String(http.StatusNotFound, "No existe esa versión o ese archivo del conjunto de datos.\n")
	case errors.Is(err, datasets.ErrFormatUnavailable):
		c.String(http.StatusNotImplemented, datasets.ParquetUnavailable+"\n")
	default:
		h.s.fail(c, err)
	}
}

// servePage renders a page of the area, or, when the warehouse does not
// answer, its last good copy with the stale notice; without one, a 503
// page.
func (h *datasetHandlers) servePage(c *gin.Context, key string, render func(ctx context.Context, w io.Writer) error) {
	v, at, isStale, err := h.last.Fetch(c.Request.Context(), key, func(ctx context.Context) (any, error) {
		var buf bytes.Buffer
		if err := render(ctx, &buf); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	})
	if err != nil {
		if warehouse.Unavailable(err) {
			var buf bytes.Buffer
			if rerr := datasets.RenderNotice(&buf, h.info(), "Almacén de datos no disponible", stale.UnavailableMessage); rerr == nil {
				stale.UnavailableHeaders(c.Writer.Header())
				c.Data(http.StatusServiceUnavailable, "text/html; charset=utf-8", buf.Bytes())
				return
			}
		}
		h.s.fail(c, err)
		return
	}
	page := v.([]byte)
	if isStale {
		page = stale.MarkPage(page, at)
		stale.MarkHeaders(c.Writer.Header(), at)
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", page)
}

func (h *datasetHandlers) list(c *gin.Context) {
	q, tag := c.Query("q"), c.Query("etiqueta")
	h.servePage(c, "lista|"+q+"|"+tag, func(ctx context.Context, w io.Writer) error {
		return datasets.RenderList(ctx, w, h.s.web, h.stats, h.info(), q, tag)
	})
}

// splitFile parses "liquidaciones.excel.csv" into the dataset and format.
func splitFile(name string) (id, format string) {
	for _, f := range []struct{ suffix, format string }{{".excel.csv", datasets.FormatExcel}, {".csv", datasets.FormatCSV}, {".json", datasets.FormatJSON}, {".parquet", datasets.FormatParquet}} {
		if s, ok := strings.CutSuffix(name, f.suffix); ok {
			return s, f.format
		}
	}
	return name, ""
}

func (h *datasetHandlers) datasetOrFile(c *gin.Context) {
	id, format := splitFile(c.Param("id"))
	ds, err := datasets.Get(id)
	if err != nil {
		c.String(http.StatusNotFound, "No existe ese conjunto de datos. La lista está en /datos.\n")
		return
	}
	if format == "" {
		h.page(c, ds)
		return
	}
	h.download(c, ds, format)
}

func (h *datasetHandlers) page(c *gin.Context, ds *datasets.Dataset) {
	now := h.s.opts.Now()
	h.stats.Hit(ds.ID, false, now)
	h.stats.MaybeFlush(h.s.eng, now)
	base := baseURL(c)
	h.servePage(c, "detalle|"+ds.ID+"|"+base, func(ctx context.Context, w io.Writer) error {
		return datasets.RenderDetail(ctx, w, h.s.web, h.stats, h.info(), ds, base)
	})
}

// download serves the latest release in a format: the release's own file
// when the request has no filters (ranges, ETag, Content-Length), else an
// export of the same release streamed at constant memory.
func (h *datasetHandlers) download(c *gin.Context, ds *datasets.Dataset, format string) {
	ctx := c.Request.Context()
	q := c.Request.URL.Query()
	if format == datasets.FormatCSV && q.Get("perfil") == "excel" {
		format = datasets.FormatExcel
	}
	filters, err := ds.ParseFilters(q, "perfil", "version")
	if err != nil {
		h.problem(c, err)
		return
	}
	rel, staleAt, err := h.release(c, ds, q.Get("version"))
	if err != nil {
		h.problem(c, err)
		return
	}
	if format == datasets.FormatParquet && !rel.HasFormat(datasets.FormatParquet) {
		h.problem(c, datasets.ErrFormatUnavailable)
		return
	}
	now := h.s.opts.Now()
	if c.Request.Method == http.MethodGet {
		h.stats.Hit(ds.ID, true, now)
		h.stats.MaybeFlush(h.s.eng, now)
	}
	name := datasets.FileName(ds.ID, format)
	if len(filters) == 0 && format != datasets.FormatJSON {
		c.Header("Cache-Control", "public, max-age=60")
		h.serveFile(c, rel, name, staleAt)
		return
	}
	// A filtered (or JSON) export: generated from the release's rows.
	etag := fmt.Sprintf(`W/"%s-%d-%s-%x"`, ds.ID, rel.Number, format, hashString(c.Request.URL.RawQuery))
	if match := c.GetHeader("If-None-Match"); match != "" && match == etag {
		c.Status(http.StatusNotModified)
		return
	}
	w := &deferredHeaders{c: c, contentType: datasets.MediaType(format), disposition: `attachment; filename="` + name + `"`}
	c.Header("ETag", etag)
	c.Header("Last-Modified", rel.Created.UTC().Format(http.TimeFormat))
	c.Header("X-Version-Conjunto", strconv.FormatUint(uint64(rel.Number), 10))
	if c.Request.Method == http.MethodHead {
		c.Header("Content-Type", datasets.MediaType(format))
		c.Status(http.StatusOK)
		return
	}
	if err := datasets.Export(ctx, h.s.web, ds, rel, format, filters, w); err != nil {
		if !w.started {
			h.problem(c, err)
			return
		}
		slog.Error("descarga interrumpida", "conjunto", ds.ID, "formato", format, "error", err)
		return
	}
	if !w.started { // nothing written (cannot happen: every format writes a header)
		c.Status(http.StatusNoContent)
	}
}

func hashString(s string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// release resolves ?version= (empty: the latest). When the warehouse does
// not answer, the latest release last seen is returned with the time it
// was seen (staleAt; zero when fresh): a newer one may exist. A release by
// number never changes, so its last good copy is never stale.
func (h *datasetHandlers) release(c *gin.Context, ds *datasets.Dataset, v string) (rel *datasets.Release, staleAt time.Time, err error) {
	ctx := c.Request.Context()
	if v == "" || v == "ultima" || v == "latest" {
		val, at, isStale, err := h.last.Fetch(ctx, "ultima|"+ds.ID, func(ctx context.Context) (any, error) {
			return datasets.Latest(ctx, h.s.web, ds.ID)
		})
		if err != nil {
			return nil, time.Time{}, err
		}
		if isStale {
			staleAt = at
		}
		return val.(*datasets.Release), staleAt, nil
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return nil, time.Time{}, &datasets.ErrBadRequest{Msg: "La versión debe ser un número o «ultima»."}
	}
	val, _, _, err := h.last.Fetch(ctx, fmt.Sprintf("version|%s|%d", ds.ID, n), func(ctx context.Context) (any, error) {
		return datasets.GetRelease(ctx, h.s.web, ds.ID, uint32(n))
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	return val.(*datasets.Release), time.Time{}, nil
}

// serveFile serves a release file with http.ServeContent: Range and
// If-Range (resume), ETag (its SHA-256) and If-None-Match,
// Last-Modified, Content-Length. The bytes come from the node's local copy
// (sendfile) when it has or can make one, else from the warehouse. A
// release that may no longer be the latest (staleAt set: the warehouse did
// not answer) goes out marked stale, without validators.
func (h *datasetHandlers) serveFile(c *gin.Context, rel *datasets.Release, name string, staleAt time.Time) {
	ctx := c.Request.Context()
	var content io.ReadSeeker
	fh, f, err := datasets.CachedFile(ctx, h.s.web, rel, name)
	if err != nil {
		h.problem(c, err)
		return
	}
	if fh != nil {
		defer fh.Close()
		content = fh
	} else {
		r, err := datasets.OpenFile(ctx, h.s.web, rel, name)
		if err != nil {
			h.problem(c, err)
			return
		}
		defer r.Close()
		content = r
	}
	c.Header("Content-Type", f.MediaType)
	c.Header("X-Version-Conjunto", strconv.FormatUint(uint64(rel.Number), 10))
	c.Header("Repr-Digest", reprDigest(f.SHA256))
	if f.Format != "datapackage" {
		c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	}
	if !staleAt.IsZero() {
		stale.MarkHeaders(c.Writer.Header(), staleAt)
		http.ServeContent(c.Writer, c.Request, name, time.Time{}, content)
		return
	}
	c.Header("ETag", `"`+f.SHA256+`"`)
	http.ServeContent(c.Writer, c.Request, name, rel.Created, content)
}

func (h *datasetHandlers) releaseFile(c *gin.Context) {
	ds, err := datasets.Get(c.Param("id"))
	if err != nil {
		c.String(http.StatusNotFound, "No existe ese conjunto de datos.\n")
		return
	}
	v := c.Param("version")
	if v == "ultima" || v == "latest" {
		rel, staleAt, err := h.release(c, ds, v)
		if err != nil {
			h.problem(c, err)
			return
		}
		c.Header("Cache-Control", "no-cache")
		if !staleAt.IsZero() {
			stale.MarkHeaders(c.Writer.Header(), staleAt)
		}
		c.Redirect(http.StatusFound, fmt.Sprintf("/datos/%s/versiones/%d/%s", ds.ID, rel.Number, c.Param("file")))
		return
	}
	rel, _, err := h.release(c, ds, v)
	if err != nil {
		h.problem(c, err)
		return
	}
	name := c.Param("file")
	if _, format := splitFile(name); format == datasets.FormatParquet && !rel.HasFormat(datasets.FormatParquet) {
		h.problem(c, datasets.ErrFormatUnavailable)
		return
	}
	if c.Request.Method == http.MethodGet && name != "datapackage.json" {
		now := h.s.opts.Now()
		h.stats.Hit(ds.ID, true, now)
		h.stats.MaybeFlush(h.s.eng, now)
	}
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	h.serveFile(c, rel, name, time.Time{})
}

func (h *datasetHandlers) dataPackage(c *gin.Context) {
	ds, err := datasets.Get(c.Param("id"))
	if err != nil {
		c.String(http.StatusNotFound, "No existe ese conjunto de datos.\n")
		return
	}
	rel, staleAt, err := h.release(c, ds, "")
	if err != nil {
		h.problem(c, err)
		return
	}
	// The package refers to its files by relative path: redirect to the
	// release's folder, where they are.
	c.Header("Cache-Control", "no-cache")
	if !staleAt.IsZero() {
		stale.MarkHeaders(c.Writer.Header(), staleAt)
	}
	c.Redirect(http.StatusFound, fmt.Sprintf("/datos/%s/versiones/%d/datapackage.json", ds.ID, rel.Number))
}

// releases is the changelog as JSON.
func (h *datasetHandlers) releases(c *gin.Context) {
	ds, err := datasets.Get(c.Param("id"))
	if err != nil {
		c.String(http.StatusNotFound, "No existe ese conjunto de datos.\n")
		return
	}
	v, at, isStale, err := h.last.Fetch(c.Request.Context(), "versiones|"+ds.ID, func(ctx context.Context) (any, error) {
		return datasets.Releases(ctx, h.s.web, ds.ID)
	})
	if err != nil {
		h.problem(c, err)
		return
	}
	rels := v.([]datasets.Release)
	if isStale {
		stale.MarkHeaders(c.Writer.Header(), at)
	}
	type item struct {
		Version    uint32              `json:"version"`
		Publicada  string              `json:"publicada"`
		Corte      string              `json:"corte"`
		Filas      uint64              `json:"filas"`
		URL        string              `json:"url"`
		Archivos   []datasets.File     `json:"archivos"`
		Divulgacio datasets.Disclosure `json:"divulgacion"`
		Anterior   uint32              `json:"anterior,omitempty"`
		Cambios    string              `json:"diferencias,omitempty"`
	}
	out := []item{}
	base := baseURL(c)
	for i, r := range rels {
		it := item{Version: r.Number, Publicada: r.Created.Format("2006-01-02T15:04:05Z"), Corte: r.Cutoff.Format("2006-01-02T15:04:05Z"), Filas: r.Rows,
			URL: fmt.Sprintf("%s/datos/%s/versiones/%d/", base, ds.ID, r.Number), Archivos: r.Files, Divulgacio: r.Disclosure}
		if i+1 < len(rels) {
			it.Anterior = rels[i+1].Number
			it.Cambios = fmt.Sprintf("%s/datos/%s/diferencias?desde=%d&hasta=%d", base, ds.ID, it.Anterior, r.Number)
		}
		out = append(out, it)
	}
	c.JSON(http.StatusOK, gin.H{"conjunto": ds.ID, "versiones": out})
}

// diff downloads the rows added, removed and changed between two releases.
func (h *datasetHandlers) diff(c *gin.Context) {
	ds, err := datasets.Get(c.Param("id"))
	if err != nil {
		c.String(http.StatusNotFound, "No existe ese conjunto de datos.\n")
		return
	}
	if c.Query("desde") == "" || c.Query("hasta") == "" {
		h.problem(c, &datasets.ErrBadRequest{Msg: "Indique las dos versiones: ?desde=N&hasta=M."})
		return
	}
	a, _, err := h.release(c, ds, c.Query("desde"))
	if err != nil {
		h.problem(c, err)
		return
	}
	b, _, err := h.release(c, ds, c.Query("hasta"))
	if err != nil {
		h.problem(c, err)
		return
	}
	excel := c.Query("perfil") == "excel"
	name := fmt.Sprintf("%s-diferencias-%d-%d.csv", ds.ID, a.Number, b.Number)
	w := &deferredHeaders{c: c, contentType: "text/csv; charset=utf-8", disposition: `attachment; filename="` + name + `"`}
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	if err := datasets.Diff(c.Request.Context(), h.s.web, ds, a, b, excel, w); err != nil {
		if !w.started {
			h.problem(c, err)
			return
		}
		slog.Error("diferencias interrumpidas", "conjunto", ds.ID, "error", err)
	}
}

// apiPage is the keyset-paged JSON API: ?limite=N&despues=<_id> plus
// filters; each page links the next with the release pinned.
func (h *datasetHandlers) apiPage(c *gin.Context) {
	ds, err := datasets.Get(c.Param("id"))
	if err != nil {
		c.JSON(http.StatusNotFound, gin.H{"error": "No existe ese conjunto de datos."})
		return
	}
	q := c.Request.URL.Query()
	filters, err := ds.ParseFilters(q, "limite", "despues", "version")
	if err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
		return
	}
	limit := 100
	if v := q.Get("limite"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 10000 {
			c.JSON(http.StatusBadRequest, gin.H{"error": "limite debe ser un entero entre 1 y 10000."})
			return
		}
	}
	var after uint64
	if v := q.Get("despues"); v != "" {
		if after, err = strconv.ParseUint(v, 10, 64); err != nil {
			c.JSON(http.StatusBadRequest, gin.H{"error": "despues debe ser el _id de la última fila recibida."})
			return
		}
	}
	rel, _, err := h.release(c, ds, q.Get("version"))
	if err != nil {
		if errors.Is(err, datasets.ErrNoRelease) || errors.Is(err, datasets.ErrNoSuchRelease) || datasets.IsBadRequest(err) {
			c.JSON(http.StatusNotFound, gin.H{"error": err.Error()})
			return
		}
		h.failJSON(c, err, func(msg string) any { return gin.H{"error": msg} })
		return
	}
	// The rows themselves are read from the warehouse: no stale copy.
	page, err := datasets.ReadPage(c.Request.Context(), h.s.web, ds, rel, filters, after, 0, limit)
	if err != nil {
		h.failJSON(c, err, func(msg string) any { return gin.H{"error": msg} })
		return
	}
	var next any
	if page.More {
		nq := c.Request.URL.Query()
		nq.Set("version", strconv.FormatUint(uint64(rel.Number), 10))
		nq.Set("despues", strconv.FormatUint(page.Last, 10))
		nq.Set("limite", strconv.Itoa(limit))
		next = baseURL(c) + "/api/datos/" + ds.ID + "?" + nq.Encode()
	}
	campos := make([]gin.H, 0, len(ds.Columns))
	for _, col := range ds.Columns {
		campos = append(campos, gin.H{"nombre": col.Name, "tipo": col.Type, "unidad": col.Unit, "descripcion": col.Description})
	}
	c.Header("ETag", fmt.Sprintf(`W/"%s-%d-%x"`, ds.ID, rel.Number, hashString(c.Request.URL.RawQuery)))
	c.JSON(http.StatusOK, gin.H{
		"conjunto":  ds.ID,
		"version":   rel.Number,
		"publicada": rel.Created.Format("2006-01-02T15:04:05Z"),
		"campos":    campos,
		"registros": page.Records,
		"cantidad":  page.Rows,
		"siguiente": next,
	})
}

func (h *datasetHandlers) dcat(c *gin.Context) {
	v, at, isStale, err := h.last.Fetch(c.Request.Context(), "ultimas", func(ctx context.Context) (any, error) {
		return datasets.LatestAll(ctx, h.s.web)
	})
	if err != nil {
		h.s.fail(c, err)
		return
	}
	b, err := datasets.DCATCatalog(baseURL(c), v.(map[string]*datasets.Release))
	if err != nil {
		h.s.fail(c, err)
		return
	}
	if isStale {
		stale.MarkHeaders(c.Writer.Header(), at)
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", b)
}

// failJSON answers an error of a JSON API: a 503 with Retry-After in the
// API's own shape when the warehouse does not answer, else as fail does.
func (h *datasetHandlers) failJSON(c *gin.Context, err error, body func(msg string) any) {
	if warehouse.Unavailable(err) {
		stale.UnavailableHeaders(c.Writer.Header())
		c.JSON(http.StatusServiceUnavailable, body(stale.UnavailableMessage))
		return
	}
	h.s.fail(c, err)
}

// ckan is a read-only subset of CKAN's action API (package_list,
// package_show, datastore_search), in CKAN's response envelope.
func (h *datasetHandlers) ckan(c *gin.Context) {
	ctx := c.Request.Context()
	action := c.Param("action")
	help := baseURL(c) + "/api/3/action/help_show?name=" + action
	fail := func(status int, typ, msg string) {
		c.JSON(status, gin.H{"help": help, "success": false, "error": gin.H{"__type": typ, "message": msg}})
	}
	ok := func(result any) { c.JSON(http.StatusOK, gin.H{"help": help, "success": true, "result": result}) }
	switch action {
	case "package_list":
		ids := make([]string, len(datasets.Catalog))
		for i, d := range datasets.Catalog {
			ids[i] = d.ID
		}
		ok(ids)
	case "package_show":
		ds, err := datasets.Get(c.Query("id"))
		if err != nil {
			fail(http.StatusNotFound, "Not Found Error", "No encontrado: "+c.Query("id"))
			return
		}
		rel, _, err := h.release(c, ds, "")
		if err != nil && !errors.Is(err, datasets.ErrNoRelease) {
			h.failJSON(c, err, ckanUnavailable(help))
			return
		}
		ok(datasets.CKANPackage(baseURL(c), ds, rel))
	case "datastore_search":
		ds, err := datasets.Get(c.Query("resource_id"))
		if err != nil {
			fail(http.StatusNotFound, "Not Found Error", "Recurso no encontrado: "+c.Query("resource_id"))
			return
		}
		limit, offset := 100, int64(0)
		if v := c.Query("limit"); v != "" {
			if limit, err = strconv.Atoi(v); err != nil || limit < 0 || limit > 32000 {
				fail(http.StatusConflict, "Validation Error", "limit inválido")
				return
			}
		}
		if v := c.Query("offset"); v != "" {
			if offset, err = strconv.ParseInt(v, 10, 64); err != nil || offset < 0 {
				fail(http.StatusConflict, "Validation Error", "offset inválido")
				return
			}
		}
		filters, err := ds.CKANFilters(c.Query("filters"))
		if err != nil {
			fail(http.StatusConflict, "Validation Error", err.Error())
			return
		}
		rel, _, err := h.release(c, ds, "")
		if err != nil {
			if errors.Is(err, datasets.ErrNoRelease) {
				fail(http.StatusNotFound, "Not Found Error", err.Error())
				return
			}
			h.failJSON(c, err, ckanUnavailable(help))
			return
		}
		total, err := datasets.Count(ctx, h.s.web, ds, rel, filters)
		if err != nil {
			h.failJSON(c, err, ckanUnavailable(help))
			return
		}
		records := json.RawMessage("[]")
		if limit > 0 {
			page, err := datasets.ReadPage(ctx, h.s.web, ds, rel, filters, 0, offset, limit)
			if err != nil {
				h.failJSON(c, err, ckanUnavailable(help))
				return
			}
			records = page.Records
		}
		self := "/api/3/action/datastore_search?resource_id=" + ds.ID
		ok(gin.H{
			"resource_id": ds.ID,
			"fields":      ds.DatastoreFields(),
			"records":     records,
			"total":       total,
			"limit":       limit,
			"offset":      offset,
			"_links":      gin.H{"start": self, "next": fmt.Sprintf("%s&offset=%d&limit=%d", self, offset+int64(limit), limit)},
		})
	default:
		fail(http.StatusBadRequest, "Bad Request", "Acción no disponible en esta API de solo lectura: "+action+" (disponibles: package_list, package_show, datastore_search)")
	}
}

// ckanUnavailable is a 503 in CKAN's envelope.
func ckanUnavailable(help string) func(msg string) any {
	return func(msg string) any {
		return gin.H{"help": help, "success": false, "error": gin.H{"__type": "Service Unavailable", "message": msg}}
	}
}

// reprDigest is the RFC 9530 Repr-Digest value of a SHA-256 in hex.
func reprDigest(h string) string {
	b, err := hex.DecodeString(h)
	if err != nil {
		return ""
	}
	return "sha-256=:" + base64.StdEncoding.EncodeToString(b) + ":"
}
