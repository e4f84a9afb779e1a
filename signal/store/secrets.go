package store

import (
	"context"
	"crypto/rand"
	"fmt"
)

// MaxSecretLen bounds a server secret's length in bytes.
const MaxSecretLen = 1024

// Secrets keeps random values the server needs across restarts (the salt
// of the chat's address hashes, for one).
type Secrets interface {
	// Secret returns the secret called name, creating and storing size
	// random bytes the first time. Later calls return the stored value,
	// whatever size they ask for. [ErrInvalid] for an empty name or a size
	// outside 1..[MaxSecretLen].
	Secret(ctx context.Context, name string, size int) ([]byte, error)
}

var _ Secrets = (*DB)(nil)

// Secret implements [Secrets].
func (d *DB) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	if name == "" || size <= 0 || size > MaxSecretLen {
		return nil, fmt.Errorf("secret %q: %w: a name and 1 to %d bytes", name, ErrInvalid, MaxSecretLen)
	}
	v := make([]byte, size)
	rand.Read(v) // never fails (crypto/rand)
	// Insert if absent, then read whichever value won.
	if _, err := d.db.ExecContext(ctx,
		`INSERT INTO server_secrets (name, value, created_ms) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		name, v, d.nowMillis()); err != nil {
		return nil, fmt.Errorf("secret %q: %w", name, classify(err))
	}
	var stored []byte
	if err := d.db.QueryRowContext(ctx, `SELECT value FROM server_secrets WHERE name = ?`, name).Scan(&stored); err != nil {
		return nil, fmt.Errorf("secret %q: %w", name, classify(err))
	}
	return stored, nil
}
