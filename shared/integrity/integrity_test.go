package integrity_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"

	"github.com/shoal-live/shoal/shared/integrity"
	"github.com/shoal-live/shoal/shared/wire"
)

// fixedKey returns a deterministic key so that tests and fuzzing repeat.
func fixedKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

func newPair(t testing.TB, stream string, key ed25519.PrivateKey) (*integrity.Signer, *integrity.Verifier) {
	t.Helper()
	s, err := integrity.NewSigner(stream, key)
	if err != nil {
		t.Fatal(err)
	}
	v, err := integrity.NewVerifier(stream, s.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// verifyCase is a chunk (good, changed by c) that verifier v must find
// good (want nil) or refuse with an error wrapping want.
type verifyCase struct {
	name string
	v    *integrity.Verifier
	c    func(c wire.Chunk) wire.Chunk
	want error
}

// verifyCases are the chunks TestVerify and, in a browser, TestVerifyWeb
// check.
func verifyCases(t *testing.T) (wire.Chunk, []verifyCase) {
	s, v := newPair(t, "live", fixedKey(1))
	good := s.Sign(wire.Chunk{Seq: 42, Timestamp: 1_700_000_000_000, Flags: wire.FlagKeyframe, Payload: []byte("moof mdat")})
	_, otherStream := newPair(t, "other", fixedKey(1))
	_, otherKey := newPair(t, "live", fixedKey(2))
	flip := func(b []byte, i int) []byte { b = bytes.Clone(b); b[i] ^= 1; return b }

	return good, []verifyCase{
		{"good", v, func(c wire.Chunk) wire.Chunk { return c }, nil},
		{"good through the wire", v, func(c wire.Chunk) wire.Chunk {
			m, err := wire.Decode(wire.Encode(c))
			if err != nil {
				t.Fatal(err)
			}
			return m.(wire.Chunk)
		}, nil},
		{"payload bit flipped", v, func(c wire.Chunk) wire.Chunk { c.Payload = flip(c.Payload, 3); return c }, integrity.ErrBadChunk},
		{"payload truncated", v, func(c wire.Chunk) wire.Chunk { c.Payload = c.Payload[:4]; return c }, integrity.ErrBadChunk},
		{"payload emptied", v, func(c wire.Chunk) wire.Chunk { c.Payload = nil; return c }, integrity.ErrBadChunk},
		{"replayed under another seq", v, func(c wire.Chunk) wire.Chunk { c.Seq++; return c }, integrity.ErrBadChunk},
		{"timestamp changed", v, func(c wire.Chunk) wire.Chunk { c.Timestamp++; return c }, integrity.ErrBadChunk},
		{"keyframe flag cleared", v, func(c wire.Chunk) wire.Chunk { c.Flags = 0; return c }, integrity.ErrBadChunk},
		{"signature bit flipped", v, func(c wire.Chunk) wire.Chunk { c.Signature = flip(c.Signature, 10); return c }, integrity.ErrBadChunk},
		{"signature short", v, func(c wire.Chunk) wire.Chunk { c.Signature = c.Signature[:63]; return c }, integrity.ErrBadChunk},
		{"unsigned", v, func(c wire.Chunk) wire.Chunk { c.Signature = nil; return c }, integrity.ErrUnsigned},
		{"other stream", otherStream, func(c wire.Chunk) wire.Chunk { return c }, integrity.ErrBadChunk},
		{"other key", otherKey, func(c wire.Chunk) wire.Chunk { return c }, integrity.ErrBadChunk},
	}
}

func TestVerify(t *testing.T) {
	good, tests := verifyCases(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.v.Verify(tc.c(good))
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPublicKey(t *testing.T) {
	pub := fixedKey(7).Public().(ed25519.PublicKey)
	enc := integrity.EncodePublicKey(pub)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"round trip", enc, true},
		{"empty", "", false},
		{"short", enc[:42], false},
		{"long", enc + "A", false},
		{"padded", enc[:42] + "=", false},
		{"std alphabet", "+" + enc[1:], false},
		{"non-canonical last char", enc[:42] + "B", false}, // low bits of the last char must be zero
		{"line breaks (found by FuzzParsePublicKey)", "00000\n00000\r0000\r00000000000000000000000000", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := integrity.ParsePublicKey(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ParsePublicKey(%q) = %x, %v", tc.in, got, err)
			}
			if err != nil && !errors.Is(err, integrity.ErrBadKey) {
				t.Fatalf("error %v does not wrap ErrBadKey", err)
			}
			if tc.ok && !bytes.Equal(got, pub) {
				t.Fatalf("got %x, want %x", got, pub)
			}
		})
	}
}

func TestNewRejectsBadKeys(t *testing.T) {
	if _, err := integrity.NewSigner("s", make([]byte, 10)); err == nil {
		t.Error("NewSigner accepted a short key")
	}
	if _, err := integrity.NewVerifier("s", make([]byte, 31)); !errors.Is(err, integrity.ErrBadKey) {
		t.Errorf("NewVerifier(short key) = %v", err)
	}
}

// FuzzVerify feeds arbitrary frames to the verification path a peer runs
// on every received chunk: decode, then verify. It must never panic, and
// nothing but the origin's exact chunk may pass.
func FuzzVerify(f *testing.F) {
	s, v := newPair(f, "live", fixedKey(1))
	good := s.Sign(wire.Chunk{Seq: 5, Timestamp: 99, Flags: wire.FlagKeyframe, Payload: []byte("payload")})
	goodFrame := wire.Encode(good)
	f.Add(goodFrame)
	f.Add(goodFrame[:len(goodFrame)-1])
	f.Add(wire.Encode(wire.Chunk{Seq: 5, Payload: []byte("payload")}))
	f.Add([]byte{1, 4})
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := wire.Decode(in)
		if err != nil {
			return
		}
		c, ok := m.(wire.Chunk)
		if !ok {
			return
		}
		err = v.Verify(c)
		if err == nil && !bytes.Equal(in, goodFrame) {
			t.Fatalf("Verify accepted %x, which is not the signed chunk", in)
		}
		if err != nil && bytes.Equal(in, goodFrame) {
			t.Fatalf("Verify refused the signed chunk: %v", err)
		}
	})
}

