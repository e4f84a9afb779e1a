package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/store"
)

func TestBans(t *testing.T) {
	ctx := testCtx(t)
	f := newFixture(t)
	db, clk := f.db, f.clk
	other, err := db.CreateStream(ctx, store.NewStream{Name: "other", OwnerID: f.account.ID})
	if err != nil {
		t.Fatal(err)
	}
	t0 := clk.Now()

	for _, tc := range []struct {
		name string
		b    store.Ban
		want error
	}{
		{"nickname forever", store.Ban{Kind: store.BanNickname, Value: "Troll", Reason: "spam"}, nil},
		{"fingerprint timeout", store.Ban{Kind: store.BanFingerprint, Value: "fp-1", Label: "Loud", Until: t0.Add(10 * time.Minute)}, nil},
		{"nickname timeout", store.Ban{Kind: store.BanNickname, Value: "loud", Until: t0.Add(time.Minute)}, nil},
		{"unknown kind", store.Ban{Kind: "ip", Value: "1.2.3.4"}, store.ErrInvalid},
		{"empty value", store.Ban{Kind: store.BanNickname}, store.ErrInvalid},
		{"already over", store.Ban{Kind: store.BanNickname, Value: "x", Until: t0}, store.ErrInvalid},
		{"reason too long", store.Ban{Kind: store.BanNickname, Value: "x", Reason: strings.Repeat("r", store.MaxBanReasonLen+1)}, store.ErrInvalid},
		{"label too long", store.Ban{Kind: store.BanNickname, Value: "x", Label: strings.Repeat("l", store.MaxNicknameLen+1)}, store.ErrInvalid},
		{"missing stream", store.Ban{StreamID: 9999, Kind: store.BanNickname, Value: "x"}, store.ErrNotFound},
	} {
		t.Run("ban/"+tc.name, func(t *testing.T) {
			in := tc.b
			if in.StreamID == 0 {
				in.StreamID = f.stream.ID
			}
			got, err := db.Ban(ctx, in)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Ban(%+v) = %v, want %v", in, err, tc.want)
			}
			if err == nil && (got.ID == 0 || got.Kind != in.Kind || !got.Until.Equal(in.Until) || got.Forever() != in.Until.IsZero() || !got.Created.Equal(t0) || got.Label != in.Label) {
				t.Errorf("Ban = %+v", got)
			}
		})
	}

	check := func(t *testing.T, stream int64, nick, fp string, want bool, wantValue string) {
		t.Helper()
		b, banned, err := db.Banned(ctx, stream, nick, fp)
		if err != nil || banned != want || b.Value != wantValue {
			t.Errorf("Banned(%d, %q, %q) = %+v, %v, %v; want %v (%q)", stream, nick, fp, b, banned, err, want, wantValue)
		}
	}
	for _, tc := range []struct {
		name      string
		stream    int64
		nick, fp  string
		want      bool
		wantValue string
	}{
		{"nickname", f.stream.ID, "Troll", "", true, "troll"},
		{"nickname any case", f.stream.ID, "tROLL", "", true, "troll"},
		{"fingerprint", f.stream.ID, "someone", "fp-1", true, "fp-1"},
		{"fingerprint is exact", f.stream.ID, "", "FP-1", false, ""},
		{"both: forever wins", f.stream.ID, "troll", "fp-1", true, "troll"},
		{"both: longer timeout wins", f.stream.ID, "loud", "fp-1", true, "fp-1"},
		{"clean", f.stream.ID, "nice", "fp-2", false, ""},
		{"empty", f.stream.ID, "", "", false, ""},
		{"other stream", other.ID, "troll", "fp-1", false, ""},
	} {
		t.Run("banned/"+tc.name, func(t *testing.T) { check(t, tc.stream, tc.nick, tc.fp, tc.want, tc.wantValue) })
	}

	list := func(t *testing.T) string {
		t.Helper()
		bans, err := db.ListBans(ctx, f.stream.ID)
		if err != nil {
			t.Fatal(err)
		}
		var vs []string
		for _, b := range bans {
			vs = append(vs, b.Value)
		}
		return strings.Join(vs, ",")
	}
	if got := list(t); got != "troll,fp-1,loud" {
		t.Errorf("ListBans = %s", got)
	}

	t.Run("timeouts end", func(t *testing.T) {
		clk.Advance(time.Minute)
		check(t, f.stream.ID, "loud", "", false, "")
		check(t, f.stream.ID, "", "fp-1", true, "fp-1")
		if got := list(t); got != "troll,fp-1" {
			t.Errorf("ListBans = %s", got)
		}
	})

	t.Run("ban again replaces", func(t *testing.T) {
		b, err := db.Ban(ctx, store.Ban{StreamID: f.stream.ID, Kind: store.BanFingerprint, Value: "fp-1"})
		if err != nil || !b.Forever() {
			t.Fatalf("re-ban = %+v, %v", b, err)
		}
		clk.Advance(time.Hour)
		check(t, f.stream.ID, "", "fp-1", true, "fp-1")
		if got := list(t); got != "troll,fp-1" {
			t.Errorf("ListBans = %s", got)
		}
	})

	t.Run("lift", func(t *testing.T) {
		b, _, _ := db.Banned(ctx, f.stream.ID, "troll", "")
		for _, tc := range []struct {
			name   string
			stream int64
			id     int64
			want   bool
		}{
			{"wrong stream", other.ID, b.ID, false},
			{"in force", f.stream.ID, b.ID, true},
			{"again", f.stream.ID, b.ID, false},
			{"missing", f.stream.ID, 9999, false},
		} {
			got, err := db.LiftBan(ctx, tc.stream, tc.id)
			if err != nil || got != tc.want {
				t.Errorf("%s: LiftBan = %v, %v; want %v", tc.name, got, err, tc.want)
			}
		}
		check(t, f.stream.ID, "troll", "", false, "")
		if got := list(t); got != "fp-1" {
			t.Errorf("ListBans = %s", got)
		}
	})
}
