package chat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/store"

	_ "modernc.org/sqlite" // TestPrune counts the rows itself
)

// streamsIn answers Lookup as package streams does: the streams in db,
// and "demo", which exists without a row.
type streamsIn struct{ db *store.DB }

func (s streamsIn) Lookup(ctx context.Context, name string) (*store.Stream, bool, error) {
	st, err := s.db.StreamByName(ctx, name)
	switch {
	case err == nil:
		return &st, true, nil
	case errors.Is(err, store.ErrNotFound):
		return nil, name == "demo", nil
	}
	return nil, false, err
}

// clock is a settable test clock shared by the hub and the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// inbox records what the hub delivers to one connection.
type inbox struct {
	mu   sync.Mutex
	msgs []signaling.Message
}

func (b *inbox) deliver(m signaling.Message) bool {
	// Every message the hub sends must pass the protocol's own checks.
	m.V = signaling.Version
	if err := m.Validate(); err != nil {
		panic(fmt.Sprintf("hub sent an invalid message: %v", err))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, m)
	return true
}

// take returns and forgets what arrived.
func (b *inbox) take() []signaling.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.msgs
	b.msgs = nil
	return out
}

func (b *inbox) last(t *testing.T) signaling.Message {
	t.Helper()
	got := b.take()
	if len(got) == 0 {
		t.Fatal("nothing delivered")
	}
	return got[len(got)-1]
}

type fixture struct {
	clk     *clock
	db      *store.DB
	path    string
	hub     *Hub
	owner   int64
	stream  string
	streams store.Stream
	addrs   int // addresses handed out by join
	salt    []byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := &clock{t: time.Now().Truncate(time.Millisecond)}
	f := &fixture{clk: clk, path: filepath.Join(t.TempDir(), store.FileName), stream: "show", salt: []byte("test salt")}
	f.open(t)
	acct, err := f.db.CreateAccount(t.Context(), "host", "not-a-real-hash")
	if err != nil {
		t.Fatal(err)
	}
	f.owner = acct.ID
	if f.streams, err = f.db.CreateStream(t.Context(), store.NewStream{Name: f.stream, Title: "The show", OwnerID: acct.ID}); err != nil {
		t.Fatal(err)
	}
	return f
}

