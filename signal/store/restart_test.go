package store_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/store"
)

// TestRestartSurvival writes one of everything to a file database, closes
// it, opens it again (as a restarted server would) and finds it all there.
func TestRestartSurvival(t *testing.T) {
	ctx := testCtx(t)
	clk := newClock()
	db, path := openFile(t, clk)

	acct, err := db.CreateAccount(ctx, "alice", "hash")
	if err != nil {
		t.Fatal(err)
	}
	token, sess, err := db.CreateSession(ctx, acct.ID, clk.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	st, err := db.CreateStream(ctx, store.NewStream{Name: "live", Title: "T", Description: "D", OwnerID: acct.ID})
	if err != nil {
		t.Fatal(err)
	}
	m1, err := db.AppendChat(ctx, store.ChatMessage{StreamID: st.ID, Nickname: "ann", Fingerprint: "fp", Text: "first"})
	if err != nil {
		t.Fatal(err)
	}
	m2, err := db.AppendChat(ctx, store.ChatMessage{StreamID: st.ID, Nickname: "bob", Text: "deleted"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteChat(ctx, st.ID, m2.ID); err != nil {
		t.Fatal(err)
	}
	ban, err := db.Ban(ctx, store.Ban{StreamID: st.ID, Kind: store.BanFingerprint, Value: "fp", Until: clk.Now().Add(time.Hour), Reason: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	if fi, err := os.Stat(path); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %v, want 0600 (it holds hashes and keys)", fi.Mode())
	}

	db = open(t, path, clk)
	checks := []struct {
		name  string
		check func(context.Context) error
	}{
		{"account", func(ctx context.Context) error {
			a, err := db.AccountByUsername(ctx, "ALICE")
			if err == nil && a != acct {
				err = errors.New("changed")
			}
			return err
		}},
		{"account count", func(ctx context.Context) error {
			if n, err := db.CountAccounts(ctx); err != nil || n != 1 {
				return errors.Join(err, errors.New("want 1 account"))
			}
			return nil
		}},
		{"session", func(ctx context.Context) error {
			s, err := db.SessionByToken(ctx, token)
			if err == nil && s != sess {
				err = errors.New("changed")
			}
			return err
		}},
		{"stream by name", func(ctx context.Context) error {
			s, err := db.StreamByName(ctx, "live")
			if err == nil && s != st {
				err = errors.New("changed")
			}
			return err
		}},
		{"stream by key", func(ctx context.Context) error {
			_, err := db.StreamByKey(ctx, st.Key)
			return err
		}},
		{"chat, still without the deleted message", func(ctx context.Context) error {
			ms, err := db.RecentChat(ctx, st.ID, 10)
			if err == nil && (len(ms) != 1 || ms[0] != m1) {
				err = errors.New("changed")
			}
			return err
		}},
		{"ban", func(ctx context.Context) error {
			b, banned, err := db.Banned(ctx, st.ID, "", "fp")
			if err == nil && (!banned || b != ban) {
				err = errors.New("changed")
			}
			return err
		}},
		{"new chat ids follow the old ones", func(ctx context.Context) error {
			m, err := db.AppendChat(ctx, store.ChatMessage{StreamID: st.ID, Nickname: "c", Text: "after restart"})
			if err == nil && m.ID <= m2.ID {
				err = errors.New("id reused")
			}
			return err
		}},
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.check(ctx); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestConcurrentWriters appends chat from several goroutines through one DB
// and through a second DB on the same file (as `shoal -create-account`
// beside the running server would): nothing fails and nothing is lost.
func TestConcurrentWriters(t *testing.T) {
	ctx := testCtx(t)
	clk := newClock()
	db, path := openFile(t, clk)
	db2 := open(t, path, clk)
	acct, err := db.CreateAccount(ctx, "alice", "hash")
	if err != nil {
		t.Fatal(err)
	}
	st, err := db.CreateStream(ctx, store.NewStream{Name: "live", OwnerID: acct.ID})
	if err != nil {
		t.Fatal(err)
	}

	const writers, each = 6, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		h := db
		if w%2 == 1 {
			h = db2
		}
		wg.Go(func() {
			for range each {
				if _, err := h.AppendChat(ctx, store.ChatMessage{StreamID: st.ID, Nickname: "n", Text: "x"}); err != nil {
					errs <- err
				}
				if _, _, err := h.Banned(ctx, st.ID, "n", ""); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ms, err := db.RecentChat(ctx, st.ID, store.MaxRecentChat)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for i, m := range ms {
		if seen[m.ID] || i > 0 && m.ID <= ms[i-1].ID {
			t.Fatalf("ids out of order or repeated at %d: %d", i, m.ID)
		}
		seen[m.ID] = true
	}
	if len(ms) != store.MaxRecentChat || ms[len(ms)-1].ID != writers*each {
		t.Errorf("got %d messages, last id %d; want %d, last id %d", len(ms), ms[len(ms)-1].ID, store.MaxRecentChat, writers*each)
	}
}
