package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/store"
)

// TestPruneChat fills two streams with a message a minute and prunes them
// by age, by count, for one stream or all.
func TestPruneChat(t *testing.T) {
	for _, tc := range []struct {
		name      string
		one       bool          // prune only the first stream
		age       time.Duration // 0: no age limit
		keep      int
		wantA     string // the first stream's messages left
		wantB     string
		wantGone  int
		deleteOne bool // soft-delete message 9 of the first stream first
	}{
		{name: "nothing", wantA: seq(0, 10), wantB: seq(0, 10)},
		{name: "by count, every stream", keep: 3, wantA: "7,8,9", wantB: "7,8,9", wantGone: 14},
		{name: "by count, one stream", one: true, keep: 3, wantA: "7,8,9", wantB: seq(0, 10), wantGone: 7},
		{name: "count above what is there", keep: 50, wantA: seq(0, 10), wantB: seq(0, 10)},
		{name: "by age", age: 5*time.Minute + 30*time.Second, wantA: "5,6,7,8,9", wantB: "5,6,7,8,9", wantGone: 10},
		{name: "by age, one stream", one: true, age: 2 * time.Minute, wantA: "8,9", wantB: seq(0, 10), wantGone: 8},
		{name: "age and count", age: 5 * time.Minute, keep: 2, wantA: "8,9", wantB: "8,9", wantGone: 16},
		{name: "deleted messages count too", keep: 3, deleteOne: true, wantA: "7,8", wantB: "7,8,9", wantGone: 14},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			f := newFixture(t)
			other, err := f.db.CreateStream(ctx, store.NewStream{Name: "other", OwnerID: f.account.ID})
			if err != nil {
				t.Fatal(err)
			}
			var last int64
			for i := range 10 {
				for _, st := range []int64{f.stream.ID, other.ID} {
					m, err := f.db.AppendChat(ctx, store.ChatMessage{StreamID: st, Nickname: "n", Text: fmt.Sprint(i)})
					if err != nil {
						t.Fatal(err)
					}
					if st == f.stream.ID {
						last = m.ID
					}
				}
				f.clk.Advance(time.Minute)
			}
			if tc.deleteOne {
				if ok, err := f.db.DeleteChat(ctx, f.stream.ID, last); !ok || err != nil {
					t.Fatalf("DeleteChat = %v, %v", ok, err)
				}
			}
			var before time.Time
			if tc.age > 0 {
				before = f.clk.Now().Add(-tc.age)
			}
			stream := int64(0)
			if tc.one {
				stream = f.stream.ID
			}
			gone, err := f.db.PruneChat(ctx, stream, before, tc.keep)
			if err != nil || gone != tc.wantGone {
				t.Errorf("PruneChat = %d, %v; want %d", gone, err, tc.wantGone)
			}
			for _, c := range []struct {
				id   int64
				want string
			}{{f.stream.ID, tc.wantA}, {other.ID, tc.wantB}} {
				ms, err := f.db.RecentChat(ctx, c.id, store.MaxRecentChat)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, m := range ms {
					got = append(got, m.Text)
				}
				if s := join(got); s != c.want {
					t.Errorf("stream %d keeps %s, want %s", c.id, s, c.want)
				}
			}
		})
	}
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}

// TestSecret: a secret is made once and survives a reopen.
func TestSecret(t *testing.T) {
	ctx := testCtx(t)
	clk := newClock()
	db, path := openFile(t, clk)
	a, err := db.Secret(ctx, "salt", 32)
	if err != nil || len(a) != 32 {
		t.Fatalf("Secret = %x, %v", a, err)
	}
	b, err := db.Secret(ctx, "salt", 16)
	if err != nil || string(a) != string(b) {
		t.Fatalf("Secret again = %x, %v; want %x", b, err, a)
	}
	if c, err := db.Secret(ctx, "other", 32); err != nil || string(c) == string(a) {
		t.Fatalf("another secret = %x, %v", c, err)
	}
	for _, bad := range []struct {
		name string
		size int
	}{{"", 32}, {"x", 0}, {"x", store.MaxSecretLen + 1}} {
		if _, err := db.Secret(ctx, bad.name, bad.size); err == nil {
			t.Errorf("Secret(%q, %d) accepted", bad.name, bad.size)
		}
	}
	db.Close()
	db2 := open(t, path, clk)
	if c, err := db2.Secret(ctx, "salt", 32); err != nil || string(c) != string(a) {
		t.Fatalf("after reopen Secret = %x, %v; want %x", c, err, a)
	}
}
