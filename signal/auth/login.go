package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/shoal-live/shoal/signal/store"
)

// Login checks a username and password from a login form or API call and,
// if they match, opens a session, sets its cookie on w and returns the
// account. The request must be same-origin ([ErrCrossOrigin] otherwise:
// this stops login CSRF). A wrong username or password is
// [ErrInvalidCredentials]; too many failures for that username from that
// address are a [*RateLimitError] (matching [ErrRateLimited]) until the
// limit refills, checked before the password, so guessing costs the
// server nothing. An earlier session of the browser ends.
//
// A handler maps the errors to answers: ErrInvalidCredentials to 401 (or
// the form again), ErrRateLimited to 429 with Retry-After, ErrCrossOrigin to
// 403, others to 500.
func (a *Auth) Login(w http.ResponseWriter, r *http.Request, username, password string) (store.Account, error) {
	if err := a.cop.Check(r); err != nil {
		return store.Account{}, fmt.Errorf("login: %w", ErrCrossOrigin)
	}
	ctx := r.Context()
	key := strings.ToLower(username) + "\x00" + a.clientIP(r)
	if ok, wait := a.limits.take(key, a.now()); !ok {
		return store.Account{}, &RateLimitError{RetryAfter: wait}
	}

	select { // bound the memory argon2id takes under a flood of logins
	case a.hashSlots <- struct{}{}:
		defer func() { <-a.hashSlots }()
	case <-ctx.Done():
		return store.Account{}, fmt.Errorf("login: %w", ctx.Err())
	}
	acct, err := a.store.AccountByUsername(ctx, username)
	if errors.Is(err, store.ErrNotFound) || len(username) > store.MaxUsernameLen {
		VerifyPassword(a.dummyHash, password) // take as long as a wrong password
		return store.Account{}, ErrInvalidCredentials
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("login: %w", err)
	}
	ok, err := VerifyPassword(acct.PasswordHash, password)
	if err != nil {
		return store.Account{}, fmt.Errorf("login %q: %w", acct.Username, err)
	}
	if !ok {
		return store.Account{}, ErrInvalidCredentials
	}
	a.limits.reset(key)

	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		if err := a.store.DeleteSession(ctx, c.Value); err != nil {
			return store.Account{}, fmt.Errorf("login %q: end the previous session: %w", acct.Username, err)
		}
	}
	token, sess, err := a.store.CreateSession(ctx, acct.ID, a.now().Add(a.ttl))
	if err != nil {
		return store.Account{}, fmt.Errorf("login %q: %w", acct.Username, err)
	}
	a.setCookie(w, r, token, sess)
	return acct, nil
}

// Logout ends the request's session, if any, and clears its cookie. Mount
// it behind [Auth.RequireAccount] on a POST, so that another site cannot
// log the broadcaster out; on its own it checks only that the request is
// same-origin.
func (a *Auth) Logout(w http.ResponseWriter, r *http.Request) error {
	if err := a.cop.Check(r); err != nil {
		return fmt.Errorf("logout: %w", ErrCrossOrigin)
	}
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		if err := a.store.DeleteSession(r.Context(), c.Value); err != nil {
			return fmt.Errorf("logout: %w", err)
		}
	}
	a.clearCookie(w, r)
	return nil
}
