package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"

	"github.com/shoal-live/shoal/shared/signaling"
)

// SigningKeys keeps each stream's Ed25519 chunk-signing key. The key must
// survive restarts: viewers verify every chunk against its public half.
type SigningKeys interface {
	// SigningKey returns stream's key, creating and storing a new random
	// one the first time. [ErrInvalid] for a bad stream name.
	SigningKey(ctx context.Context, stream string) (ed25519.PrivateKey, error)
}

var _ SigningKeys = (*DB)(nil)

// SigningKey implements [SigningKeys].
func (d *DB) SigningKey(ctx context.Context, stream string) (ed25519.PrivateKey, error) {
	if !signaling.ValidStream(stream) {
		return nil, fmt.Errorf("signing key for %q: %w: %s", stream, ErrInvalid, errStreamNameMessage)
	}
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed) // never fails (crypto/rand)
	// Insert if absent, then read whichever seed won: two callers racing
	// on a new stream get the same key.
	if _, err := d.db.ExecContext(ctx,
		`INSERT INTO signing_keys (stream, seed, created_ms) VALUES (?, ?, ?) ON CONFLICT (stream) DO NOTHING`,
		stream, seed, d.nowMillis()); err != nil {
		return nil, fmt.Errorf("signing key for %q: %w", stream, classify(err))
	}
	var stored []byte
	if err := d.db.QueryRowContext(ctx, `SELECT seed FROM signing_keys WHERE stream = ?`, stream).Scan(&stored); err != nil {
		return nil, fmt.Errorf("signing key for %q: %w", stream, classify(err))
	}
	if len(stored) != ed25519.SeedSize {
		return nil, fmt.Errorf("signing key for %q: stored seed is %d bytes", stream, len(stored))
	}
	return ed25519.NewKeyFromSeed(stored), nil
}
