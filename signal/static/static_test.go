package static_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shoal-live/shoal/signal/static"
)

// fakeWasm returns n bytes that compress about as well as a Go wasm binary
// (a few words in random order), different for each seed.
func fakeWasm(n int, seed uint64) []byte {
	words := []string{"\x00asm", "\x01\x00\x00\x00", "runtime.", "github.com/pion/", "func", "\x20\x00\x41\x08", "sync", "\xff\xfe", "net", "swarm"}
	rng := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		b.WriteByte(byte(rng.IntN(256)))
	}
	return b.Bytes()[:n]
}

const viewerHTML = `<!doctype html><link rel="preload" href="/wasm/shoal.wasm" as="fetch" type="application/wasm" crossorigin>` +
	`<link rel="preload" href="/wasm/wasm_exec.js" as="script"><script type="module" src="/viewer.js"></script>`

// frontend returns a file system like package frontend's, with the wasm
// peer (over 256 KiB, so compressed quickly when it has no copies) and,
// when sidecars is true, its build-time copies made from sumOf.
func frontend(t *testing.T, wasm []byte, sidecars bool, sumOf []byte) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{
		"viewer.html":       {Data: []byte(viewerHTML)},
		"viewer.js":         {Data: bytes.Repeat([]byte("import { loadShoal } from './lib/shoal.js';\n"), 40)},
		"lib/tiny.js":       {Data: []byte("export {}")},
		"css/shoal.css":     {Data: bytes.Repeat([]byte("body { margin: 0 }\n"), 40)},
		"logo.png":          {Data: fakeWasm(4000, 9)},
		"embed.go":          {Data: []byte("package frontend")},
		"wasm/README.md":    {Data: []byte("generated")},
		"wasm/shoal.wasm":   {Data: wasm},
		"wasm/wasm_exec.js": {Data: bytes.Repeat([]byte("globalThis.Go = class {};\n"), 200)},
	}
	if sidecars {
		for _, c := range static.Codings {
			b, err := static.Compress(c.Name, sumOf, static.Fast)
			if err != nil {
				t.Fatal(err)
			}
			fsys["wasm/shoal.wasm"+c.Suffix] = &fstest.MapFile{Data: b}
		}
		fsys["wasm/shoal.wasm.sha256"] = &fstest.MapFile{Data: []byte(static.Sum(sumOf) + "  shoal.wasm\n")}
	}
	return fsys
}

func newFiles(t *testing.T, fsys fstest.MapFS) *static.Files {
	t.Helper()
	files, err := static.New(fsys, static.Options{
		Fingerprint: []string{"wasm/shoal.wasm", "wasm/wasm_exec.js"},
		Skip: func(name string) bool {
			return strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".md")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// handler serves files the way the Shoal server does.
func handler(files *static.Files) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, hashed, ok := files.Lookup(strings.TrimPrefix(r.URL.Path, "/"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		f.Serve(w, r, hashed)
	})
}

func do(h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestServeWasm(t *testing.T) {
	wasm := fakeWasm(400<<10, 1)
	cases := []struct {
		name     string
		fsys     fstest.MapFS
		pre      bool     // the build-time copies are used
		codings  []string // what the wasm is held in
		chromium string   // what "gzip, deflate, br, zstd" gets
	}{
		{"build-time copies", frontend(t, wasm, true, wasm), true, []string{static.Brotli, static.Zstd, static.Gzip}, static.Zstd},
		{"stale copies", frontend(t, wasm, true, fakeWasm(400<<10, 2)), false, []string{static.Zstd, static.Gzip}, static.Zstd},
		{"no copies", frontend(t, wasm, false, nil), false, []string{static.Zstd, static.Gzip}, static.Zstd},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := newFiles(t, tc.fsys)
			h := handler(files)
			f, _, ok := files.Lookup("wasm/shoal.wasm")
			if !ok {
				t.Fatal("wasm/shoal.wasm not served")
			}
			if got := sorted(f.Codings()); got != sorted(tc.codings) {
				t.Fatalf("codings %s, want %s", got, sorted(tc.codings))
			}
			st := files.Stats()
			if pre := fmt.Sprint(st.Precompressed) == "[wasm/shoal.wasm]"; pre != tc.pre {
				t.Errorf("Stats.Precompressed = %v; want the wasm there: %v", st.Precompressed, tc.pre)
			}
			if !tc.pre && fmt.Sprint(st.Compressed) != "[wasm/shoal.wasm]" {
				t.Errorf("Stats.Compressed = %v, want the wasm", st.Compressed)
			}
			if first := f.Codings()[0]; first != tc.chromium {
				t.Fatalf("first coding %s, want %s", first, tc.chromium)
			}
			hashedPath := files.URL("wasm/shoal.wasm")
			if want := "/wasm/shoal." + static.Sum(wasm)[:16] + ".wasm"; hashedPath != want {
				t.Fatalf("URL = %s, want %s", hashedPath, want)
			}

			tests := []struct {
				name, path, accept string
				coding             string // Content-Encoding; "" for none
				cache              string
			}{
				{"chromium", "/wasm/shoal.wasm", "gzip, deflate, br, zstd", static.Zstd, static.Revalidate},
				{"chromium, hashed", hashedPath, "gzip, deflate, br, zstd", static.Zstd, static.Immutable},
				{"gzip only", "/wasm/shoal.wasm", "gzip", static.Gzip, static.Revalidate},
				{"zstd only", hashedPath, "zstd", static.Zstd, static.Immutable},
				{"br refused", "/wasm/shoal.wasm", "gzip;q=0.5, br;q=0, zstd;q=0.1", static.Gzip, static.Revalidate},
				{"br preferred", "/wasm/shoal.wasm", "gzip;q=0.5, br, zstd;q=0.9", map[bool]string{true: static.Brotli, false: static.Zstd}[tc.pre], static.Revalidate},
				{"no Accept-Encoding", "/wasm/shoal.wasm", "", "", static.Revalidate},
				{"identity only", hashedPath, "identity", "", static.Immutable},
				{"nothing acceptable", "/wasm/shoal.wasm", "*;q=0", "", static.Revalidate},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					w := do(h, http.MethodGet, tt.path, map[string]string{"Accept-Encoding": tt.accept})
					if w.Code != http.StatusOK {
						t.Fatalf("status %d", w.Code)
					}
					hdr := w.Header()
					if got := hdr.Get("Content-Encoding"); got != tt.coding {
						t.Errorf("Content-Encoding %q, want %q", got, tt.coding)
					}
					if got := hdr.Get("Vary"); got != "Accept-Encoding" {
						t.Errorf("Vary %q", got)
					}
					if got := hdr.Get("Cache-Control"); got != tt.cache {
						t.Errorf("Cache-Control %q, want %q", got, tt.cache)
					}
					if got := hdr.Get("Content-Type"); got != "application/wasm" {
						t.Errorf("Content-Type %q", got)
					}
					if got := hdr.Get("Content-Length"); got != fmt.Sprint(w.Body.Len()) {
						t.Errorf("Content-Length %s for %d bytes", got, w.Body.Len())
					}
					body := w.Body.Bytes()
					if tt.coding != "" {
						if len(body) >= len(wasm)/2 {
							t.Errorf("%s body is %d bytes of %d", tt.coding, len(body), len(wasm))
						}
						var err error
						if body, err = static.Decompress(tt.coding, body); err != nil {
							t.Fatal(err)
						}
					}
					if !bytes.Equal(body, wasm) {
						t.Fatal("the body does not decode to the wasm")
					}

					// Revalidation with the ETag just got costs a 304.
					etag := hdr.Get("ETag")
					want := `"` + static.Sum(wasm)[:16]
					if tt.coding != "" {
						want += "-" + tt.coding
					}
					if etag != want+`"` {
						t.Errorf("ETag %s, want %s\"", etag, want)
					}
					w = do(h, http.MethodGet, tt.path, map[string]string{"Accept-Encoding": tt.accept, "If-None-Match": etag})
					if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
						t.Errorf("revalidation: status %d with %d bytes, want 304 and none", w.Code, w.Body.Len())
					}
					if w.Header().Get("Vary") != "Accept-Encoding" || w.Header().Get("ETag") != etag || w.Header().Get("Content-Encoding") != "" {
						t.Errorf("304 headers %v", w.Header())
					}
				})
			}

			// Another coding's ETag does not validate this one.
			w := do(h, http.MethodGet, "/wasm/shoal.wasm", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": `"` + static.Sum(wasm)[:16] + `"`})
			if w.Code != http.StatusOK {
				t.Errorf("identity ETag for a gzip response: status %d, want 200", w.Code)
			}
			// A HEAD answers like a GET, without the body.
			w = do(h, http.MethodHead, hashedPath, map[string]string{"Accept-Encoding": "gzip"})
			if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("Content-Encoding") != "gzip" || w.Header().Get("Content-Length") == "" {
				t.Errorf("HEAD: status %d, %d bytes, Content-Encoding %q, Content-Length %q",
					w.Code, w.Body.Len(), w.Header().Get("Content-Encoding"), w.Header().Get("Content-Length"))
			}
			// A range is of the coded body, with its own length.
			w = do(h, http.MethodGet, hashedPath, map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
			gz := f.Body(static.Gzip)
			if w.Code != http.StatusPartialContent || w.Header().Get("Content-Length") != "10" || !bytes.Equal(w.Body.Bytes(), gz[:10]) {
				t.Errorf("range: status %d, Content-Length %q, body %x", w.Code, w.Header().Get("Content-Length"), w.Body.Bytes())
			}
		})
	}
}

