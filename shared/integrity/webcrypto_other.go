//go:build !(js && wasm)

package integrity

import "github.com/shoal-live/shoal/shared/wire"

// WebVerifier is the browser's WebCrypto check of chunks
// (webcrypto_js.go); outside a browser there is none, and Verify always
// returns false: check with Verifier.
type WebVerifier struct{}

// NewWebVerifier returns nil outside a browser.
func NewWebVerifier(*Verifier) *WebVerifier { return nil }

// Verify starts nothing and returns false outside a browser.
func (*WebVerifier) Verify(wire.Chunk, func(error)) bool { return false }
