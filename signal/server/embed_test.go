package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shoal-live/shoal/signal/server"
	"github.com/shoal-live/shoal/signal/store"
)

// TestEmbedFraming: only /embed/ may be framed by other sites, as
// -frame-ancestors says; every other page keeps frame-ancestors 'self'.
func TestEmbedFraming(t *testing.T) {
	pages := fstest.MapFS{
		"viewer.html": {Data: []byte("<h1>viewer</h1>")},
		"embed.html":  {Data: []byte("<h1>embed</h1>")},
	}
	tests := []struct {
		name, ancestors, path string
		status                int
		wantCSP, wantXFO      string
	}{
		{"embed, default", "", "/embed/demo", 200, "frame-ancestors *", ""},
		{"embed, configured", "https://a.example https://b.example", "/embed/demo", 200, "frame-ancestors https://a.example https://b.example", ""},
		{"embed, injection refused", "https://a.example; script-src *", "/embed/demo", 200, "frame-ancestors 'self'", ""},
		{"embed of a bad name", "", "/embed/a.b", 404, "frame-ancestors 'self'", "SAMEORIGIN"},
		{"viewer", "*", "/watch/demo", 200, "frame-ancestors 'self'", "SAMEORIGIN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv, err := server.New(server.Config{FrameAncestors: tt.ancestors}, pages)
			if err != nil {
				t.Fatal(err)
			}
			base := serve(t, ctx, srv)
			resp, _ := get(t, base+tt.path, nil)
			csp := resp.Header.Get("Content-Security-Policy")
			if resp.StatusCode != tt.status || !strings.HasSuffix(csp, tt.wantCSP) || strings.Count(csp, "frame-ancestors") != 1 {
				t.Fatalf("status %d, CSP %q; want %d, ending %q", resp.StatusCode, csp, tt.status, tt.wantCSP)
			}
			if strings.Count(csp, ";") != 6 {
				t.Fatalf("CSP %q: a directive was added or lost", csp)
			}
			if got := resp.Header.Get("X-Frame-Options"); got != tt.wantXFO {
				t.Fatalf("X-Frame-Options %q, want %q", got, tt.wantXFO)
			}
		})
	}
}

func TestStreamInfo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db, err := store.Open(ctx, store.Config{Path: store.Memory})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	acct, _ := db.CreateAccount(ctx, "host", "x")
	if _, err := db.CreateStream(ctx, store.NewStream{Name: "show", Title: "<i>Late show</i>", OwnerID: acct.ID}); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: db, DemoStream: "demo", DemoSource: "synthetic"}, fstest.MapFS{})
	if err != nil {
		t.Fatal(err)
	}
	base := serve(t, ctx, srv)
	for path, want := range map[string]string{
		"/api/streams/show/info":   "<i>Late show</i>",
		"/api/streams/demo/info":   "",
		"/api/streams/nosuch/info": "404",
	} {
		resp, body := get(t, base+path, nil)
		if want == "404" {
			if resp.StatusCode != 404 {
				t.Errorf("%s: %d", path, resp.StatusCode)
			}
			continue
		}
		var info struct{ Name, Title string }
		if err := json.Unmarshal(body, &info); err != nil || resp.StatusCode != 200 || info.Title != want {
			t.Errorf("%s: %d %s (%v)", path, resp.StatusCode, body, err)
		}
	}
}