func TestServeFiles(t *testing.T) {
	wasm := fakeWasm(300<<10, 1)
	files := newFiles(t, frontend(t, wasm, true, wasm))
	h := handler(files)
	wasmURL, execURL := files.URL("wasm/shoal.wasm"), files.URL("wasm/wasm_exec.js")
	if !strings.HasPrefix(execURL, "/wasm/wasm_exec.") || !strings.HasSuffix(execURL, ".js") || len(execURL) != len("/wasm/wasm_exec..js")+16 {
		t.Fatalf("wasm_exec.js URL %s", execURL)
	}
	chromium := map[string]string{"Accept-Encoding": "gzip, deflate, br, zstd"}
	tests := []struct {
		name, path string
		status     int
		coding     string
		cache      string
		ctype      string
	}{
		{"page", "/viewer.html", 200, static.Brotli, static.Revalidate, "text/html; charset=utf-8"},
		{"script", "/viewer.js", 200, static.Brotli, static.Revalidate, "text/javascript; charset=utf-8"},
		{"style", "/css/shoal.css", 200, static.Brotli, static.Revalidate, "text/css; charset=utf-8"},
		{"tiny script: not worth compressing", "/lib/tiny.js", 200, "", static.Revalidate, "text/javascript; charset=utf-8"},
		{"image: not compressed", "/logo.png", 200, "", static.Revalidate, "image/png"},
		{"wasm_exec.js", "/wasm/wasm_exec.js", 200, static.Brotli, static.Revalidate, "text/javascript; charset=utf-8"},
		{"wasm_exec.js, hashed", execURL, 200, static.Brotli, static.Immutable, "text/javascript; charset=utf-8"},
		{"wasm, hashed", wasmURL, 200, static.Zstd, static.Immutable, "application/wasm"},
		{"another hash", "/wasm/shoal.0123456789abcdef.wasm", 404, "", "", ""},
		{"a build-time copy is not served", "/wasm/shoal.wasm.br", 404, "", "", ""},
		{"nor its sum", "/wasm/shoal.wasm.sha256", 404, "", "", ""},
		{"Go source", "/embed.go", 404, "", "", ""},
		{"notes", "/wasm/README.md", 404, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(h, http.MethodGet, tt.path, chromium)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			if tt.status != 200 {
				return
			}
			hdr := w.Header()
			if hdr.Get("Content-Encoding") != tt.coding || hdr.Get("Cache-Control") != tt.cache || hdr.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Encoding %q, Cache-Control %q, Content-Type %q; want %q, %q, %q",
					hdr.Get("Content-Encoding"), hdr.Get("Cache-Control"), hdr.Get("Content-Type"), tt.coding, tt.cache, tt.ctype)
			}
			if vary := hdr.Get("Vary"); (tt.coding != "") != (vary == "Accept-Encoding") {
				t.Errorf("Vary %q with Content-Encoding %q", vary, tt.coding)
			}
			if hdr.Get("ETag") == "" {
				t.Error("no ETag")
			}
			w2 := do(h, http.MethodGet, tt.path, map[string]string{"Accept-Encoding": chromium["Accept-Encoding"], "If-None-Match": hdr.Get("ETag")})
			if w2.Code != http.StatusNotModified {
				t.Errorf("revalidation: %d, want 304", w2.Code)
			}
		})
	}

	// The page names the fingerprinted paths, and so does its ETag change
	// with the wasm.
	f, _, _ := files.Lookup("viewer.html")
	page := string(f.Raw)
	for _, want := range []string{`href="` + wasmURL + `"`, `href="` + execURL + `"`, `src="/viewer.js"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s:\n%s", want, page)
		}
	}
	if strings.Contains(page, "/wasm/shoal.wasm") || strings.Contains(page, "/wasm/wasm_exec.js") {
		t.Errorf("page still names a plain path:\n%s", page)
	}
	other := newFiles(t, frontend(t, fakeWasm(300<<10, 3), false, nil))
	g, _, _ := other.Lookup("viewer.html")
	if g.Hash == f.Hash {
		t.Error("the page's ETag does not change with the wasm")
	}
}

func TestCompressRoundTrip(t *testing.T) {
	raw := fakeWasm(64<<10, 4)
	for _, c := range static.Codings {
		for _, effort := range []static.Effort{static.Fast, static.Best} {
			b, err := static.Compress(c.Name, raw, effort)
			if err != nil {
				t.Fatal(err)
			}
			got, err := static.Decompress(c.Name, b)
			if err != nil || !bytes.Equal(got, raw) {
				t.Errorf("%s at effort %d: round trip failed: %v", c.Name, effort, err)
			}
		}
	}
	if _, err := static.Compress("deflate", raw, static.Fast); err == nil {
		t.Error("deflate: no error")
	}
	if _, err := static.Decompress(static.Brotli, []byte("not brotli")); err == nil {
		t.Error("garbage decoded as brotli")
	}
}

func sorted(s []string) string {
	c := append([]string(nil), s...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return strings.Join(c, ",")
}
