package store_test

import (
	"errors"
	"strings"
	"testing"

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
