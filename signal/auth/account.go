package auth

import (
	"context"
	"fmt"

	"github.com/shoal-live/shoal/signal/store"
)

// AccountStore is what [CreateAccount] needs from the store (a *store.DB
// has it).
type AccountStore interface {
	CreateAccount(ctx context.Context, username, passwordHash string) (store.Account, error)
}

// CreateAccount makes a broadcaster account, for `shoal -create-account`
// and the first-account page /setup: the username as the store requires (1 to 32 of A-Z a-z 0-9 _ .
// -, unique regardless of case), the password as [CheckPassword] requires.
// Errors wrap [ErrWeakPassword], store.ErrInvalid or store.ErrConflict.
func CreateAccount(ctx context.Context, s AccountStore, username, password string) (store.Account, error) {
	if !store.ValidUsername(username) {
		return store.Account{}, fmt.Errorf("create account %q: %w: a username is 1 to %d of A-Z a-z 0-9 _ . -",
			username, store.ErrInvalid, store.MaxUsernameLen)
	}
	if err := CheckPassword(password); err != nil {
		return store.Account{}, fmt.Errorf("create account %q: %w", username, err)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return store.Account{}, fmt.Errorf("create account %q: %w", username, err)
	}
	acct, err := s.CreateAccount(ctx, username, hash)
	if err != nil {
		return store.Account{}, err // the store names the operation
	}
	return acct, nil
}
