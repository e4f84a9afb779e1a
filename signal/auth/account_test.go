package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shoal-live/shoal/signal/auth"
	"github.com/shoal-live/shoal/signal/store"
)

func TestCreateAccount(t *testing.T) {
	e := newEnv(t, auth.Config{})
	for _, tc := range []struct {
		name, username, password string
		want                     error
	}{
		{"good", "bob", "0123456789", nil},
		{"short password", "carol", "012345678", auth.ErrWeakPassword},
		{"bad username", "carol smith", "0123456789", store.ErrInvalid},
		{"taken", "ALICE", "0123456789", store.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct, err := auth.CreateAccount(t.Context(), e.db, tc.username, tc.password)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("CreateAccount = %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			if strings.Contains(acct.PasswordHash, tc.password) {
				t.Error("the password is stored")
			}
			if ok, err := auth.VerifyPassword(acct.PasswordHash, tc.password); !ok || err != nil {
				t.Errorf("the stored hash does not verify: %v, %v", ok, err)
			}
		})
	}
}
