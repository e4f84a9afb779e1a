package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"
)

// tokenLen is the length of a session token: 32 random bytes (256 bits) in
// unpadded base64url.
const tokenLen = 43

// Session is a login: whoever holds its token acts as the account until
// Expires. The store keeps only the token's SHA-256, so a leaked database
// does not leak live sessions.
type Session struct {
	AccountID int64
	Created   time.Time
	Expires   time.Time
}

// Sessions stores login sessions.
type Sessions interface {
	// CreateSession opens a session for the account until expires and
	// returns its token, 256 random bits in base64url (43 characters),
	// which only the caller ever sees. [ErrNotFound] if the account does
	// not exist. Expired sessions are swept at the same time.
	CreateSession(ctx context.Context, accountID int64, expires time.Time) (token string, s Session, err error)
	// SessionByToken finds the session a token opened; [ErrNotFound] if
	// there is none or it has expired.
	SessionByToken(ctx context.Context, token string) (Session, error)
	// DeleteSession ends a session (logout). Ending a missing session is
	// not an error.
	DeleteSession(ctx context.Context, token string) error
	// DeleteAccountSessions ends every session of an account ("log out
	// everywhere", or after a password change) and returns how many.
	DeleteAccountSessions(ctx context.Context, accountID int64) (int, error)
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CreateSession implements [Sessions].
func (d *DB) CreateSession(ctx context.Context, accountID int64, expires time.Time) (string, Session, error) {
	b := make([]byte, 32)
	rand.Read(b) // never fails
	token := base64.RawURLEncoding.EncodeToString(b)
	now := d.nowMillis()
	if _, err := d.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_ms <= ?`, now); err != nil {
		return "", Session{}, fmt.Errorf("create session: sweep expired: %w", err)
	}
	_, err := d.db.ExecContext(ctx,
		`INSERT INTO sessions (token_hash, account_id, created_ms, expires_ms) VALUES (?, ?, ?, ?)`,
		hashToken(token), accountID, now, millis(expires))
	if err != nil {
		return "", Session{}, fmt.Errorf("create session for account %d: %w", accountID, classify(err))
	}
	return token, Session{AccountID: accountID, Created: fromMillis(now), Expires: fromMillis(millis(expires))}, nil
}

// SessionByToken implements [Sessions].
func (d *DB) SessionByToken(ctx context.Context, token string) (Session, error) {
	if len(token) != tokenLen {
		return Session{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	var s Session
	var created, expires int64
	err := d.db.QueryRowContext(ctx,
		`SELECT account_id, created_ms, expires_ms FROM sessions WHERE token_hash = ? AND expires_ms > ?`,
		hashToken(token), d.nowMillis()).Scan(&s.AccountID, &created, &expires)
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", classify(err))
	}
	s.Created, s.Expires = fromMillis(created), fromMillis(expires)
	return s, nil
}

// DeleteSession implements [Sessions].
func (d *DB) DeleteSession(ctx context.Context, token string) error {
	if _, err := d.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hashToken(token)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteAccountSessions implements [Sessions].
func (d *DB) DeleteAccountSessions(ctx context.Context, accountID int64) (int, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = ?`, accountID)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of account %d: %w", accountID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
