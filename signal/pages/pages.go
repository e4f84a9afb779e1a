// Package pages serves the frontend to browsers: its HTML pages (the
// home page, /watch/<stream>, /embed/<stream>, and any other page a
// handler asks for by name, such as the studio's), its scripts and styles,
// the browser peer at plain and fingerprinted paths (package static
// compresses and fingerprints them), the 404 page, and the headers every
// response carries (SecurityHeaders: the Content-Security-Policy). The
// embed page is the one page other sites may frame (Config.FrameAncestors).
//
//	p, err := pages.New(pages.Config{FS: frontend.FS, FrameAncestors: "*", Logger: log})
//	r.Use(pages.SecurityHeaders)
//	r.NotFound(p.NotFound)
//	r.Get("/watch/{stream}", p.Watch)
//	r.Get("/", p.Page("index.html"))
//	r.Get("/*", p.Static)
package pages

import (
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/jsonhttp"
	"github.com/shoal-live/shoal/signal/static"
)

// Config sets up Pages.
type Config struct {
	// FS holds the frontend (see package frontend).
	FS fs.FS
	// FrameAncestors is the CSP frame-ancestors source list of the embed
	// page, the sites that may frame it (DefaultFrameAncestors when it
	// has no source).
	FrameAncestors string
	Logger         *slog.Logger
}

// DefaultFrameAncestors lets any site embed the player.
const DefaultFrameAncestors = "*"

// Pages serves the frontend. Make it with New.
type Pages struct {
	files          *static.Files
	frameAncestors string
	log            *slog.Logger
}

// New loads and compresses the frontend's files and logs the browser
// peer's sizes, or that it is not built.
func New(cfg Config) (*Pages, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	files, err := static.New(cfg.FS, static.Options{Fingerprint: fingerprinted, Skip: notServed})
	if err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	p := &Pages{files: files, frameAncestors: frameAncestors(cfg.FrameAncestors), log: cfg.Logger}
	p.logStatic()
	return p, nil
}

// fingerprinted are the files served also at a content-hashed path, cached
// for good: the browser peer, the biggest download by far, and the Go glue
// it needs (which changes with the Go version).
var fingerprinted = []string{"wasm/shoal.wasm", "wasm/wasm_exec.js"}

// notServed reports the frontend's files that are not for browsers.
func notServed(name string) bool {
	return strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".md")
}

// Wasm serves the browser peer and Go's wasm_exec.js (/wasm/*), at their
// plain paths (revalidated by ETag) and at their fingerprinted ones
// (cached for good); see package static.
func (p *Pages) Wasm(w http.ResponseWriter, r *http.Request) {
	f, hashed, ok := p.files.Lookup(strings.TrimPrefix(path.Clean(r.URL.Path), "/"))
	if !ok {
		if _, _, built := p.files.Lookup("wasm/shoal.wasm"); !built {
			jsonhttp.Error(w, http.StatusServiceUnavailable, "the browser peer is not built: run `go tool task build`")
			return
		}
		p.NotFound(w, r)
		return
	}
	f.Serve(w, r, hashed)
}

// Watch serves the viewer page (/watch/{stream}).
func (p *Pages) Watch(w http.ResponseWriter, r *http.Request) {
	if !signaling.ValidStream(chi.URLParam(r, "stream")) {
		p.NotFound(w, r)
		return
	}
	p.Page("viewer.html")(w, r)
}

// Page serves one HTML page from the frontend, with the fingerprinted
// paths of the browser peer in place of the plain ones (see package
// static), so that its preload links and the loader fetch what the
// browser may keep for good.
func (p *Pages) Page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, _, ok := p.files.Lookup(name)
		if !ok {
			p.NotFound(w, r)
			return
		}
		f.Serve(w, r, false)
	}
}

// Static serves scripts, styles and anything else in the frontend but
// its Go and Markdown files, compressed and with an ETag.
func (p *Pages) Static(w http.ResponseWriter, r *http.Request) {
	f, hashed, ok := p.files.Lookup(strings.TrimPrefix(path.Clean(r.URL.Path), "/"))
	if !ok {
		p.NotFound(w, r)
		return
	}
	f.Serve(w, r, hashed)
}

var notFoundPage = template.Must(template.New("404").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Not found · Shoal</title><link rel="stylesheet" href="/css/shoal.css"></head>
<body><main class="error-page"><h1>Nothing here</h1><p>No page at <code>{{.}}</code>.</p><p><a href="/">Back to Shoal</a></p></main></body></html>`))

// NotFound answers 404: a page for a browser, JSON for the API and for
// clients that do not ask for HTML.
func (p *Pages) NotFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") || !strings.Contains(r.Header.Get("Accept"), "text/html") {
		jsonhttp.Error(w, http.StatusNotFound, "not found")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	notFoundPage.Execute(w, r.URL.Path)
}

// logStatic reports the browser peer's sizes, or that it is not built.
func (p *Pages) logStatic() {
	st := p.files.Stats()
	f, _, ok := p.files.Lookup("wasm/shoal.wasm")
	if !ok {
		p.log.Warn("browser peer not built: viewers cannot join; run `go tool task build`")
		return
	}
	args := []any{"url", p.files.URL("wasm/shoal.wasm"), "raw_bytes", len(f.Raw)}
	for _, c := range f.Codings() {
		args = append(args, c+"_bytes", len(f.Body(c)))
	}
	args = append(args, "files", st.Files, "took", st.Took.Round(time.Millisecond))
	p.log.Info("browser peer ready", args...)
	if len(st.Compressed) > 0 {
		p.log.Warn("compressed at start, quickly, for want of up-to-date build-time copies (no brotli): run `go tool task build:wasm`",
			"files", strings.Join(st.Compressed, " "))
	}
}
