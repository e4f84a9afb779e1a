package store

import (
	"context"
	"fmt"
	"time"
)

// MaxUsernameLen is the longest username, in bytes.
const MaxUsernameLen = 32

// Account is a broadcaster's login.
type Account struct {
	ID int64
	// Username is as it was given at creation; it is unique and looked
	// up case-insensitively.
	Username string
	// PasswordHash is the encoded password hash (package auth makes it).
	PasswordHash string
	Created      time.Time
}

// Accounts stores broadcaster accounts.
type Accounts interface {
	// CreateAccount adds an account. The username is 1 to 32 of
	// [A-Za-z0-9_.-] ([ErrInvalid] otherwise) and unique regardless of
	// case ([ErrConflict]).
	CreateAccount(ctx context.Context, username, passwordHash string) (Account, error)
	// AccountByUsername finds an account, ignoring case; [ErrNotFound] if none.
	AccountByUsername(ctx context.Context, username string) (Account, error)
	// AccountByID finds an account; [ErrNotFound] if none.
	AccountByID(ctx context.Context, id int64) (Account, error)
	// CountAccounts returns the number of accounts: 0 means the first one
	// is still to be made.
	CountAccounts(ctx context.Context) (int, error)
	// SetPassword replaces an account's password hash and, in the same
	// transaction, ends every session of the account (whoever knew the
	// old password may hold one); it returns how many ended.
	// [ErrNotFound] if the account does not exist.
	SetPassword(ctx context.Context, accountID int64, passwordHash string) (int, error)
}

// ValidUsername reports whether name can be a username: 1 to 32 ASCII
// letters, digits, '_', '.' or '-'.
func ValidUsername(name string) bool {
	if len(name) == 0 || len(name) > MaxUsernameLen {
		return false
	}
	for i := range len(name) {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

const accountColumns = `id, username, password_hash, created_ms`

func scanAccount(s scanner) (Account, error) {
	var a Account
	var created int64
	if err := s.Scan(&a.ID, &a.Username, &a.PasswordHash, &created); err != nil {
		return Account{}, classify(err)
	}
	a.Created = fromMillis(created)
	return a, nil
}

// CreateAccount implements [Accounts].
func (d *DB) CreateAccount(ctx context.Context, username, passwordHash string) (Account, error) {
	if !ValidUsername(username) {
		return Account{}, fmt.Errorf("create account %q: %w: a username is 1 to %d of A-Z a-z 0-9 _ . -", username, ErrInvalid, MaxUsernameLen)
	}
	if passwordHash == "" {
		return Account{}, fmt.Errorf("create account %q: %w: empty password hash", username, ErrInvalid)
	}
	a, err := scanAccount(d.db.QueryRowContext(ctx,
		`INSERT INTO accounts (username, password_hash, created_ms) VALUES (?, ?, ?) RETURNING `+accountColumns,
		username, passwordHash, d.nowMillis()))
	if err != nil {
		return Account{}, fmt.Errorf("create account %q: %w", username, err)
	}
	return a, nil
}

// AccountByUsername implements [Accounts].
func (d *DB) AccountByUsername(ctx context.Context, username string) (Account, error) {
	a, err := scanAccount(d.db.QueryRowContext(ctx,
		`SELECT `+accountColumns+` FROM accounts WHERE username = ?`, username))
	if err != nil {
		return Account{}, fmt.Errorf("account %q: %w", username, err)
	}
	return a, nil
}

// AccountByID implements [Accounts].
func (d *DB) AccountByID(ctx context.Context, id int64) (Account, error) {
	a, err := scanAccount(d.db.QueryRowContext(ctx,
		`SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
	if err != nil {
		return Account{}, fmt.Errorf("account %d: %w", id, err)
	}
	return a, nil
}

// CountAccounts implements [Accounts].
func (d *DB) CountAccounts(ctx context.Context) (int, error) {
	var n int
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM accounts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}

// SetPassword implements [Accounts].
func (d *DB) SetPassword(ctx context.Context, accountID int64, passwordHash string) (int, error) {
	if passwordHash == "" {
		return 0, fmt.Errorf("set password of account %d: %w: empty password hash", accountID, ErrInvalid)
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("set password of account %d: %w", accountID, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE accounts SET password_hash = ? WHERE id = ?`, passwordHash, accountID)
	if err != nil {
		return 0, fmt.Errorf("set password of account %d: %w", accountID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, fmt.Errorf("set password of account %d: %w", accountID, ErrNotFound)
	}
	res, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = ?`, accountID)
	if err != nil {
		return 0, fmt.Errorf("set password of account %d: end sessions: %w", accountID, err)
	}
	ended, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("set password of account %d: %w", accountID, err)
	}
	return int(ended), nil
}
