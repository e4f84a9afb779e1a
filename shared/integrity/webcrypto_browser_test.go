//go:build !js

package integrity_test

import (
	"testing"

	"github.com/shoal-live/shoal/shared/integrity"
	"github.com/shoal-live/shoal/shared/jsbridge/nodetest"
	"github.com/shoal-live/shoal/shared/wire"
)

// TestVerifyInBrowser runs TestVerifyWeb under Node.js, whose WebCrypto
// has Ed25519 as Chromium's does: the browser's check must agree with Go's
// on every chunk of TestVerify.
func TestVerifyInBrowser(t *testing.T) {
	nodetest.Run(t, "^(TestVerifyWeb|TestNilWebVerifier)$")
}

// Outside a browser there is no WebCrypto check: the caller uses Verifier.
func TestNoWebVerifierNatively(t *testing.T) {
	_, v := newPair(t, "live", fixedKey(1))
	w := integrity.NewWebVerifier(v)
	if w.Verify(wire.Chunk{}, func(error) { t.Error("done called") }) {
		t.Fatal("a native WebVerifier claimed to check")
	}
}
