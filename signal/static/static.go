package static

import (
	"bytes"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Cache-Control values.
const (
	// Revalidate makes a browser ask before each use; the ETag turns the
	// answer into a 304 without a body when nothing changed.
	Revalidate = "no-cache"
	// Immutable lets a browser keep a fingerprinted file for a year
	// without asking: its path changes when its content does.
	Immutable = "public, max-age=31536000, immutable"
)

// Options configures New.
type Options struct {
	// Fingerprint lists files (paths in the file system, such as
	// "wasm/shoal.wasm") to serve also at a content-hashed path.
	Fingerprint []string
	// Skip reports files not to serve (sources, notes). Precompressed
	// copies and their .sha256 files are never served on their own.
	Skip func(name string) bool
}

// Files is a file system ready to serve. It never changes after New.
type Files struct {
	byPath  map[string]*File // every served path, hashed ones included
	hashed  map[string]bool  // the paths that are fingerprints
	hashURL map[string]string
	stats   Stats
}

// Stats says what New did, for the server's start-up log.
type Stats struct {
	Files         int
	Precompressed []string      // files whose build-time copies were used
	Compressed    []string      // big files New had to compress (no valid copies)
	Took          time.Duration // time New took
}

// File is one file, raw and in each content coding that pays.
type File struct {
	Name  string // path in the file system
	Type  string // Content-Type
	Hash  string // hex SHA-256 of Raw
	Raw   []byte
	coded []coded // in the order served: zstd, then smallest first
}

type coded struct {
	coding string
	body   []byte
}

// bigFile is the size above which New compresses a file without
// precompressed copies as zstd rather than brotli (and gzip, always).
const bigFile = 256 << 10

// hashLen is how many hex digits of SHA-256 a fingerprint and an ETag
// carry (64 bits).
const hashLen = 16

// New reads every file of fsys, compresses what pays and fingerprints
// opts.Fingerprint.
func New(fsys fs.FS, opts Options) (*Files, error) {
	start := time.Now()
	f := &Files{byPath: map[string]*File{}, hashed: map[string]bool{}, hashURL: map[string]string{}}
	var names []string
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (opts.Skip == nil || !opts.Skip(name)) {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	present := map[string]bool{}
	for _, n := range names {
		present[n] = true
	}
	var pages []string
	for _, name := range names {
		if isSidecar(name, present) {
			continue
		}
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("static: %w", err)
		}
		if path.Ext(name) == ".html" {
			pages = append(pages, name) // coded once the fingerprints are known
			f.byPath[name] = &File{Name: name, Raw: raw}
			continue
		}
		file, pre, err := load(fsys, name, raw, present)
		if err != nil {
			return nil, err
		}
		switch {
		case pre:
			f.stats.Precompressed = append(f.stats.Precompressed, name)
		case len(raw) > bigFile && compressible(name):
			f.stats.Compressed = append(f.stats.Compressed, name)
		}
		f.byPath[name] = file
	}
	var rewrites []string // old, new pairs for strings.NewReplacer
	for _, name := range opts.Fingerprint {
		file, ok := f.byPath[name]
		if !ok {
			continue // not built: served, if at all, by the caller's fallback
		}
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + file.Hash[:hashLen] + ext
		f.byPath[hashed] = file
		f.hashed[hashed] = true
		f.hashURL[name] = "/" + hashed
		rewrites = append(rewrites, "/"+name, "/"+hashed)
	}
	rw := strings.NewReplacer(rewrites...)
	for _, name := range pages {
		raw := []byte(rw.Replace(string(f.byPath[name].Raw)))
		file, err := build(name, raw)
		if err != nil {
			return nil, err
		}
		f.byPath[name] = file
	}
	f.stats.Files = len(f.byPath) - len(f.hashed)
	f.stats.Took = time.Since(start)
	return f, nil
}

// isSidecar reports whether name is a precompressed copy or a .sha256 of
// another file in the set.
func isSidecar(name string, present map[string]bool) bool {
	if base, ok := strings.CutSuffix(name, SumSuffix); ok && present[base] {
		return true
	}
	for _, c := range Codings {
		if base, ok := strings.CutSuffix(name, c.Suffix); ok && present[base] {
			return true
		}
	}
	return false
}

// load makes the File for name, from its precompressed copies when they
// were made from raw (pre is then true), else by compressing raw.
func load(fsys fs.FS, name string, raw []byte, present map[string]bool) (file *File, pre bool, err error) {
	sum := Sum(raw)
	if present[name+SumSuffix] {
		want, err := fs.ReadFile(fsys, name+SumSuffix)
		if err != nil {
			return nil, false, fmt.Errorf("static: %w", err)
		}
		if f := strings.Fields(string(want)); len(f) > 0 && f[0] == sum { // sha256sum's format
			file = &File{Name: name, Type: contentType(name), Hash: sum, Raw: raw}
			for _, c := range Codings {
				if !present[name+c.Suffix] {
					continue
				}
				body, err := fs.ReadFile(fsys, name+c.Suffix)
				if err != nil {
					return nil, false, fmt.Errorf("static: %w", err)
				}
				file.add(c.Name, body)
			}
			if len(file.coded) > 0 {
				return file, true, nil
			}
		}
	}
	file, err = build(name, raw)
	return file, false, err
}

// build makes the File for name, compressing raw itself.
func build(name string, raw []byte) (*File, error) {
	file := &File{Name: name, Type: contentType(name), Hash: Sum(raw), Raw: raw}
	if !compressible(name) {
		return file, nil
	}
	codings := []string{Brotli, Gzip}
	if len(raw) > bigFile {
		codings = []string{Zstd, Gzip} // brotli would take seconds
	}
	for _, c := range codings {
		body, err := Compress(c, raw, Fast)
		if err != nil {
			return nil, fmt.Errorf("static: %s: %w", name, err)
		}
		file.add(c, body)
	}
	return file, nil
}

// add keeps body as the file's coding c when it saves at least 5%.
func (f *File) add(c string, body []byte) {
	if len(body) > len(f.Raw)-len(f.Raw)/20 {
		return
	}
	f.coded = append(f.coded, coded{coding: c, body: body})
	sort.SliceStable(f.coded, func(i, j int) bool {
		if zi, zj := f.coded[i].coding == Zstd, f.coded[j].coding == Zstd; zi != zj {
			return zi
		}
		return len(f.coded[i].body) < len(f.coded[j].body)
	})
}

// Codings returns the content codings f is held in, in the order a
// client that accepts them all is served them: zstd first, then the
// smallest body first. zstd, though bigger than brotli at quality 11 (the
// wasm peer: 1.66 MB against 1.38 MB), is decoded several times faster,
// and a browser decodes in its one network service that every tab's
// requests go through: a brotli peer held that service ~100 ms a tab, and
// a streaming compile of the peer took 211 ms against zstd's 128 ms
// (docs/BENCHMARKS.md, session 8).
func (f *File) Codings() []string {
	out := make([]string, len(f.coded))
	for i, c := range f.coded {
		out[i] = c.coding
	}
	return out
}

// Body returns f in content coding c ("" or "identity" for raw), or nil.
func (f *File) Body(c string) []byte {
	if c == "" || c == Identity {
		return f.Raw
	}
	for _, cc := range f.coded {
		if cc.coding == c {
			return cc.body
		}
	}
	return nil
}

// Lookup returns the file served at path p (a URL path without its
// leading slash, such as "lib/shoal.js" or "wasm/shoal.0123456789abcdef.wasm"),
// and whether p is a fingerprint.
func (s *Files) Lookup(p string) (f *File, hashed, ok bool) {
	f, ok = s.byPath[p]
	return f, s.hashed[p], ok
}

// URL returns the fingerprinted URL path of name (one of
// Options.Fingerprint), or "/"+name when it has none.
func (s *Files) URL(name string) string {
	if u, ok := s.hashURL[name]; ok {
		return u
	}
	return "/" + name
}

// Stats says what New did.
func (s *Files) Stats() Stats { return s.stats }

// Serve answers r with f in the best content coding r accepts, with its
// ETag and Cache-Control (Immutable when hashed, else Revalidate).
// Conditional and range requests are handled by http.ServeContent.
func (f *File) Serve(w http.ResponseWriter, r *http.Request, hashed bool) {
	h := w.Header()
	h.Set("Content-Type", f.Type)
	if hashed {
		h.Set("Cache-Control", Immutable)
	} else {
		h.Set("Cache-Control", Revalidate)
	}
	etag := f.Hash[:hashLen]
	if len(f.coded) > 0 {
		h.Add("Vary", "Accept-Encoding")
		if c := Negotiate(r.Header.Get("Accept-Encoding"), f.Codings()); c != Identity {
			body := f.Body(c)
			h.Set("Content-Encoding", c)
			h.Set("ETag", `"`+etag+"-"+c+`"`) // a strong ETag names one representation
			// ServeContent leaves the length out once a Content-Encoding
			// is set (for handlers that compress as they write); this body
			// is whole. It still sets its own for a range.
			h.Set("Content-Length", strconv.Itoa(len(body)))
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
			return
		}
	}
	h.Set("ETag", `"`+etag+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.Raw))
}

// compressible reports whether name is text or WebAssembly, which
// compress well, rather than an image or a video, which do not.
func compressible(name string) bool {
	switch path.Ext(name) {
	case ".html", ".js", ".mjs", ".css", ".json", ".svg", ".txt", ".wasm", ".map", ".xml", ".md":
		return true
	}
	return false
}

func contentType(name string) string {
	switch path.Ext(name) { // fixed here rather than from the system's mime.types
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".wasm":
		return "application/wasm"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}
