package auth_test

import (
	"bytes"
	"errors"
	"log/slog"
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

func TestEnsureAdmin(t *testing.T) {
	for _, tc := range []struct {
		name               string
		existing           bool
		username, password string
		wantCreated        bool
		wantErr            bool
		wantLog            string
	}{
		{"no accounts, no credentials: says how", false, "", "", false, false, "shoal user add"},
		{"no accounts, credentials: creates", false, "admin", "0123456789ab", true, false, "created the first"},
		{"accounts exist: leaves them", true, "admin", "0123456789ab", false, false, "ignored"},
		{"accounts exist, no credentials: quiet", true, "", "", false, false, ""},
		{"only a username", false, "admin", "", false, true, ""},
		{"only a password", false, "", "0123456789ab", false, true, ""},
		{"weak password", false, "admin", "short", false, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			db, err := store.Open(ctx, store.Config{Path: store.Memory})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if tc.existing {
				if _, err := auth.CreateAccount(ctx, db, "owner", "0123456789"); err != nil {
					t.Fatal(err)
				}
			}
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			created, err := auth.EnsureAdmin(ctx, db, tc.username, tc.password, log)
			if created != tc.wantCreated || (err != nil) != tc.wantErr {
				t.Fatalf("EnsureAdmin = %v, %v; want %v, error %v", created, err, tc.wantCreated, tc.wantErr)
			}
			if tc.wantLog != "" && !strings.Contains(logs.String(), tc.wantLog) || tc.wantLog == "" && !tc.wantErr && logs.Len() > 0 {
				t.Errorf("log %q, want %q", logs.String(), tc.wantLog)
			}
			n, _ := db.CountAccounts(ctx)
			want := 0
			if tc.existing || tc.wantCreated {
				want = 1
			}
			if n != want {
				t.Errorf("%d accounts, want %d", n, want)
			}
			if tc.wantCreated {
				a, err := db.AccountByUsername(ctx, tc.username)
				if ok, _ := auth.VerifyPassword(a.PasswordHash, tc.password); err != nil || !ok {
					t.Errorf("the admin cannot log in: %v", err)
				}
			}
		})
	}
}
