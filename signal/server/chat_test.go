package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coder/websocket"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/auth"
	"github.com/shoal-live/shoal/signal/server"
	"github.com/shoal-live/shoal/signal/store"
)

// TestChatOverSignaling: chat connections on /api/signal; the stream
// owner's session cookie makes a moderator, nothing else does.
func TestChatOverSignaling(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, store.Config{Path: store.Memory})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	owner, err := db.CreateAccount(ctx, "host", "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateStream(ctx, store.NewStream{Name: "show", OwnerID: owner.ID}); err != nil {
		t.Fatal(err)
	}
	token, _, err := db.CreateSession(ctx, owner.ID, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: db, RTMPAddr: ""}, fstest.MapFS{"index.html": {Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	base := serve(t, ctx, srv)
	url := "ws" + strings.TrimPrefix(base, "http") + "/api/signal"

	dial := func(cookie string) *websocket.Conn {
		t.Helper()
		opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
		if cookie != "" {
			opts.HTTPHeader.Set("Cookie", auth.CookieName+"="+cookie)
		}
		c, _, err := websocket.Dial(ctx, url, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		return c
	}
	send := func(c *websocket.Conn, m signaling.Message) {
		t.Helper()
		b, _ := signaling.Encode(m)
		if err := c.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	join := func(cookie string, wantMod bool) *websocket.Conn {
		t.Helper()
		c := dial(cookie)
		send(c, signaling.Message{Type: signaling.TypeChatJoin, Stream: "show"})
		w, err := readUntil(t, ctx, c, signaling.TypeChatWelcome)
		if err != nil || w.Moderator != wantMod {
			t.Fatalf("welcome %+v, %v; want moderator %v", w, err, wantMod)
		}
		return c
	}

	viewer := join("", false)
	join("forged-or-stale-cookie-value", false)
	mod := join(token, true)

	send(viewer, signaling.Message{Type: signaling.TypeChatSend, Nick: "ann", Text: "<b>hi</b>"})
	msg, err := readUntil(t, ctx, mod, signaling.TypeChatMsg)
	if err != nil || msg.Text != "<b>hi</b>" || msg.Nick != "ann" {
		t.Fatalf("moderator got %+v, %v", msg, err)
	}
	send(viewer, signaling.Message{Type: signaling.TypeChatDelete, MsgID: msg.MsgID})
	if e, err := readUntil(t, ctx, viewer, signaling.TypeError); err != nil || e.Code != signaling.CodeChatForbidden {
		t.Fatalf("a viewer deleting: %+v, %v", e, err)
	}
	send(mod, signaling.Message{Type: signaling.TypeChatDelete, MsgID: msg.MsgID})
	if d, err := readUntil(t, ctx, viewer, signaling.TypeChatDelete); err != nil || d.MsgID != msg.MsgID {
		t.Fatalf("viewer got %+v, %v", d, err)
	}

	// A chat connection is no swarm peer, and a stream without chat says so.
	send(viewer, signaling.Message{Type: signaling.TypeOffer, Peer: "p1", SDP: "v=0"})
	if e, err := readUntil(t, ctx, viewer, signaling.TypeError); err != nil || e.Code != signaling.CodeBadMessage {
		t.Fatalf("an offer on a chat connection: %+v, %v", e, err)
	}
	c := dial("")
	send(c, signaling.Message{Type: signaling.TypeChatJoin, Stream: "nosuch"})
	if e, err := readUntil(t, ctx, c, signaling.TypeError); err != nil || e.Code != signaling.CodeChatUnavailable {
		t.Fatalf("chat of an unknown stream: %+v, %v", e, err)
	}
}
