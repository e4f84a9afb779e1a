package store_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/store"
)

func TestChatAppend(t *testing.T) {
	ctx := testCtx(t)
	f := newFixture(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	for _, tc := range []struct {
		name string
		m    store.ChatMessage
		want error
	}{
		{"plain", store.ChatMessage{Nickname: "ann", Text: "hi"}, nil},
		{"with time and fingerprint", store.ChatMessage{Nickname: "ann", Fingerprint: "fp1", Text: "hello", Time: at}, nil},
		{"unicode", store.ChatMessage{Nickname: "zoë 🐟", Text: strings.Repeat("ü", store.MaxChatTextLen)}, nil},
		{"empty text", store.ChatMessage{Nickname: "ann"}, store.ErrInvalid},
		{"empty nickname", store.ChatMessage{Text: "x"}, store.ErrInvalid},
		{"text too long", store.ChatMessage{Nickname: "ann", Text: strings.Repeat("x", store.MaxChatTextLen+1)}, store.ErrInvalid},
		{"nickname too long", store.ChatMessage{Nickname: strings.Repeat("n", store.MaxNicknameLen+1), Text: "x"}, store.ErrInvalid},
		{"bad UTF-8", store.ChatMessage{Nickname: "ann", Text: "\xff"}, store.ErrInvalid},
		{"fingerprint too long", store.ChatMessage{Nickname: "ann", Text: "x", Fingerprint: strings.Repeat("f", store.MaxFingerprintLen+1)}, store.ErrInvalid},
		{"missing stream", store.ChatMessage{StreamID: 9999, Nickname: "ann", Text: "x"}, store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.m
			if in.StreamID == 0 {
				in.StreamID = f.stream.ID
			}
			got, err := f.db.AppendChat(ctx, in)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("AppendChat = %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			want := in
			want.ID = got.ID
			if in.Time.IsZero() {
				want.Time = f.clk.Now()
			} else {
				want.Time = in.Time.Truncate(time.Millisecond)
			}
			if got.ID == 0 || got != want {
				t.Errorf("AppendChat = %+v, want %+v", got, want)
			}
		})
	}
}

func TestChatRecentAndDelete(t *testing.T) {
	ctx := testCtx(t)
	f := newFixture(t)
	other, err := f.db.CreateStream(ctx, store.NewStream{Name: "other", OwnerID: f.account.ID})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range 120 {
		m, err := f.db.AppendChat(ctx, store.ChatMessage{StreamID: f.stream.ID, Nickname: "n", Text: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > 0 && m.ID <= ids[len(ids)-1] {
			t.Fatalf("id %d after %d", m.ID, ids[len(ids)-1])
		}
		ids = append(ids, m.ID)
		f.clk.Advance(time.Second)
		if _, err := f.db.AppendChat(ctx, store.ChatMessage{StreamID: other.ID, Nickname: "o", Text: "other"}); err != nil {
			t.Fatal(err)
		}
	}

	texts := func(ms []store.ChatMessage) string {
		var s []string
		for _, m := range ms {
			s = append(s, m.Text)
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		name string
		n    int
		want string
	}{
		{"last 3", 3, "117,118,119"},
		{"last 1", 1, "119"},
		{"zero", 0, ""},
		{"negative", -5, ""},
		{"capped at 100", 1000, seq(20, 120)},
	} {
		t.Run("recent/"+tc.name, func(t *testing.T) {
			ms, err := f.db.RecentChat(ctx, f.stream.ID, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			if got := texts(ms); got != tc.want {
				t.Errorf("RecentChat(%d) = %s, want %s", tc.n, got, tc.want)
			}
			for _, m := range ms {
				if m.StreamID != f.stream.ID || m.Nickname != "n" {
					t.Errorf("message of another stream: %+v", m)
				}
			}
		})
	}

	for _, tc := range []struct {
		name   string
		stream int64
		id     int64
		want   bool
	}{
		{"visible", f.stream.ID, ids[118], true},
		{"again", f.stream.ID, ids[118], false},
		{"other stream's id", other.ID, ids[117], false},
		{"missing", f.stream.ID, 99999, false},
	} {
		t.Run("delete/"+tc.name, func(t *testing.T) {
			got, err := f.db.DeleteChat(ctx, tc.stream, tc.id)
			if err != nil || got != tc.want {
				t.Errorf("DeleteChat(%d, %d) = %v, %v; want %v", tc.stream, tc.id, got, err, tc.want)
			}
		})
	}
	ms, err := f.db.RecentChat(ctx, f.stream.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := texts(ms); got != "116,117,119" {
		t.Errorf("after deleting 118, RecentChat(3) = %s", got)
	}
}

// seq is "from,…,to-1".
func seq(from, to int) string {
	var s []string
	for i := from; i < to; i++ {
		s = append(s, fmt.Sprint(i))
	}
	return strings.Join(s, ",")
}
