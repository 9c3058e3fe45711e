package main

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

//go:embed flows.json
var defaultFlows []byte

// staticCacheControl lets browsers keep assets a day; a versioned URL (?v=<hash>, which the
// pages use for the stylesheet) is kept a year.
const (
	staticCacheControl    = "public, max-age=86400"
	versionedCacheControl = "public, max-age=31536000, immutable"
)

// staticFile is an embedded asset with its ETag.
type staticFile struct {
	data        []byte
	etag        string
	contentType string
}

// staticFiles serves the embedded assets under /static/ with cache headers and ETags.
type staticFiles struct {
	files map[string]staticFile // by path under static/, e.g. "css/site.css"
}

func newStaticFiles() (*staticFiles, error) {
	sf := &staticFiles{files: make(map[string]staticFile)}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ct := assetType(path.Ext(p))
		if ct == "" {
			ct = http.DetectContentType(data)
		}
		sf.files[strings.TrimPrefix(p, "static/")] = staticFile{data: data, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, contentType: ct}
		return nil
	})
	return sf, err
}

// assetType is the Content-Type of the asset kinds a site ships, as Go's mime package has
// them built in; "" for any other extension. It does not ask the mime package, whose first
// look-up loads the system's whole MIME database (about 700 KB, kept for the life of the
// process, which the garbage collector then walks in every cycle), for two types.
func assetType(ext string) string {
	switch strings.ToLower(ext) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	case ".avif":
		return "image/avif"
	case ".ico":
		return "image/vnd.microsoft.icon"
	case ".json":
		return "application/json"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".woff2":
		return "font/woff2"
	case ".woff":
		return "font/woff"
	}
	return ""
}

// url returns the versioned URL of an asset, "/static/<name>?v=<hash>".
func (sf *staticFiles) url(name string) string {
	f, ok := sf.files[name]
	if !ok {
		return "/static/" + name
	}
	return "/static/" + name + "?v=" + strings.Trim(f.etag, `"`)
}

// ServeHTTP serves GET and HEAD /static/<name>.
func (sf *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := sf.files[strings.TrimPrefix(r.URL.Path, "/static/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", f.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if v := r.URL.Query().Get("v"); v != "" && `"`+v+`"` == f.etag {
		h.Set("Cache-Control", versionedCacheControl)
	} else {
		h.Set("Cache-Control", staticCacheControl)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.data))
}
