package node

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/integrity"
	"github.com/shoal-live/shoal/shared/wire"
)

func TestGuardCheck(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	signer, err := integrity.NewSigner("live", key)
	if err != nil {
		t.Fatal(err)
	}
	pub := integrity.EncodePublicKey(signer.PublicKey())
	now := time.UnixMilli(1_800_000_000_000)
	at := func(seq uint64, d time.Duration) wire.Chunk {
		return signer.Sign(wire.Chunk{Seq: seq, Timestamp: now.Add(d).UnixMilli(), Payload: []byte("media")})
	}
	tests := []struct {
		name    string
		key     string
		c       wire.Chunk
		want    error
		stale   bool
		trusted bool
	}{
		{"good", pub, at(1, -time.Second), nil, false, true},
		{"no key: refused", "", at(1, 0), integrity.ErrNoKey, false, false},
		{"unsigned", pub, wire.Chunk{Seq: 1, Timestamp: now.UnixMilli()}, integrity.ErrUnsigned, false, false},
		{"corrupted", pub, func() wire.Chunk { c := at(1, 0); c.Payload = []byte("mediA"); return c }(), integrity.ErrBadChunk, false, false},
		{"replayed from a minute ago", pub, at(1, -MaxChunkAge-time.Second), integrity.ErrBadChunk, true, false},
		{"from the future", pub, at(1, MaxChunkAhead+time.Second), integrity.ErrBadChunk, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var g guard
			if err := g.setKey("live", tc.key); err != nil {
				t.Fatal(err)
			}
			err := g.check(tc.c, now)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("check = %v, want %v", err, tc.want)
			}
			if (g.stale == 1) != tc.stale {
				t.Fatalf("stale = %d, want %v", g.stale, tc.stale)
			}
			if got := g.trusted(tc.c); got != tc.trusted {
				t.Fatalf("trusted = %v, want %v", got, tc.trusted)
			}
			if tc.want != nil && g.failures != 1 {
				t.Fatalf("failures = %d, want 1", g.failures)
			}
		})
	}
}

func TestGuardBadKey(t *testing.T) {
	var g guard
	if err := g.setKey("live", "not-a-key"); !errors.Is(err, integrity.ErrBadKey) {
		t.Fatalf("setKey(bad) = %v", err)
	}
}

// A chunk with a different signature under a trusted seq is not trusted.
func TestGuardTrustedIsExact(t *testing.T) {
	var g guard
	c := wire.Chunk{Seq: 7, Signature: bytes.Repeat([]byte{1}, 64)}
	g.remember(c)
	forged := c
	forged.Signature = bytes.Repeat([]byte{2}, 64)
	if !g.trusted(c) || g.trusted(forged) || g.trusted(wire.Chunk{Seq: 8}) {
		t.Fatal("trusted must match seq and signature exactly")
	}
	for seq := range uint64(5000) { // the memory stays bounded
		g.remember(wire.Chunk{Seq: seq + 100})
	}
	if len(g.verified) > 2048 {
		t.Fatalf("verified holds %d entries", len(g.verified))
	}
}
