package store

import "errors"

// Sentinel errors, wrapped with the operation that failed; test them with
// [errors.Is].
var (
	// ErrNotFound reports a missing row: no such account, stream, session
	// (an expired session is missing too), or a reference to one that does
	// not exist (a session for an unknown account, say).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict reports a uniqueness violation: a username or stream name
	// already taken (case-insensitively).
	ErrConflict = errors.New("store: already exists")
	// ErrInvalid reports a value the store refuses to keep: a malformed
	// username or stream name, an over-long title or chat message.
	ErrInvalid = errors.New("store: invalid value")
	// ErrNewerSchema reports a database written by a newer Shoal: this build
	// does not know its schema and refuses to touch it.
	ErrNewerSchema = errors.New("store: database schema is newer than this build")
)
