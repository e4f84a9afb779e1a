//go:build js && wasm

package integrity

import (
	"crypto/sha256"
	"sync/atomic"

	"github.com/shoal-live/shoal/shared/jsbridge"
	"github.com/shoal-live/shoal/shared/wire"
)

// WebVerifier checks chunks with the browser's WebCrypto Ed25519
// (Chromium since 137, Safari, Firefox), which runs in native code: the
// same check in Go compiled to wasm took 0.7-2.3 ms a chunk on a quiet
// machine and 5-8 ms with six tabs on two cores, most of it the Ed25519
// arithmetic and the rest the payload's SHA-256 (docs/BENCHMARKS.md). The
// browser hashes the payload (crypto.subtle.digest), Go appends the digest
// to the statement's head, and the browser checks the signature
// (crypto.subtle.verify).
//
// The key is imported asynchronously: until it is ready, and for good
// where the browser has no Ed25519 (or no crypto.subtle, outside a secure
// context), Verify returns false and the caller checks with Verifier.
type WebVerifier struct {
	v      *Verifier
	subtle jsbridge.Value                 // crypto.subtle
	alg    jsbridge.Value                 // {name: 'Ed25519'}
	key    atomic.Pointer[jsbridge.Value] // the CryptoKey, once imported
}

// NewWebVerifier starts importing v's key into WebCrypto.
func NewWebVerifier(v *Verifier) *WebVerifier {
	w := &WebVerifier{v: v}
	var p jsbridge.Value
	if err := jsbridge.Try(func() {
		crypto := jsbridge.Global().Get("crypto")
		if crypto.IsUndefined() || crypto.IsNull() || crypto.Get("subtle").IsUndefined() {
			return
		}
		w.subtle = crypto.Get("subtle")
		w.alg = jsbridge.Global().Get("Object").New()
		w.alg.Set("name", "Ed25519")
		p = w.subtle.Call("importKey", "raw", jsbridge.Bytes(v.pub), w.alg, false, []any{"verify"})
	}); err != nil || p.IsUndefined() {
		return w
	}
	jsbridge.Then(p, func(key jsbridge.Value, err error) {
		if err == nil {
			w.key.Store(&key)
		}
	})
	return w
}

// Verify starts checking c and returns true, or returns false when
// WebCrypto cannot (yet): then nothing was started. done is called once,
// on JavaScript's thread (it must not block), with nil or an error that
// wraps ErrBadChunk.
func (w *WebVerifier) Verify(c wire.Chunk, done func(error)) bool {
	if w == nil {
		return false
	}
	key := w.key.Load()
	if key == nil {
		return false
	}
	if err := signatureShape(c); err != nil {
		done(err)
		return true
	}
	var digest jsbridge.Value
	if err := jsbridge.Try(func() {
		digest = w.subtle.Call("digest", "SHA-256", jsbridge.Bytes(c.Payload))
	}); err != nil {
		return false
	}
	head := statementHead(w.v.pub, w.v.stream, c)
	// Neither step is seen to fail: if WebCrypto refuses one, Go checks.
	jsbridge.Then(digest, func(d jsbridge.Value, err error) {
		sum := jsbridge.GoBytes(d)
		if err != nil || len(sum) != sha256.Size {
			done(w.v.Verify(c))
			return
		}
		var ok jsbridge.Value
		if err := jsbridge.Try(func() {
			ok = w.subtle.Call("verify", w.alg, *key,
				jsbridge.Bytes(c.Signature), jsbridge.Bytes(append(head, sum...)))
		}); err != nil {
			done(w.v.Verify(c))
			return
		}
		jsbridge.Then(ok, func(ok jsbridge.Value, err error) {
			switch {
			case err != nil:
				done(w.v.Verify(c))
			case !ok.Truthy():
				done(badSignature(c))
			default:
				done(nil)
			}
		})
	})
	return true
}
