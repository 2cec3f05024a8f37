package warehouse

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// nativeLoader loads a file in ClickHouse's Native format (optionally zstd
// compressed) into a table, the engine reading the bytes as they come: a
// restore never holds a table in memory. Engine.Insert takes Go values and
// would decode and re-encode every row; this path hands the engine its own
// format. Both backends implement it; restore needs it.
type nativeLoader interface {
	loadNative(ctx context.Context, table string, cols []Column, path, compression string, settings map[string]string) error
}

// columnList is "`a`, `b`" for the columns.
func columnList(cols []Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.Name)
	}
	return strings.Join(names, ", ")
}

// loadNative has chDB read the file itself with the file() table function
// (chDB's query text cannot carry binary data of any size, and the engine
// decompresses zstd natively).
func (e *embedded) loadNative(ctx context.Context, table string, cols []Column, path, compression string, _ map[string]string) error {
	if strings.ContainsAny(path, "*?{}") {
		// file() reads these as globs: the path would name other files.
		return fmt.Errorf("la ruta %s tiene caracteres comodín (* ? { }) que el motor embebido interpreta: mueva la copia a otra carpeta", path)
	}
	structure := make([]string, len(cols))
	for i, c := range cols {
		structure[i] = quoteIdent(c.Name) + " " + c.Type
	}
	method := "none"
	if compression == "zstd" {
		method = "zstd"
	}
	list := columnList(cols)
	q := fmt.Sprintf("INSERT INTO %s.%s (%s) SELECT %s FROM file(%s, 'Native', %s, %s)",
		quoteIdent(e.db), quoteIdent(table), list, list,
		quoteString(path), quoteString(strings.Join(structure, ", ")), quoteString(method))
	return e.Exec(ctx, q)
}

// loadNative posts the file to the HTTP interface as the body of an
// INSERT ... FORMAT Native, decompressing on the way (ClickHouse 18.16
// accepts only gzip and deflate request bodies).
func (s *server) loadNative(ctx context.Context, table string, cols []Column, path, compression string, settings map[string]string) error {
	q := fmt.Sprintf("INSERT INTO %s.%s (%s) FORMAT Native", quoteIdent(s.db), quoteIdent(table), columnList(cols))
	var lastErr error
	for _, addr := range s.httpAddrs {
		body, err := openNative(path, compression)
		if err != nil {
			return err
		}
		scheme := "http"
		if s.cfg.TLS {
			scheme = "https"
		}
		qs := url.Values{"database": {s.db}, "query": {q}}
		for k, v := range settings {
			qs.Set(k, v)
		}
		u := url.URL{Scheme: scheme, Host: addr, Path: "/", RawQuery: qs.Encode()}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), body)
		if err != nil {
			body.Close()
			return err
		}
		req.SetBasicAuth(s.cfg.User, s.cfg.Password)
		resp, err := s.http.Do(req)
		body.Close()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Refused before anything was written (a node down): the next
			// address gets the whole file again. Had the first node taken
			// rows, the restore's count check would say so.
			lastErr = err
			continue
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return &QueryError{Engine: "server", SQL: q, Message: strings.TrimSpace(string(msg))}
		}
		return nil
	}
	return fmt.Errorf("ninguna dirección HTTP de ClickHouse respondió: %w", lastErr)
}

// openNative opens a backup file, decompressed.
func openNative(path, compression string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	switch compression {
	case "", "none":
		return f, nil
	case "zstd":
		d, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
		if err != nil {
			f.Close()
			return nil, err
		}
		return &zstdFile{d: d, f: f}, nil
	}
	f.Close()
	return nil, fmt.Errorf("compresión desconocida %q", compression)
}

type zstdFile struct {
	d *zstd.Decoder
	f *os.File
}

func (z *zstdFile) Read(p []byte) (int, error) { return z.d.Read(p) }
func (z *zstdFile) Close() error {
	z.d.Close()
	return z.f.Close()
}
