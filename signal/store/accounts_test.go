package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/store"
)

func TestAccounts(t *testing.T) {
	ctx := testCtx(t)
	clk := newClock()
	db := openMem(t, clk)

	if n, err := db.CountAccounts(ctx); err != nil || n != 0 {
		t.Fatalf("CountAccounts on a new store = %d, %v; want 0", n, err)
	}
	alice, err := db.CreateAccount(ctx, "Alice", "$argon2id$hash")
	if err != nil {
		t.Fatal(err)
	}
	if alice.ID == 0 || alice.Username != "Alice" || alice.PasswordHash != "$argon2id$hash" || !alice.Created.Equal(clk.Now()) {
		t.Errorf("CreateAccount = %+v", alice)
	}

	create := []struct {
		name     string
		username string
		hash     string
		want     error
	}{
		{"second account", "bob", "h", nil},
		{"same name", "Alice", "h", store.ErrConflict},
		{"same name other case", "aLiCe", "h", store.ErrConflict},
		{"dots dashes underscores", "a.b-c_d", "h", nil},
		{"longest", strings.Repeat("x", store.MaxUsernameLen), "h", nil},
		{"too long", strings.Repeat("y", store.MaxUsernameLen+1), "h", store.ErrInvalid},
		{"empty", "", "h", store.ErrInvalid},
		{"space", "a b", "h", store.ErrInvalid},
		{"non-ASCII", "zoë", "h", store.ErrInvalid},
		{"empty hash", "carol", "", store.ErrInvalid},
	}
	for _, tc := range create {
		t.Run("create/"+tc.name, func(t *testing.T) {
			_, err := db.CreateAccount(ctx, tc.username, tc.hash)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("CreateAccount(%q) = %v, want %v", tc.username, err, tc.want)
			}
		})
	}

	get := []struct {
		name     string
		username string
		wantID   int64
		want     error
	}{
		{"exact", "Alice", alice.ID, nil},
		{"other case", "ALICE", alice.ID, nil},
		{"missing", "mallory", 0, store.ErrNotFound},
		{"empty", "", 0, store.ErrNotFound},
	}
	for _, tc := range get {
		t.Run("by username/"+tc.name, func(t *testing.T) {
			a, err := db.AccountByUsername(ctx, tc.username)
			if !errors.Is(err, tc.want) || a.ID != tc.wantID {
				t.Errorf("AccountByUsername(%q) = %+v, %v; want id %d, %v", tc.username, a, err, tc.wantID, tc.want)
			}
		})
	}

	t.Run("by id", func(t *testing.T) {
		a, err := db.AccountByID(ctx, alice.ID)
		if err != nil || a != alice {
			t.Errorf("AccountByID(%d) = %+v, %v; want %+v", alice.ID, a, err, alice)
		}
		if _, err := db.AccountByID(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AccountByID(9999) = %v, want ErrNotFound", err)
		}
	})

	if n, err := db.CountAccounts(ctx); err != nil || n != 4 {
		t.Errorf("CountAccounts = %d, %v; want 4", n, err)
	}
}

// TestSetPassword: the hash changes and every session of the account ends,
// another account's stay.
func TestSetPassword(t *testing.T) {
	ctx := testCtx(t)
	f := newFixture(t)
	other, err := f.db.CreateAccount(ctx, "other", "hash")
	if err != nil {
		t.Fatal(err)
	}
	exp := f.clk.Now().Add(time.Hour)
	var mine []string
	for range 3 {
		tok, _, err := f.db.CreateSession(ctx, f.account.ID, exp)
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, tok)
	}
	theirs, _, err := f.db.CreateSession(ctx, other.ID, exp)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		id      int64
		hash    string
		want    error
		wantN   int
		wantNow string
	}{
		{"empty hash", f.account.ID, "", store.ErrInvalid, 0, "hash"},
		{"missing account", 9999, "new", store.ErrNotFound, 0, "hash"},
		{"changed", f.account.ID, "new", nil, 3, "new"},
		{"again, no session left", f.account.ID, "newer", nil, 0, "newer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := f.db.SetPassword(ctx, tc.id, tc.hash)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) || n != tc.wantN {
				t.Fatalf("SetPassword = %d, %v; want %d, %v", n, err, tc.wantN, tc.want)
			}
			a, err := f.db.AccountByID(ctx, f.account.ID)
			if err != nil || a.PasswordHash != tc.wantNow {
				t.Errorf("hash = %q, %v; want %q", a.PasswordHash, err, tc.wantNow)
			}
		})
	}
	for _, tok := range mine {
		if _, err := f.db.SessionByToken(ctx, tok); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a session outlived the password change: %v", err)
		}
	}
	if _, err := f.db.SessionByToken(ctx, theirs); err != nil {
		t.Errorf("another account's session ended: %v", err)
	}
}
