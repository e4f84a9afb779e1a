package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/shoal-live/shoal/signal/store"
)

// AccountStore is what [CreateAccount] and [EnsureAdmin] need from the
// store (a *store.DB has it).
type AccountStore interface {
	CreateAccount(ctx context.Context, username, passwordHash string) (store.Account, error)
	CountAccounts(ctx context.Context) (int, error)
}

// CreateAccount makes a broadcaster account, for the shoal user add
// command: the username as the store requires (1 to 32 of A-Z a-z 0-9 _ .
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

// EnsureAdmin makes sure a first account can exist, for the server to call
// at start. If there is no account and username and password are given,
// it creates that account and reports true. If there is no account and
// neither is given, it logs how to create one. If accounts exist, it does
// nothing (it never changes an existing account's password). Giving only
// one of username and password is an error. log must not be nil.
func EnsureAdmin(ctx context.Context, s AccountStore, username, password string, log *slog.Logger) (bool, error) {
	if (username == "") != (password == "") {
		return false, errors.New("ensure admin: give both the username and the password of the first account, or neither")
	}
	n, err := s.CountAccounts(ctx)
	if err != nil {
		return false, fmt.Errorf("ensure admin: %w", err)
	}
	switch {
	case n > 0 && username != "":
		log.Info("accounts exist: the first-account username and password are ignored", "accounts", n)
		return false, nil
	case n > 0:
		return false, nil
	case username == "":
		log.Warn("no broadcaster account yet: create one with `shoal user add`, " +
			"or start the server once with the first account's username and password")
		return false, nil
	}
	acct, err := CreateAccount(ctx, s, username, password)
	if err != nil {
		return false, fmt.Errorf("ensure admin: %w", err)
	}
	log.Info("created the first broadcaster account", "username", acct.Username)
	return true, nil
}
