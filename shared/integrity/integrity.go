// Package integrity signs and verifies chunks so that a peer can trust a
// chunk whoever relayed it.
//
// The origin holds an Ed25519 key per stream. For each chunk it signs a
// domain-separated statement binding the stream's public key, the stream
// name, the chunk's sequence number, timestamp, flags and the SHA-256 digest
// of its payload:
//
//	"shoal/chunk/v1\x00" || pub (32) || len(stream) u8 || stream ||
//	seq u64 || timestamp i64 || flags u8 || SHA-256(payload) (32)
//
// (integers big-endian). The 64-byte signature travels with the chunk
// (wire.Chunk.Signature) over data channels and in HTTP fallback frames, and
// peers learn the public key from the tracker's welcome. A peer verifies
// every chunk before it hands it to the engine, which plays and forwards it.
//
// Per-chunk signatures rather than signed batches (wire.Announce): a live
// chunk can be verified the moment it arrives, with no wait for a batch
// announcement, at 64 bytes per chunk (256 B/s at 4 chunks/s); see
// docs/BENCHMARKS.md for the measured costs.
package integrity

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/shoal-live/shoal/shared/wire"
)

const domain = "shoal/chunk/v1\x00"

// Errors returned by Verify and ParsePublicKey. A chunk that fails
// verification wraps ErrBadChunk.
var (
	ErrBadChunk  = errors.New("integrity: chunk fails verification")
	ErrUnsigned  = fmt.Errorf("%w: unsigned", ErrBadChunk)
	ErrBadKey    = errors.New("integrity: bad public key")
	ErrNoKey     = errors.New("integrity: no stream key")
	errMalformed = errors.New("malformed")
)

// statement returns the bytes signed for chunk c of stream.
func statement(pub ed25519.PublicKey, stream string, c wire.Chunk) []byte {
	d := sha256.Sum256(c.Payload)
	return append(statementHead(pub, stream, c), d[:]...)
}

// statementHead is the statement without its last field, the payload's
// SHA-256 digest, for which it has room.
func statementHead(pub ed25519.PublicKey, stream string, c wire.Chunk) []byte {
	b := make([]byte, 0, len(domain)+ed25519.PublicKeySize+1+len(stream)+8+8+1+sha256.Size)
	b = append(b, domain...)
	b = append(b, pub...)
	b = append(b, byte(len(stream)))
	b = append(b, stream...)
	b = binary.BigEndian.AppendUint64(b, c.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Timestamp))
	return append(b, c.Flags)
}

// Signer signs one stream's chunks. It is safe for concurrent use.
type Signer struct {
	stream string
	priv   ed25519.PrivateKey
	pub    ed25519.PublicKey
}

// NewSigner signs chunks of stream with priv.
func NewSigner(stream string, priv ed25519.PrivateKey) (*Signer, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("integrity: private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	if len(stream) > 255 {
		return nil, fmt.Errorf("integrity: stream name longer than 255 bytes")
	}
	return &Signer{stream: stream, priv: priv, pub: priv.Public().(ed25519.PublicKey)}, nil
}

// Sign returns c with its Signature set.
func (s *Signer) Sign(c wire.Chunk) wire.Chunk {
	c.Signature = ed25519.Sign(s.priv, statement(s.pub, s.stream, c))
	return c
}

// PublicKey returns the key peers verify with.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.pub }

// Verifier checks one stream's chunks. It is safe for concurrent use.
type Verifier struct {
	stream string
	pub    ed25519.PublicKey
}

// NewVerifier checks chunks of stream against pub.
func NewVerifier(stream string, pub ed25519.PublicKey) (*Verifier, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrBadKey, len(pub), ed25519.PublicKeySize)
	}
	if len(stream) > 255 {
		return nil, fmt.Errorf("integrity: stream name longer than 255 bytes")
	}
	return &Verifier{stream: stream, pub: pub}, nil
}

// Verify reports whether c carries the origin's valid signature. Its
// errors wrap ErrBadChunk.
func (v *Verifier) Verify(c wire.Chunk) error {
	if err := signatureShape(c); err != nil {
		return err
	}
	if !ed25519.Verify(v.pub, statement(v.pub, v.stream, c), c.Signature) {
		return badSignature(c)
	}
	return nil
}

// signatureShape refuses a chunk whose signature cannot be an Ed25519 one.
func signatureShape(c wire.Chunk) error {
	switch {
	case len(c.Signature) == 0:
		return fmt.Errorf("%w: chunk %d", ErrUnsigned, c.Seq)
	case len(c.Signature) != ed25519.SignatureSize:
		return fmt.Errorf("%w: chunk %d: signature is %d bytes", ErrBadChunk, c.Seq, len(c.Signature))
	}
	return nil
}

func badSignature(c wire.Chunk) error {
	return fmt.Errorf("%w: chunk %d: bad signature", ErrBadChunk, c.Seq)
}

// EncodePublicKey returns pub as unpadded base64url, as the welcome
// message carries it.
func EncodePublicKey(pub ed25519.PublicKey) string {
	return base64.RawURLEncoding.EncodeToString(pub)
}

// ParsePublicKey parses what EncodePublicKey returns. Its errors wrap
// ErrBadKey.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	if len(s) != base64.RawURLEncoding.EncodedLen(ed25519.PublicKeySize) {
		return nil, fmt.Errorf("%w: %d characters", ErrBadKey, len(s))
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w: %v", ErrBadKey, errMalformed, err)
	}
	// The decoder skips \r and \n, so 43 characters may hold fewer
	// bytes: insist on the one canonical spelling of 32 bytes.
	if len(b) != ed25519.PublicKeySize || EncodePublicKey(b) != s {
		return nil, fmt.Errorf("%w: %w: not %d bytes in canonical base64url", ErrBadKey, errMalformed, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}
