//go:build js && wasm

package signaling

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/jsbridge"
)

// These tests run under Node.js, started by TestBrowserConn
// (conn_browser_test.go) with the URL of its WebSocket server.

func wsURL(t *testing.T, path string) string {
	t.Helper()
	base := os.Getenv("SHOAL_TEST_WS")
	if base == "" {
		t.Skip("SHOAL_TEST_WS unset: run by TestBrowserConn")
	}
	return base + path
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dialT(t *testing.T, ctx context.Context, path string) Conn {
	t.Helper()
	c, err := DialWebSocket(ctx, wsURL(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestJSEcho(t *testing.T) {
	ctx := testCtx(t)
	c := dialT(t, ctx, "/echo")
	defer c.Close("done")
	for _, m := range []Message{
		{Type: TypeJoin, Stream: "demo"},
		{Type: TypeChatSend, Nick: "ann", Text: "héllo, wörld ✓"},
		{Type: TypeOffer, Peer: "p1", SDP: strings.Repeat("v=0\r\n", 2000)},
	} {
		if err := c.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
		got, err := c.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m.V = Version
		if got.Type != m.Type || got.Text != m.Text || got.SDP != m.SDP || got.Stream != m.Stream {
			t.Errorf("echo of %s came back as %+v", m.Type, got)
		}
	}
}

func TestJSRecvCancelKeepsConn(t *testing.T) {
	ctx := testCtx(t)
	c := dialT(t, ctx, "/echo")
	defer c.Close("done")
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := c.Recv(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv past its deadline: %v", err)
	}
	if err := c.Send(ctx, Message{Type: TypeJoin, Stream: "demo"}); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Recv(ctx); err != nil || m.Stream != "demo" {
		t.Fatalf("after a cancelled Recv: %+v, %v", m, err)
	}
}

func TestJSBig(t *testing.T) {
	ctx := testCtx(t)
	c := dialT(t, ctx, "/big")
	defer c.Close("done")
	if _, err := c.Recv(ctx); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("message over MaxMessageSize: %v, want ErrTooLarge", err)
	}
	if m, err := c.Recv(ctx); err != nil || m.Code != CodeRateLimited {
		t.Fatalf("the message after it: %+v, %v", m, err)
	}
	_, err := c.Recv(ctx)
	if err == nil || errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "read limit") {
		t.Fatalf("message over the read limit: %v, want the connection ended", err)
	}
	if _, err := c.Recv(ctx); err == nil {
		t.Fatal("Recv after the end: no error")
	}
	if err := c.Send(ctx, Message{Type: TypeJoin, Stream: "demo"}); err == nil {
		t.Fatal("Send after the end: no error")
	}
}

func TestJSBadMessagesAndServerClose(t *testing.T) {
	ctx := testCtx(t)
	c := dialT(t, ctx, "/bad")
	defer c.Close("done")
	if _, err := c.Recv(ctx); !errors.Is(err, ErrInvalid) {
		t.Fatalf("not JSON: %v, want ErrInvalid", err)
	}
	if m, err := c.Recv(ctx); err != nil || m.Code != CodeRateLimited {
		t.Fatalf("binary frame: %+v, %v", m, err)
	}
	_, err := c.Recv(ctx)
	if !errors.Is(err, ErrClosed) || !strings.Contains(err.Error(), "1001") || !strings.Contains(err.Error(), "bye") {
		t.Fatalf("server close: %v, want ErrClosed with code 1001 and its reason", err)
	}
}

func TestJSFlood(t *testing.T) {
	ctx := testCtx(t)
	c := dialT(t, ctx, "/flood")
	defer c.Close("done")
	select { // the overflow ends the connection
	case <-c.(*browserConn).gone:
	case <-ctx.Done():
		t.Fatal("the connection did not end with messages unread")
	}
	n := 0
	for {
		_, err := c.Recv(ctx)
		if err != nil {
			if n != recvQueue || !strings.Contains(err.Error(), "messages waiting") {
				t.Fatalf("after %d messages: %v; want %d and the queue's error", n, err, recvQueue)
			}
			return
		}
		n++
	}
}

func TestJSClose(t *testing.T) {
	ctx := testCtx(t)
	c := dialT(t, ctx, "/echo")
	if err := c.Close(strings.Repeat("é", 100)); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, Message{Type: TypeJoin, Stream: "demo"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	if _, err := c.Recv(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Recv after Close: %v", err)
	}
	if err := c.Close("again"); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	// The closing handshake is over (the server has read the reason) when
	// the socket is CLOSED, which its close event says. Close released the
	// conn's handlers; no event can fire between the look at readyState
	// and setting ours, as JavaScript runs only while Go waits.
	if ws := c.(*browserConn).ws; jsbridge.Int(ws, "readyState", -1) != 3 {
		closed := make(chan struct{})
		off := jsbridge.On(ws, "onclose", func(jsbridge.Value) { close(closed) })
		defer off()
		select {
		case <-closed:
		case <-ctx.Done():
			t.Fatal("the closing handshake did not end")
		}
	}
}

func TestJSDialErrors(t *testing.T) {
	ctx := testCtx(t)
	wsURL(t, "") // skip outside TestBrowserConn
	for _, url := range []string{wsURL(t, "/no-websocket-here"), "ws://127.0.0.1:1/nobody", "not a url", "http://[::1"} {
		start := time.Now()
		c, err := DialWebSocket(ctx, url)
		if err == nil {
			c.Close("")
			t.Errorf("DialWebSocket(%q): no error", url)
		}
		t.Logf("DialWebSocket(%q): %v after %v", url, err, time.Since(start).Round(time.Millisecond))
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := DialWebSocket(done, wsURL(t, "/echo")); !errors.Is(err, context.Canceled) {
		t.Errorf("dial with a cancelled ctx: %v", err)
	}
}
