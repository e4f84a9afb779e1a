package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// errNoAccount reports a call that needs [Auth.RequireAccount] in front.
var errNoAccount = errors.New("auth: no signed-in account (mount behind RequireAccount)")

// ChangePassword sets the signed-in account's password to next, after
// checking current, and ends every session of the account, the other
// browsers' included: whoever knew the old password may hold one. The
// browser that asked gets a fresh session (a new cookie, and so a new CSRF
// token). It returns how many other sessions ended. Mount it behind
// [Auth.RequireAccount].
//
// A wrong current password is [ErrInvalidCredentials] and counts against
// the same rate limit as a failed login for that username and address (a
// [*RateLimitError] once spent), so a stolen session cannot guess the
// password faster than the login form could; a next password that breaks
// the policy is [ErrWeakPassword].
func (a *Auth) ChangePassword(w http.ResponseWriter, r *http.Request, current, next string) (int, error) {
	acct, ok := AccountFrom(r.Context())
	if !ok {
		return 0, fmt.Errorf("change password: %w", errNoAccount)
	}
	if err := a.cop.Check(r); err != nil {
		return 0, fmt.Errorf("change password: %w", ErrCrossOrigin)
	}
	ctx := r.Context()
	key := strings.ToLower(acct.Username) + "\x00" + a.clientIP(r)
	if ok, wait := a.limits.take(key, a.now()); !ok {
		return 0, &RateLimitError{RetryAfter: wait}
	}
	select { // bound the memory argon2id takes, as Login does
	case a.hashSlots <- struct{}{}:
		defer func() { <-a.hashSlots }()
	case <-ctx.Done():
		return 0, fmt.Errorf("change password: %w", ctx.Err())
	}
	ok, err := VerifyPassword(acct.PasswordHash, current)
	if err != nil {
		return 0, fmt.Errorf("change password of %q: %w", acct.Username, err)
	}
	if !ok {
		return 0, fmt.Errorf("change password of %q: %w", acct.Username, ErrInvalidCredentials)
	}
	a.limits.reset(key)
	if err := CheckPassword(next); err != nil {
		return 0, fmt.Errorf("change password of %q: %w", acct.Username, err)
	}
	hash, err := HashPassword(next)
	if err != nil {
		return 0, fmt.Errorf("change password of %q: %w", acct.Username, err)
	}
	ended, err := a.store.SetPassword(ctx, acct.ID, hash)
	if err != nil {
		return 0, fmt.Errorf("change password of %q: %w", acct.Username, err)
	}
	token, sess, err := a.store.CreateSession(ctx, acct.ID, a.now().Add(a.ttl))
	if err != nil {
		a.clearCookie(w, r)
		return max(ended-1, 0), fmt.Errorf("change password of %q: new session: %w", acct.Username, err)
	}
	a.setCookie(w, r, token, sess)
	return max(ended-1, 0), nil // the asking browser's own session ended too
}

// LogoutEverywhere ends every session of the signed-in account, this
// browser's included, and clears its cookie: "sign out everywhere", after
// a lost laptop or a shared computer. It returns how many sessions ended.
// Mount it behind [Auth.RequireAccount] on a POST.
func (a *Auth) LogoutEverywhere(w http.ResponseWriter, r *http.Request) (int, error) {
	acct, ok := AccountFrom(r.Context())
	if !ok {
		return 0, fmt.Errorf("logout everywhere: %w", errNoAccount)
	}
	if err := a.cop.Check(r); err != nil {
		return 0, fmt.Errorf("logout everywhere: %w", ErrCrossOrigin)
	}
	n, err := a.store.DeleteAccountSessions(r.Context(), acct.ID)
	if err != nil {
		return 0, fmt.Errorf("logout everywhere: %w", err)
	}
	a.clearCookie(w, r)
	return n, nil
}
