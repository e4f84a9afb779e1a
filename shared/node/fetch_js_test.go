//go:build js && wasm

package node

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestJSFetcher runs under Node.js, started by TestBrowserFetcher
// (fetch_browser_test.go) with the URL of its chunk server.
func TestJSFetcher(t *testing.T) {
	origin := os.Getenv("SHOAL_TEST_ORIGIN")
	if origin == "" {
		t.Skip("SHOAL_TEST_ORIGIN unset: run by TestBrowserFetcher")
	}
	fetch := HTTPFetcher(origin+"/", nil)
	for _, tt := range fetchCases {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			start := time.Now()
			c, err := fetch(ctx, "demo", tt.seq)
			checkFetch(t, tt, c, err)
			if time.Since(start) > tt.timeout+time.Second {
				t.Errorf("took %v", time.Since(start))
			}
		})
	}
}
