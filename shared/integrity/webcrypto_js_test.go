//go:build js && wasm

package integrity_test

import (
	"errors"
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/integrity"
	"github.com/shoal-live/shoal/shared/wire"
)

// TestVerifyWeb checks TestVerify's chunks with WebCrypto (under Node.js,
// from TestVerifyInBrowser): it must accept and refuse exactly what the Go
// check does.
func TestVerifyWeb(t *testing.T) {
	good, tests := verifyCases(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := integrity.NewWebVerifier(tc.v)
			c := tc.c(good)
			done := make(chan error, 1)
			// The key is imported asynchronously; sleeping lets
			// JavaScript's event loop run.
			for deadline := time.Now().Add(5 * time.Second); !w.Verify(c, func(err error) { done <- err }); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("WebCrypto never took the key (no Ed25519 in this runtime?)")
				}
			}
			select {
			case err := <-done:
				if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
					t.Fatalf("Verify = %v, want %v", err, tc.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("WebCrypto never answered")
			}
		})
	}
}

// A nil WebVerifier (none was made) starts nothing.
func TestNilWebVerifier(t *testing.T) {
	var w *integrity.WebVerifier
	if w.Verify(wire.Chunk{}, func(error) { t.Error("done called") }) {
		t.Fatal("a nil WebVerifier claimed to check")
	}
}
