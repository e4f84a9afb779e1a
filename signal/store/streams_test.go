package store_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/shoal-live/shoal/signal/store"
)

var keyPattern = regexp.MustCompile(`^[A-Z2-7]{26}$`)

func TestStreams(t *testing.T) {
	ctx := testCtx(t)
	f := newFixture(t)
	db := f.db
	other, err := db.CreateAccount(ctx, "other", "h")
	if err != nil {
		t.Fatal(err)
	}

	if !keyPattern.MatchString(f.stream.Key) {
		t.Errorf("key %q is not 26 characters of base32", f.stream.Key)
	}
	if f.stream.Name != "live" || f.stream.Title != "Live" || f.stream.OwnerID != f.account.ID || !f.stream.Created.Equal(f.clk.Now()) {
		t.Errorf("CreateStream = %+v", f.stream)
	}

	for _, tc := range []struct {
		name string
		s    store.NewStream
		want error
	}{
		{"another", store.NewStream{Name: "Second_one-2", Title: "2", Description: "d", OwnerID: f.account.ID}, nil},
		{"other owner", store.NewStream{Name: "others", OwnerID: other.ID}, nil},
		{"taken", store.NewStream{Name: "live", OwnerID: other.ID}, store.ErrConflict},
		{"taken other case", store.NewStream{Name: "LIVE", OwnerID: other.ID}, store.ErrConflict},
		{"longest name", store.NewStream{Name: strings.Repeat("n", 64), OwnerID: other.ID}, nil},
		{"name too long", store.NewStream{Name: strings.Repeat("n", 65), OwnerID: other.ID}, store.ErrInvalid},
		{"empty name", store.NewStream{Name: "", OwnerID: other.ID}, store.ErrInvalid},
		{"dot", store.NewStream{Name: "a.b", OwnerID: other.ID}, store.ErrInvalid},
		{"slash", store.NewStream{Name: "a/b", OwnerID: other.ID}, store.ErrInvalid},
		{"title too long", store.NewStream{Name: "t", Title: strings.Repeat("é", store.MaxTitleLen+1), OwnerID: other.ID}, store.ErrInvalid},
		{"longest title", store.NewStream{Name: "t2", Title: strings.Repeat("é", store.MaxTitleLen), OwnerID: other.ID}, nil},
		{"description too long", store.NewStream{Name: "d", Description: strings.Repeat("x", store.MaxDescriptionLen+1), OwnerID: other.ID}, store.ErrInvalid},
		{"missing owner", store.NewStream{Name: "orphan", OwnerID: 9999}, store.ErrNotFound},
	} {
		t.Run("create/"+tc.name, func(t *testing.T) {
			s, err := db.CreateStream(ctx, tc.s)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("CreateStream(%+v) = %v, want %v", tc.s, err, tc.want)
			}
			if err == nil && (s.Name != tc.s.Name || s.Title != tc.s.Title || s.Description != tc.s.Description || !keyPattern.MatchString(s.Key)) {
				t.Errorf("CreateStream = %+v", s)
			}
		})
	}

	t.Run("list by owner", func(t *testing.T) {
		ss, err := db.StreamsByOwner(ctx, f.account.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		keys := map[string]bool{}
		for _, s := range ss {
			names = append(names, s.Name)
			keys[s.Key] = true
		}
		if strings.Join(names, ",") != "live,Second_one-2" || len(keys) != 2 {
			t.Errorf("StreamsByOwner = %v (%d distinct keys)", names, len(keys))
		}
		if ss, err := db.StreamsByOwner(ctx, 9999); err != nil || len(ss) != 0 {
			t.Errorf("StreamsByOwner(nobody) = %v, %v", ss, err)
		}
	})

	for _, tc := range []struct {
		name   string
		lookup string
		want   error
	}{
		{"exact", "live", nil},
		{"other case", "Live", store.ErrNotFound},
		{"missing", "nope", store.ErrNotFound},
	} {
		t.Run("by name/"+tc.name, func(t *testing.T) {
			s, err := db.StreamByName(ctx, tc.lookup)
			if !errors.Is(err, tc.want) || (err == nil && s != f.stream) {
				t.Errorf("StreamByName(%q) = %+v, %v; want %v", tc.lookup, s, err, tc.want)
			}
		})
	}

	for _, tc := range []struct {
		name string
		key  string
		want error
	}{
		{"right key", f.stream.Key, nil},
		{"lower case", strings.ToLower(f.stream.Key), store.ErrNotFound},
		{"wrong key", strings.Repeat("A", 26), store.ErrNotFound},
		{"empty", "", store.ErrNotFound},
		{"prefix", f.stream.Key[:10], store.ErrNotFound},
	} {
		t.Run("by key/"+tc.name, func(t *testing.T) {
			s, err := db.StreamByKey(ctx, tc.key)
			if !errors.Is(err, tc.want) || (err == nil && s != f.stream) {
				t.Errorf("StreamByKey(%q) = %+v, %v; want %v", tc.key, s, err, tc.want)
			}
		})
	}

	t.Run("update", func(t *testing.T) {
		s, err := db.UpdateStream(ctx, f.stream.ID, "New title", "New description")
		if err != nil {
			t.Fatal(err)
		}
		want := f.stream
		want.Title, want.Description = "New title", "New description"
		if s != want {
			t.Errorf("UpdateStream = %+v, want %+v", s, want)
		}
		if got, _ := db.StreamByName(ctx, "live"); got != want {
			t.Errorf("after UpdateStream, StreamByName = %+v", got)
		}
		if _, err := db.UpdateStream(ctx, 9999, "t", "d"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateStream(missing) = %v, want ErrNotFound", err)
		}
		if _, err := db.UpdateStream(ctx, f.stream.ID, strings.Repeat("x", store.MaxTitleLen+1), ""); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("UpdateStream(long title) = %v, want ErrInvalid", err)
		}
	})

	t.Run("regenerate key", func(t *testing.T) {
		s, err := db.RegenerateStreamKey(ctx, f.stream.ID)
		if err != nil {
			t.Fatal(err)
		}
		if s.Key == f.stream.Key || !keyPattern.MatchString(s.Key) {
			t.Errorf("new key %q, old %q", s.Key, f.stream.Key)
		}
		if _, err := db.StreamByKey(ctx, f.stream.Key); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("old key still works: %v", err)
		}
		if got, err := db.StreamByKey(ctx, s.Key); err != nil || got.ID != f.stream.ID {
			t.Errorf("StreamByKey(new key) = %+v, %v", got, err)
		}
		if _, err := db.RegenerateStreamKey(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RegenerateStreamKey(missing) = %v, want ErrNotFound", err)
		}
	})

	t.Run("delete", func(t *testing.T) {
		if _, err := db.AppendChat(ctx, store.ChatMessage{StreamID: f.stream.ID, Nickname: "n", Text: "t"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Ban(ctx, store.Ban{StreamID: f.stream.ID, Kind: store.BanNickname, Value: "n"}); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteStream(ctx, f.stream.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.StreamByName(ctx, "live"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted stream found: %v", err)
		}
		if err := db.DeleteStream(ctx, f.stream.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteStream twice = %v, want ErrNotFound", err)
		}
		// A new stream of the same name starts with no chat and no bans.
		s, err := db.CreateStream(ctx, store.NewStream{Name: "live", OwnerID: other.ID})
		if err != nil {
			t.Fatal(err)
		}
		if msgs, _ := db.RecentChat(ctx, s.ID, 10); len(msgs) != 0 {
			t.Errorf("recreated stream has chat %v", msgs)
		}
		if bans, _ := db.ListBans(ctx, s.ID); len(bans) != 0 {
			t.Errorf("recreated stream has bans %v", bans)
		}
	})
}
