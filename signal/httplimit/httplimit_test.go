package httplimit_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shoal-live/shoal/signal/httplimit"
)

func TestLimits(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) })
	chunks := httplimit.NewChunkFetches(log).Limit(ok)
	body := httplimit.Body(log)(ok)
	cases := []struct {
		name    string
		h       http.Handler
		size    int // of the body
		repeat  int // requests before the judged one
		status  int
		contain string
	}{
		{name: "body at the limit", h: body, size: httplimit.MaxRequestBody, status: 200},
		{name: "body over the limit", h: body, size: httplimit.MaxRequestBody + 1, status: 413, contain: "request body too large"},
		{name: "chunk fetches within the burst", h: chunks, repeat: httplimit.ChunkFetchBurst - 1, status: 200},
		{name: "chunk fetches past the burst", h: chunks, repeat: 50, status: 429, contain: "too many chunk requests"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var w *httptest.ResponseRecorder
			for range tc.repeat + 1 {
				r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", tc.size)))
				w = httptest.NewRecorder()
				tc.h.ServeHTTP(w, r)
			}
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.contain) {
				t.Fatalf("%d %q, want %d containing %q", w.Code, w.Body, tc.status, tc.contain)
			}
		})
	}
}
