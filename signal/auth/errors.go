package auth

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors, wrapped with details; test them with [errors.Is].
var (
	// ErrInvalidCredentials reports a login with an unknown username or a
	// wrong password; which of the two is deliberately not said.
	ErrInvalidCredentials = errors.New("auth: wrong username or password")
	// ErrRateLimited reports a login refused, without checking the
	// password, because of too many failed ones for that username from
	// that address. The error is a [*RateLimitError] that says when to
	// try again.
	ErrRateLimited = errors.New("auth: too many failed logins")
	// ErrCrossOrigin reports a state-changing request sent by a page of
	// another origin.
	ErrCrossOrigin = errors.New("auth: cross-origin request refused")
	// ErrWeakPassword reports a new password that breaks the policy (see
	// [CheckPassword]).
	ErrWeakPassword = errors.New("auth: password too weak")
	// ErrMalformedHash reports a stored password hash that is not an
	// argon2id hash this package can check.
	ErrMalformedHash = errors.New("auth: malformed password hash")
)

// RateLimitError is the error of a login refused by the rate limit. It
// matches [ErrRateLimited].
type RateLimitError struct {
	// RetryAfter is how long until the next attempt is allowed.
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("auth: too many failed logins: try again in %v", e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }
