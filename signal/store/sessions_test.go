package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/store"
)

func TestSessions(t *testing.T) {
	ctx := testCtx(t)
	f := newFixture(t)
	db, clk := f.db, f.clk
	other, err := db.CreateAccount(ctx, "other", "h")
	if err != nil {
		t.Fatal(err)
	}

	token, s, err := db.CreateSession(ctx, f.account.ID, clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(token) != 43 {
		t.Errorf("token %q: %d characters, want 43 (256 bits of base64url)", token, len(token))
	}
	if s.AccountID != f.account.ID || !s.Expires.Equal(clk.Now().Add(time.Hour)) {
		t.Errorf("CreateSession = %+v", s)
	}
	token2, _, err := db.CreateSession(ctx, f.account.ID, clk.Now().Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if token2 == token {
		t.Fatal("two sessions with one token")
	}
	otherToken, _, err := db.CreateSession(ctx, other.ID, clk.Now().Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateSession(ctx, 9999, clk.Now().Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CreateSession for a missing account = %v, want ErrNotFound", err)
	}

	lookup := func(t *testing.T, token string, wantAccount int64, want error) {
		t.Helper()
		s, err := db.SessionByToken(ctx, token)
		if !errors.Is(err, want) || (want == nil) != (err == nil) || s.AccountID != wantAccount {
			t.Errorf("SessionByToken = %+v, %v; want account %d, %v", s, err, wantAccount, want)
		}
	}
	for _, tc := range []struct {
		name    string
		token   string
		account int64
		want    error
	}{
		{"valid", token, f.account.ID, nil},
		{"second", token2, f.account.ID, nil},
		{"unknown", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0, store.ErrNotFound},
		{"empty", "", 0, store.ErrNotFound},
		{"truncated", token[:42], 0, store.ErrNotFound},
	} {
		t.Run("lookup/"+tc.name, func(t *testing.T) { lookup(t, tc.token, tc.account, tc.want) })
	}

	t.Run("expiry", func(t *testing.T) {
		clk.Advance(time.Hour - time.Millisecond)
		lookup(t, token, f.account.ID, nil)
		clk.Advance(time.Millisecond)
		lookup(t, token, 0, store.ErrNotFound) // expires is exclusive
		lookup(t, token2, f.account.ID, nil)
	})

	t.Run("delete", func(t *testing.T) {
		if err := db.DeleteSession(ctx, token2); err != nil {
			t.Fatal(err)
		}
		lookup(t, token2, 0, store.ErrNotFound)
		if err := db.DeleteSession(ctx, token2); err != nil {
			t.Errorf("deleting a deleted session: %v", err)
		}
	})

	t.Run("delete all of an account", func(t *testing.T) {
		a, _, _ := db.CreateSession(ctx, f.account.ID, clk.Now().Add(time.Hour))
		b, _, _ := db.CreateSession(ctx, f.account.ID, clk.Now().Add(time.Hour))
		n, err := db.DeleteAccountSessions(ctx, f.account.ID)
		if err != nil || n != 2 {
			t.Errorf("DeleteAccountSessions = %d, %v; want 2", n, err)
		}
		lookup(t, a, 0, store.ErrNotFound)
		lookup(t, b, 0, store.ErrNotFound)
		lookup(t, otherToken, other.ID, nil)
	})
}