// FuzzParsePublicKey checks that the welcome's key field never panics the
// parser and that what parses re-encodes to the same text.
func FuzzParsePublicKey(f *testing.F) {
	f.Add(integrity.EncodePublicKey(fixedKey(3).Public().(ed25519.PublicKey)))
	f.Add("")
	f.Add("====")
	f.Fuzz(func(t *testing.T, in string) {
		pub, err := integrity.ParsePublicKey(in)
		if err != nil {
			return
		}
		if len(pub) != ed25519.PublicKeySize || integrity.EncodePublicKey(pub) != in {
			t.Fatalf("ParsePublicKey(%q) = %x, not canonical", in, pub)
		}
	})
}

// Chunk sizes: empty (the signature check alone), then a 250 ms fragment
// at 1, 2.5 and 6 Mbit/s.
var benchSizes = []int{0, 32 << 10, 78 << 10, 190 << 10}

func BenchmarkVerify(b *testing.B) {
	s, v := newPair(b, "live", fixedKey(1))
	for _, size := range benchSizes {
		c := s.Sign(wire.Chunk{Seq: 1, Timestamp: 1, Payload: bytes.Repeat([]byte{0x42}, size)})
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if err := v.Verify(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	s, _ := newPair(b, "live", fixedKey(1))
	c := wire.Chunk{Seq: 1, Timestamp: 1, Payload: bytes.Repeat([]byte{0x42}, 78<<10)}
	b.SetBytes(int64(len(c.Payload)))
	for b.Loop() {
		s.Sign(c)
	}
}
