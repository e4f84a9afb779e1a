package server_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shoal-live/shoal/signal/server"
	"github.com/shoal-live/shoal/signal/static"
)

// TestBrowserPeerCaching follows a viewer's page load through the server's
// routes: the page names the fingerprinted peer, which is cached for good,
// and a second visit revalidates the page with a 304.
func TestBrowserPeerCaching(t *testing.T) {
	wasm := bytes.Repeat([]byte("\x00asm wasm body "), 1000)
	pages := fstest.MapFS{
		"viewer.html": {Data: []byte(`<meta name="shoal-wasm" content="/wasm/shoal.wasm">` +
			`<meta name="shoal-wasm-exec" content="/wasm/wasm_exec.js">`)},
		"wasm/shoal.wasm":   {Data: wasm},
		"wasm/wasm_exec.js": {Data: bytes.Repeat([]byte("globalThis.Go = class {};\n"), 100)},
		"wasm/README.md":    {Data: []byte("generated")},
	}
	srv, err := server.New(server.Config{}, pages)
	if err != nil {
		t.Fatal(err)
	}
	first := srv
	t.Cleanup(func() { first.Close() })
	h := srv.Handler()
	get := func(path string, hdr ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	page := get("/watch/demo")
	if page.Code != 200 || page.Header().Get("Cache-Control") != static.Revalidate || page.Header().Get("ETag") == "" {
		t.Fatalf("page: %d, Cache-Control %q, ETag %q", page.Code, page.Header().Get("Cache-Control"), page.Header().Get("ETag"))
	}
	html, err := static.Decompress(page.Header().Get("Content-Encoding"), page.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`content="(/wasm/[^"]+)"`).FindAllStringSubmatch(string(html), -1)
	if len(links) != 2 || !strings.HasPrefix(links[0][1], "/wasm/shoal.") || links[0][1] == "/wasm/shoal.wasm" {
		t.Fatalf("page links %v, want the fingerprinted peer and wasm_exec.js", links)
	}
	for _, l := range links {
		w := get(l[1])
		if w.Code != 200 || w.Header().Get("Cache-Control") != static.Immutable || w.Header().Get("Vary") != "Accept-Encoding" {
			t.Errorf("%s: %d, Cache-Control %q, Vary %q", l[1], w.Code, w.Header().Get("Cache-Control"), w.Header().Get("Vary"))
		}
	}
	w := get(links[0][1])
	body, err := static.Decompress(w.Header().Get("Content-Encoding"), w.Body.Bytes())
	if err != nil || !bytes.Equal(body, wasm) {
		t.Errorf("%s (%s) does not decode to the wasm: %v", links[0][1], w.Header().Get("Content-Encoding"), err)
	}

	if w := get("/watch/demo", "If-None-Match", page.Header().Get("ETag")); w.Code != http.StatusNotModified {
		t.Errorf("page revalidation: %d, want 304", w.Code)
	}
	if w := get("/wasm/shoal.wasm"); w.Code != 200 || w.Header().Get("Cache-Control") != static.Revalidate {
		t.Errorf("plain path: %d, Cache-Control %q", w.Code, w.Header().Get("Cache-Control"))
	}
	for _, p := range []string{"/wasm/shoal.0000000000000000.wasm", "/wasm/shoal.wasm.br", "/wasm/README.md", "/wasm/"} {
		if w := get(p); w.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, w.Code)
		}
	}

	// Without a built peer the wasm path says what to do.
	srv, err = server.New(server.Config{}, fstest.MapFS{"viewer.html": {Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	second := srv
	t.Cleanup(func() { second.Close() })
	r := httptest.NewRequest(http.MethodGet, "/wasm/shoal.wasm", nil)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, r)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "task build") {
		t.Errorf("unbuilt peer: %d %s", rec.Code, rec.Body.String())
	}
}
