package auth_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/shoal-live/shoal/signal/auth"
)

func TestHashAndVerify(t *testing.T) {
	h1, err := auth.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := auth.HashPassword("correct horse battery")
	if h1 == h2 {
		t.Error("two hashes of one password are equal: no salt?")
	}
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q does not record its parameters", h1)
	}
	if strings.Contains(h1, "correct horse") {
		t.Error("the hash contains the password")
	}
	for _, tc := range []struct {
		name     string
		password string
		want     bool
	}{
		{"right", "correct horse battery", true},
		{"wrong", "correct horse batterY", false},
		{"prefix", "correct horse", false},
		{"empty", "", false},
		{"too long", strings.Repeat("x", auth.MaxPasswordLen+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := auth.VerifyPassword(h1, tc.password)
			if err != nil || ok != tc.want {
				t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tc.password, ok, err, tc.want)
			}
		})
	}
}

// TestVerifyOtherParameters checks that a hash made with other (older or
// newer) parameters still verifies: they are read from the hash.
func TestVerifyOtherParameters(t *testing.T) {
	salt := []byte("some salt 16 b..")
	key := argon2.IDKey([]byte("password12"), salt, 3, 64, 2, 24)
	b64 := base64.RawStdEncoding
	h := "$argon2id$v=19$m=64,t=3,p=2$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key)
	for _, tc := range []struct {
		password string
		want     bool
	}{{"password12", true}, {"password13", false}} {
		ok, err := auth.VerifyPassword(h, tc.password)
		if err != nil || ok != tc.want {
			t.Errorf("VerifyPassword(%q, %q) = %v, %v; want %v", h, tc.password, ok, err, tc.want)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, _ := auth.HashPassword("correct horse battery")
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	for _, tc := range []struct{ name, hash string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", with(1, "argon2i")},
		{"other version", with(2, "v=16")},
		{"huge memory", with(3, "m=4194304,t=2,p=1")},
		{"huge time", with(3, "m=19456,t=1000,p=1")},
		{"zero threads", with(3, "m=19456,t=2,p=0")},
		{"trailing junk", with(3, "m=19456,t=2,p=1x")},
		{"bad salt", with(4, "!!")},
		{"short hash", with(5, "AAAA")},
		{"extra field", good + "$x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := auth.VerifyPassword(tc.hash, "correct horse battery")
			if ok || !errors.Is(err, auth.ErrMalformedHash) {
				t.Errorf("VerifyPassword(%q) = %v, %v; want ErrMalformedHash", tc.hash, ok, err)
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		name     string
		password string
		ok       bool
	}{
		{"ten", "0123456789", true},
		{"nine", "012345678", false},
		{"ten characters, more bytes", "ééééééééé€", true},
		{"nine characters, many bytes", "€€€€€€€€€", false},
		{"empty", "", false},
		{"longest", strings.Repeat("x", auth.MaxPasswordLen), true},
		{"too long", strings.Repeat("x", auth.MaxPasswordLen+1), false},
		{"not UTF-8", "0123456789\xff", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := auth.CheckPassword(tc.password)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, auth.ErrWeakPassword)) {
				t.Errorf("CheckPassword = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