// open (re)opens the store and makes a fresh hub on it, as a restart does.
func (f *fixture) open(t *testing.T) {
	t.Helper()
	db, err := store.Open(t.Context(), store.Config{Path: f.path, Now: f.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	f.hub = New(Config{Store: db, Now: f.clk.Now, Salt: f.salt, Streams: streamsIn{db}})
}

// join joins from an address of its own.
func (f *fixture) join(t *testing.T, account int64) (*Client, *inbox) {
	t.Helper()
	f.addrs++
	return f.joinFrom(t, account, fmt.Sprintf("198.51.100.%d", f.addrs))
}

func (f *fixture) joinFrom(t *testing.T, account int64, addr string) (*Client, *inbox) {
	t.Helper()
	in := &inbox{}
	c, err := f.hub.Join(t.Context(), f.stream, account, addr, in.deliver)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Leave)
	return c, in
}

func send(nick, text string) signaling.Message {
	return signaling.Message{Type: signaling.TypeChatSend, Nick: nick, Text: text}
}

func TestSend(t *testing.T) {
	tests := []struct {
		name     string
		nick     string
		text     string
		wantType signaling.Type
		wantCode string
		wantText string // the chat-msg's text, or a part of the error's
	}{
		{"plain", "ann", "hello", signaling.TypeChatMsg, "", "hello"},
		{"trimmed", "ann", "  hello \n", signaling.TypeChatMsg, "", "hello"},
		{"html is just text", "ann", `<img src=x onerror=alert(1)>`, signaling.TypeChatMsg, "", `<img src=x onerror=alert(1)>`},
		{"500 characters", "ann", strings.Repeat("é", 500), signaling.TypeChatMsg, "", strings.Repeat("é", 500)},
		{"501 characters", "ann", strings.Repeat("é", 501), signaling.TypeError, signaling.CodeChatTooLong, "at most 500 characters"},
		{"bad nickname", "a b", "hi", signaling.TypeError, signaling.CodeChatBadNick, "nickname"},
		{"blank", "ann", "   ", signaling.TypeError, signaling.CodeBadMessage, "Empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			c, in := f.join(t, 0)
			_, other := f.join(t, 0)
			in.take()
			other.take()
			c.Handle(t.Context(), send(tt.nick, tt.text))
			got := in.last(t)
			if got.Type != tt.wantType {
				t.Fatalf("got %+v, want a %s", got, tt.wantType)
			}
			if tt.wantType == signaling.TypeError {
				if got.Code != tt.wantCode || !strings.Contains(got.Text, tt.wantText) {
					t.Fatalf("error %s %q, want %s containing %q", got.Code, got.Text, tt.wantCode, tt.wantText)
				}
				if n := len(other.take()); n != 0 {
					t.Fatalf("a refused message reached another viewer (%d messages)", n)
				}
				return
			}
			if got.Text != tt.wantText || got.Nick != tt.nick || got.MsgID == 0 || got.Moderator {
				t.Fatalf("got %+v", got)
			}
			if o := other.last(t); o.Text != tt.wantText || o.MsgID != got.MsgID {
				t.Fatalf("the other viewer got %+v", o)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t)
	c, in := f.join(t, 0)
	in.take()
	steps := []struct {
		advance time.Duration
		want    signaling.Type
	}{
		{0, signaling.TypeChatMsg}, {0, signaling.TypeChatMsg}, {0, signaling.TypeChatMsg},
		{0, signaling.TypeChatMsg}, {0, signaling.TypeChatMsg}, // the burst of 5
		{0, signaling.TypeError},                        // the 6th at once
		{500 * time.Millisecond, signaling.TypeError},   // half a token
		{500 * time.Millisecond, signaling.TypeChatMsg}, // 1 a second
		{0, signaling.TypeError},
		{5 * time.Second, signaling.TypeChatMsg},
	}
	for i, s := range steps {
		f.clk.Advance(s.advance)
		c.Handle(t.Context(), send("ann", fmt.Sprint("m", i)))
		got := in.last(t)
		if got.Type != s.want {
			t.Fatalf("step %d: got %+v, want %s", i, got, s.want)
		}
		if got.Type == signaling.TypeError && (got.Code != signaling.CodeChatRateLimited || !strings.Contains(got.Text, "too fast")) {
			t.Fatalf("step %d: error %s %q", i, got.Code, got.Text)
		}
	}
}

func TestHistoryOnJoin(t *testing.T) {
	for _, sent := range []int{0, 3, 100, 130} {
		t.Run(fmt.Sprint(sent), func(t *testing.T) {
			f := newFixture(t)
			for i := range sent {
				_, err := f.db.AppendChat(t.Context(), store.ChatMessage{StreamID: f.streams.ID, Nickname: "ann", Text: fmt.Sprint("m", i)})
				if err != nil {
					t.Fatal(err)
				}
			}
			_, in := f.join(t, 0)
			got := in.take()
			if got[0].Type != signaling.TypeChatWelcome || got[0].Count != 1 || got[0].Moderator {
				t.Fatalf("first message %+v, want a welcome", got[0])
			}
			want := min(sent, 100)
			if len(got)-1 != want {
				t.Fatalf("history of %d messages, want %d", len(got)-1, want)
			}
			for i, m := range got[1:] {
				if w := fmt.Sprint("m", sent-want+i); m.Type != signaling.TypeChatMsg || m.Text != w {
					t.Fatalf("history[%d] = %+v, want %q", i, m, w)
				}
			}
		})
	}
}

func TestHistorySurvivesRestart(t *testing.T) {
	f := newFixture(t)
	c, _ := f.join(t, 0)
	c.Handle(t.Context(), send("ann", "before the restart"))
	c.Leave()
	f.db.Close()
	f.open(t)
	_, in := f.join(t, 0)
	got := in.take()
	if len(got) != 2 || got[1].Text != "before the restart" {
		t.Fatalf("after a restart: %+v", got)
	}
}

func TestDelete(t *testing.T) {
	f := newFixture(t)
	mod, modIn := f.join(t, f.owner)
	a, aIn := f.join(t, 0)
	_, bIn := f.join(t, 0)
	if !mod.Moderator() || a.Moderator() {
		t.Fatal("only the owner moderates")
	}
	a.Handle(t.Context(), send("ann", "rude"))
	id := aIn.last(t).MsgID
	modIn.take()
	bIn.take()

	a.Handle(t.Context(), signaling.Message{Type: signaling.TypeChatDelete, MsgID: id})
	if got := aIn.last(t); got.Code != signaling.CodeChatForbidden {
		t.Fatalf("a viewer deleting: %+v", got)
	}
	if n := len(bIn.take()); n != 0 {
		t.Fatal("a refused delete was broadcast")
	}

	mod.Handle(t.Context(), signaling.Message{Type: signaling.TypeChatDelete, MsgID: id})
	for name, in := range map[string]*inbox{"moderator": modIn, "author": aIn, "other": bIn} {
		if got := in.last(t); got.Type != signaling.TypeChatDelete || got.MsgID != id {
			t.Fatalf("%s got %+v, want chat-delete %d", name, got, id)
		}
	}
	_, late := f.join(t, 0)
	if got := late.take(); len(got) != 1 {
		t.Fatalf("a deleted message is still in the history: %+v", got)
	}
}

func TestBan(t *testing.T) {
	tests := []struct {
		name     string
		ban      func(msgID int64) signaling.Message
		renick   string        // the author's nickname afterwards
		after    time.Duration // time passed before the author tries again
		wantText string        // "" if the message goes through
	}{
		{"timeout by message", func(id int64) signaling.Message {
			return signaling.Message{Type: signaling.TypeChatBan, MsgID: id, DurationMs: 300_000}
		}, "spammer", time.Minute, "timed out"},
		{"timeout covers the connection", func(id int64) signaling.Message {
			return signaling.Message{Type: signaling.TypeChatBan, MsgID: id, DurationMs: 300_000}
		}, "innocent", time.Minute, "timed out"},
		{"timeout ends", func(id int64) signaling.Message {
			return signaling.Message{Type: signaling.TypeChatBan, MsgID: id, DurationMs: 300_000}
		}, "spammer", 6 * time.Minute, ""},
		{"ban for good", func(id int64) signaling.Message {
			return signaling.Message{Type: signaling.TypeChatBan, MsgID: id}
		}, "spammer", 48 * time.Hour, "banned"},
		{"ban a nickname, any case", func(int64) signaling.Message {
			return signaling.Message{Type: signaling.TypeChatBan, Nick: "SPAMMER"}
		}, "Spammer", time.Minute, "banned"},
		{"nickname ban spares a new nickname", func(int64) signaling.Message {
			return signaling.Message{Type: signaling.TypeChatBan, Nick: "spammer"}
		}, "reformed", time.Minute, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			mod, modIn := f.join(t, f.owner)
			a, aIn := f.join(t, 0)
			a.Handle(t.Context(), send("spammer", "buy now"))
			id := aIn.last(t).MsgID
			modIn.take()
			mod.Handle(t.Context(), tt.ban(id))
			if got := modIn.take(); len(got) != 0 {
				t.Fatalf("the ban answered %+v", got)
			}
			f.clk.Advance(tt.after)
			a.Handle(t.Context(), send(tt.renick, "again"))
			got := aIn.last(t)
			if tt.wantText == "" {
				if got.Type != signaling.TypeChatMsg {
					t.Fatalf("got %+v, want the message through", got)
				}
				return
			}
			if got.Code != signaling.CodeChatBanned || !strings.Contains(got.Text, tt.wantText) {
				t.Fatalf("got %+v, want chat-banned %q", got, tt.wantText)
			}
			if n := len(modIn.take()); n != 0 {
				t.Fatal("a banned viewer's message was broadcast")
			}
		})
	}
}

func TestModerationNeedsTheOwner(t *testing.T) {
	f := newFixture(t)
	other, err := f.db.CreateAccount(t.Context(), "someone", "x")
	if err != nil {
		t.Fatal(err)
	}
	for name, account := range map[string]int64{"anonymous": 0, "another account": other.ID} {
		c, in := f.join(t, account)
		in.take()
		for _, m := range []signaling.Message{
			{Type: signaling.TypeChatBan, Nick: "x"},
			{Type: signaling.TypeChatDelete, MsgID: 1},
		} {
			c.Handle(t.Context(), m)
			if got := in.last(t); got.Code != signaling.CodeChatForbidden {
				t.Fatalf("%s sending %s: %+v", name, m.Type, got)
			}
		}
	}
	mod, in := f.join(t, f.owner)
	mod.Handle(t.Context(), send("host", "welcome all"))
	own := in.last(t)
	if !own.Moderator {
		t.Fatalf("the owner's message is not marked: %+v", own)
	}
	mod.Handle(t.Context(), signaling.Message{Type: signaling.TypeChatBan, MsgID: own.MsgID})
	if got := in.take(); len(got) != 1 || !strings.Contains(got[0].Text, "cannot ban yourself") {
		t.Fatalf("the owner banning themselves: %+v", got)
	}
}

func TestRooms(t *testing.T) {
	f := newFixture(t)
	if _, err := f.hub.Join(t.Context(), "nosuch", 0, "192.0.2.1", (&inbox{}).deliver); !errors.Is(err, ErrNoRoom) {
		t.Fatalf("join an unknown stream: %v", err)
	}
	// The demo stream has no row in the store: a memory-only room.
	in := &inbox{}
	c, err := f.hub.Join(t.Context(), "demo", 0, "192.0.2.1", in.deliver)
	if err != nil {
		t.Fatal(err)
	}
	c.Handle(t.Context(), send("ann", "hi demo"))
	c.Leave()
	in2 := &inbox{}
	c2, err := f.hub.Join(context.Background(), "demo", 0, "192.0.2.1", in2.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Leave()
	if got := in2.take(); len(got) != 2 || got[1].Text != "hi demo" || got[0].Moderator {
		t.Fatalf("memory room history: %+v", got)
	}
	c2.Handle(t.Context(), signaling.Message{Type: signaling.TypeChatDelete, MsgID: 1})
	if got := in2.last(t); got.Code != signaling.CodeChatForbidden {
		t.Fatalf("nobody moderates a memory room: %+v", got)
	}
}

func TestCount(t *testing.T) {
	f := newFixture(t)
	a, aIn := f.join(t, 0)
	f.hub.flushCounts()
	_, bIn := f.join(t, 0)
	if got := bIn.take(); got[0].Count != 2 {
		t.Fatalf("welcome count %d, want 2", got[0].Count)
	}
	aIn.take()
	f.hub.flushCounts()
	if got := aIn.last(t); got.Type != signaling.TypeChatCount || got.Count != 2 {
		t.Fatalf("got %+v, want chat-count 2", got)
	}
	f.hub.flushCounts()
	if got := aIn.take(); len(got) != 0 {
		t.Fatalf("an unchanged count was sent again: %+v", got)
	}
	a.Leave()
	f.hub.flushCounts()
	if got := bIn.last(t); got.Count != 1 {
		t.Fatalf("after a leave: %+v", got)
	}
	if n := f.hub.Count(f.stream); n != 1 {
		t.Fatalf("Count = %d", n)
	}
}

// TestBanHoldsAcrossReconnects: a ban by message covers the author's
// address, so a new connection with a new nickname from that address (or
// its IPv6 /64) is refused, after a restart too; lifting the ban lets it
// back in.
func TestBanHoldsAcrossReconnects(t *testing.T) {
	tests := []struct {
		name    string
		from    string // the banned author's address
		again   string // the new connection's address
		nick    string
		restart bool
		refused bool
	}{
		{"same address, new nickname", "203.0.113.7", "203.0.113.7", "newname", false, true},
		{"same address after a restart", "203.0.113.7", "203.0.113.7", "newname", true, true},
		{"IPv4-mapped form of the address", "203.0.113.7", "::ffff:203.0.113.7", "newname", false, true},
		{"same IPv6 /64", "2001:db8:1:2::10", "2001:db8:1:2:ffff::1", "newname", false, true},
		{"another IPv6 /64", "2001:db8:1:2::10", "2001:db8:1:3::10", "newname", false, false},
		{"another address, banned nickname", "203.0.113.7", "203.0.113.8", "Spammer", false, true},
		{"another address, new nickname", "203.0.113.7", "203.0.113.8", "newname", false, false},
		{"no address known: only the connection", "", "", "newname", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			mod, modIn := f.join(t, f.owner)
			a, aIn := f.joinFrom(t, 0, tt.from)
			a.Handle(t.Context(), send("spammer", "buy now"))
			id := aIn.last(t).MsgID
			mod.Handle(t.Context(), signaling.Message{Type: signaling.TypeChatBan, MsgID: id})
			modIn.take()
			a.Leave()
			if tt.restart {
				mod.Leave()
				f.db.Close()
				f.open(t)
			}
			b, bIn := f.joinFrom(t, 0, tt.again)
			bIn.take()
			b.Handle(t.Context(), send(tt.nick, "I'm back"))
			got := bIn.last(t)
			if refused := got.Code == signaling.CodeChatBanned; refused != tt.refused {
				t.Fatalf("got %+v, want refused %v", got, tt.refused)
			}
			if !tt.refused {
				return
			}
			bans, err := f.db.ListBans(t.Context(), f.streams.ID)
			if err != nil || len(bans) != 2 {
				t.Fatalf("bans %+v, %v; want the nickname's and the address's", bans, err)
			}
			for _, ban := range bans {
				if ban.Label != "spammer" || strings.Contains(ban.Value, tt.from) {
					t.Errorf("ban %+v: want the label spammer and no address in the clear", ban)
				}
				if _, err := f.db.LiftBan(t.Context(), f.streams.ID, ban.ID); err != nil {
					t.Fatal(err)
				}
			}
			f.clk.Advance(time.Minute) // a fresh token for the rate limit
			b.Handle(t.Context(), send(tt.nick, "thanks"))
			if got := bIn.last(t); got.Type != signaling.TypeChatMsg {
				t.Fatalf("after lifting the bans: %+v", got)
			}
		})
	}
}

func TestAddrFingerprint(t *testing.T) {
	salt := []byte("salt")
	fp := func(a string) string { return AddrFingerprint(salt, a) }
	same := [][2]string{
		{"192.0.2.1", "::ffff:192.0.2.1"},
		{"2001:db8::1", "2001:db8::2"},
		{"2001:db8::1", "[2001:db8:0:0:ffff::1]"},
		{"fe80::1%eth0", "fe80::2"},
	}
	for _, p := range same {
		if fp(p[0]) != fp(p[1]) {
			t.Errorf("%s and %s differ", p[0], p[1])
		}
	}
	differ := [][2]string{
		{"192.0.2.1", "192.0.2.2"},
		{"2001:db8::1", "2001:db8:0:1::1"},
		{"not an ip", "192.0.2.1"},
	}
	for _, p := range differ {
		if fp(p[0]) == fp(p[1]) {
			t.Errorf("%s and %s match", p[0], p[1])
		}
	}
	if AddrFingerprint([]byte("other salt"), "192.0.2.1") == fp("192.0.2.1") {
		t.Error("the salt changes nothing")
	}
	if got := fp("192.0.2.1"); !strings.HasPrefix(got, "addr:") || strings.Contains(got, "192") || len(got) > store.MaxFingerprintLen {
		t.Errorf("fingerprint %q", got)
	}
}

// TestPrune: every message prunes its stream by count, Prune by age.
func TestPrune(t *testing.T) {
	f := newFixture(t)
	f.hub = New(Config{Store: f.db, Now: f.clk.Now, Salt: f.salt, MaxMessages: 120, MaxAge: time.Hour,
		Rate: 1000, Burst: 1000, RoomRate: 1000, RoomBurst: 1000,
		Streams: streamsIn{f.db}})
	c, in := f.join(t, 0)
	for i := range 150 {
		c.Handle(t.Context(), send("ann", fmt.Sprint("m", i)))
	}
	in.take()
	raw, err := sql.Open("sqlite", f.path) // a second reader of the file
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	count := func() int {
		t.Helper()
		var n int
		if err := raw.QueryRowContext(t.Context(), `SELECT count(*) FROM chat_messages`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := count(); got != 120 {
		t.Fatalf("%d messages stored after 150 with MaxMessages 120", got)
	}
	f.clk.Advance(30 * time.Minute)
	c.Handle(t.Context(), send("ann", "late"))
	if got := f.hub.Prune(t.Context()); got != 0 {
		t.Fatalf("pruned %d messages younger than MaxAge", got)
	}
	f.clk.Advance(31 * time.Minute)
	if got := f.hub.Prune(t.Context()); got != 119 {
		t.Fatalf("pruned %d, want the 119 older than an hour (the late one pushed one out)", got)
	}
	if got := count(); got != 1 {
		t.Fatalf("%d left, want the late one", got)
	}

	// A memory-only room is pruned by age too.
	d, dIn := f.joinStream(t, "demo")
	d.Handle(t.Context(), send("ann", "old"))
	f.clk.Advance(2 * time.Hour)
	f.hub.Prune(t.Context())
	d.Leave()
	dIn.take()
	_, dIn = f.joinStream(t, "demo")
	if got := dIn.take(); len(got) != 1 {
		t.Fatalf("a memory room kept %d old messages", len(got)-1)
	}
}

func (f *fixture) joinStream(t *testing.T, stream string) (*Client, *inbox) {
	t.Helper()
	in := &inbox{}
	c, err := f.hub.Join(t.Context(), stream, 0, "192.0.2.9", in.deliver)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Leave)
	return c, in
}
