package dashboards

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
)

// asset is one static file, with its content hash and a gzip copy.
type asset struct {
	body *Body
	hash string
}

var (
	assetsOnce   sync.Once
	assetsByPath map[string]*asset
)

func loadAssets() {
	assetsByPath = map[string]*asset{}
	fsys := Assets()
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		if strings.HasPrefix(ct, "text/") && !strings.Contains(ct, "charset") {
			ct += "; charset=utf-8"
		}
		sum := sha256.Sum256(data)
		b := &Body{Type: ct, Data: data, ETag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		if compressible(p) {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(data)
			zw.Close()
			if buf.Len() < len(data) {
				b.Gzip = buf.Bytes()
			}
		}
		assetsByPath[p] = &asset{body: b, hash: hex.EncodeToString(sum[:6])}
		return nil
	})
}

func compressible(p string) bool {
	switch path.Ext(p) {
	case ".js", ".css", ".json", ".svg", ".txt", ".html", "":
		return true
	}
	return false
}

// assetURL is the address of a static file with its content hash, so that
// browsers may keep it for a year and still get a new version at once.
func assetURL(p string) string {
	assetsOnce.Do(loadAssets)
	if a := assetsByPath[p]; a != nil {
		return "/static/" + p + "?v=" + a.hash
	}
	return "/static/" + p
}

// AssetHandler serves the static files (mount it at /static/): gzip for
// clients that accept it, an ETag, and a year of caching for addresses
// that carry the current content hash (?v=...).
func AssetHandler() http.Handler {
	assetsOnce.Do(loadAssets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Método no permitido.", http.StatusMethodNotAllowed)
			return
		}
		p := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(r.URL.Path, "/static")), "/")
		a := assetsByPath[p]
		if a == nil {
			http.Error(w, "No encontrado.", http.StatusNotFound)
			return
		}
		resp := &Response{Status: http.StatusOK, Body: a.body, Header: http.Header{}}
		if r.URL.Query().Get("v") == a.hash {
			resp.Header.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			resp.Header.Set("Cache-Control", "public, max-age=300")
		}
		resp.Write(w, r)
	})
}
