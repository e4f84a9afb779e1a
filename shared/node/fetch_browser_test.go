//go:build !js

package node

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/jsbridge/nodetest"
	"github.com/shoal-live/shoal/shared/wire"
)

// TestBrowserFetcher runs fetch_js_test.go (HTTPFetcher over the browser's
// fetch) under Node.js against this chunk server. The native HTTPFetcher
// gets the same cases in TestHTTPFetcher.
func TestBrowserFetcher(t *testing.T) {
	srv := httptest.NewServer(chunkServer())
	defer srv.Close()
	nodetest.Run(t, "^TestJS", "SHOAL_TEST_ORIGIN="+srv.URL)
}

func TestHTTPFetcher(t *testing.T) {
	srv := httptest.NewServer(chunkServer())
	defer srv.Close()
	fetch := HTTPFetcher(srv.URL+"/", nil)
	for _, tt := range fetchCases {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), tt.timeout)
			defer cancel()
			c, err := fetch(ctx, "demo", tt.seq)
			checkFetch(t, tt, c, err)
		})
	}
}

// chunkServer serves /api/streams/demo/chunks/N as fetchCases describe.
func chunkServer() http.Handler {
	aborted := make(chan struct{}) // closed when the client gave up on chunk 4
	var once sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc("/api/streams/demo/chunks/{seq}", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("seq") {
		case "1":
			w.Write(wire.Encode(testChunk(1)))
		case "3": // too long, in pieces, so without a Content-Length
			for i := 0; i <= wire.MaxMessageSize/4096+1; i++ {
				w.Write(bytes.Repeat([]byte{1}, 4096))
				w.(http.Flusher).Flush()
			}
		case "4": // never answers; the client gives up
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				once.Do(func() { close(aborted) })
			case <-time.After(10 * time.Second):
			}
		case "5":
			w.Write(wire.Encode(testChunk(6)))
		case "7":
			w.Write([]byte("not a wire frame"))
		case "8": // chunk 8 once the request for chunk 4 was aborted
			select {
			case <-aborted:
				w.Write(wire.Encode(testChunk(8)))
			case <-time.After(5 * time.Second):
				http.Error(w, "the request for chunk 4 is still open", http.StatusConflict)
			}
		default:
			http.NotFound(w, r)
		}
	})
	return mux
}
