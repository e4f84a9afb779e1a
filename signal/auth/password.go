package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password policy.
const (
	// MinPasswordLen is the fewest characters a new password may have.
	MinPasswordLen = 10
	// MaxPasswordLen is the most bytes a password may have; longer ones
	// are refused before hashing.
	MaxPasswordLen = 1024
)

// The argon2id parameters of new hashes: OWASP's recommended minimum
// (Password Storage Cheat Sheet: m=19 MiB, t=2, p=1), about 20–40 ms on a
// server core. Each hash records its own parameters, so these can be raised
// later without invalidating stored hashes.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on the parameters VerifyPassword accepts from a stored hash, so a
// tampered database cannot make a login cost gigabytes.
const (
	maxArgonTime    = 16
	maxArgonMemory  = 256 * 1024 // KiB
	maxArgonThreads = 8
)

// CheckPassword reports whether password may be set as a new password: at
// least [MinPasswordLen] characters, at most [MaxPasswordLen] bytes of
// UTF-8. It wraps [ErrWeakPassword] otherwise.
func CheckPassword(password string) error {
	switch {
	case !utf8.ValidString(password):
		return fmt.Errorf("%w: not UTF-8", ErrWeakPassword)
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return fmt.Errorf("%w: use at least %d characters", ErrWeakPassword, MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return fmt.Errorf("%w: use at most %d bytes", ErrWeakPassword, MaxPasswordLen)
	}
	return nil
}

// HashPassword hashes password with argon2id and a random salt, in the PHC
// string format that records the parameters:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt, base64>$<hash, base64>
//
// It does not apply the policy: call [CheckPassword] first.
func HashPassword(password string) (string, error) {
	if len(password) > MaxPasswordLen {
		return "", fmt.Errorf("hash password: %w: longer than %d bytes", ErrWeakPassword, MaxPasswordLen)
	}
	salt := make([]byte, argonSaltLen)
	rand.Read(salt) // never fails
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches encoded, a hash from
// [HashPassword] (with whatever parameters it records). The comparison
// takes constant time. A hash it cannot read is an error wrapping
// [ErrMalformedHash].
func VerifyPassword(encoded, password string) (bool, error) {
	h, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	key := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

type argonHash struct {
	time, memory uint32
	threads      uint8
	salt, key    []byte
}

func parseHash(encoded string) (argonHash, error) {
	bad := func(why string) (argonHash, error) {
		return argonHash{}, fmt.Errorf("%w: %s", ErrMalformedHash, why)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return bad("not $argon2id$v=…$m=…,t=…,p=…$salt$hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return bad("unknown version " + parts[2])
	}
	var h argonHash
	var m, t, p uint64
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || n != 3 ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", m, t, p) || t < 1 || t > maxArgonTime || m < 8*p || m > maxArgonMemory || p < 1 || p > maxArgonThreads {
		return bad("parameters " + parts[3] + " out of bounds")
	}
	h.memory, h.time, h.threads = uint32(m), uint32(t), uint8(p)
	var err error
	b64 := base64.RawStdEncoding
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < 8 || len(h.salt) > 64 {
		return bad("salt")
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return bad("hash")
	}
	return h, nil
}
