package main

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"
)

// asset is a text file the demo serves from memory: the shop page, the
// site's scripts and styles, the catalogue. Like a site's build or CDN, it
// compresses each one once, at start, and sends the gzip copy to browsers
// that take it; on a slow network the page's own ~100 KB of text would
// otherwise share the line with the engine's download for half a second.
type asset struct {
	body, gz    []byte // gz is nil when compressing does not pay
	ctype, etag string
}

// minCompress is the size below which a gzip copy saves less than a round
// trip's worth of nothing: headers and framing eat the gain.
const minCompress = 1024

func newAsset(ctype string, body []byte) *asset {
	a := &asset{body: body, ctype: ctype, etag: etag(body)}
	if len(body) < minCompress {
		return a
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(body)
	zw.Close()
	if buf.Len() < len(body) {
		a.gz = buf.Bytes()
	}
	return a
}

// serve answers r with the asset, compressed when the browser takes gzip.
// The two encodings have their own strong ETag, as RFC 9110 asks, so a
// cache never answers a revalidation of one with the other.
func (a *asset) serve(w http.ResponseWriter, r *http.Request, name string) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	body, tag := a.body, a.etag
	if a.gz != nil {
		h.Set("Vary", "Accept-Encoding")
		if accepts(r.Header.Get("Accept-Encoding"), "gzip") {
			body, tag = a.gz, a.etag[:len(a.etag)-1]+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", tag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// siteAssets reads every file of fsys into an asset, by path.
func siteAssets(fsys fs.FS) (map[string]*asset, error) {
	assets := map[string]*asset{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			ctype = http.DetectContentType(body)
		}
		assets[name] = newAsset(ctype, body)
		return nil
	})
	return assets, err
}
