package chat

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/store"
)

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
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := &clock{t: time.Now().Truncate(time.Millisecond)}
	f := &fixture{clk: clk, path: filepath.Join(t.TempDir(), store.FileName), stream: "show"}
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
	f.hub = New(Config{Store: db, Now: f.clk.Now, Known: func(s string) bool { return s == "demo" }})
}

func (f *fixture) join(t *testing.T, account int64) (*Client, *inbox) {
	t.Helper()
	in := &inbox{}
	c, err := f.hub.Join(t.Context(), f.stream, account, in.deliver)
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
	if _, err := f.hub.Join(t.Context(), "nosuch", 0, (&inbox{}).deliver); !errors.Is(err, ErrNoRoom) {
		t.Fatalf("join an unknown stream: %v", err)
	}
	// The demo stream has no row in the store: a memory-only room.
	in := &inbox{}
	c, err := f.hub.Join(t.Context(), "demo", 0, in.deliver)
	if err != nil {
		t.Fatal(err)
	}
	c.Handle(t.Context(), send("ann", "hi demo"))
	c.Leave()
	in2 := &inbox{}
	c2, err := f.hub.Join(context.Background(), "demo", 0, in2.deliver)
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
