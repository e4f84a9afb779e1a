//go:build !js

package signaling

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shoal-live/shoal/shared/jsbridge/nodetest"
)

// TestBrowserConn runs conn_js_test.go (the browser WebSocket Conn) under
// Node.js against this WebSocket server. Each path is one behaviour the
// tests there check.
func TestBrowserConn(t *testing.T) {
	closes := make(chan websocket.CloseError, 64) // how clients closed /echo
	valid, _ := Encode(Message{Type: TypeError, Code: CodeRateLimited, Text: "slow down"})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/no-websocket-here" {
			http.NotFound(w, r)
			return
		}
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true}) // Node sends no Origin
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		ctx := r.Context()
		switch r.URL.Path {
		case "/echo": // every message back, as it came
			for {
				typ, b, err := c.Read(ctx)
				if err != nil {
					var ce websocket.CloseError
					if errors.As(err, &ce) {
						closes <- ce
					}
					return
				}
				if c.Write(ctx, typ, b) != nil {
					return
				}
			}
		case "/big": // over MaxMessageSize, valid, then over readLimit
			c.Write(ctx, websocket.MessageText, []byte(`{"v":1,"type":"error","code":"x","text":"`+strings.Repeat("a", MaxMessageSize)+`"}`))
			c.Write(ctx, websocket.MessageText, valid)
			c.Write(ctx, websocket.MessageBinary, make([]byte, readLimit+1))
			c.Read(ctx)
		case "/bad": // not JSON, then a valid message in a binary frame, then goodbye
			c.Write(ctx, websocket.MessageText, []byte("not json"))
			c.Write(ctx, websocket.MessageBinary, valid)
			c.Close(websocket.StatusGoingAway, "bye")
		case "/flood": // more messages than the browser conn queues
			for i := 0; i < 600; i++ { // conn_js.go's recvQueue is 512
				if c.Write(ctx, websocket.MessageText, valid) != nil {
					return
				}
			}
			c.Read(ctx)
		}
	}))
	defer srv.Close()
	nodetest.Run(t, "^TestJS", "SHOAL_TEST_WS=ws"+strings.TrimPrefix(srv.URL, "http"))

	// TestJSClose closed with a 200-byte reason of two-byte characters: the
	// server got code 1000 and the first 60 characters.
	want := websocket.CloseError{Code: websocket.StatusNormalClosure, Reason: strings.Repeat("é", 60)}
	timeout := time.After(5 * time.Second) // the handler may still be on its way to the channel
	for {
		select {
		case ce := <-closes:
			if ce == want {
				return
			}
		case <-timeout:
			t.Fatalf("no close with code 1000 and a 120-byte reason reached the server")
		}
	}
}

// TestCloseReason checks the cut Close makes to a long reason, on both
// builds.
func TestCloseReason(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"leaving", "leaving"},
		{strings.Repeat("a", 120), strings.Repeat("a", 120)},
		{strings.Repeat("a", 121), strings.Repeat("a", 120)},
		{strings.Repeat("é", 61), strings.Repeat("é", 60)},
		{"a" + strings.Repeat("é", 60), "a" + strings.Repeat("é", 59)}, // not in the middle of a character
		{strings.Repeat("a", 119) + "€", strings.Repeat("a", 119)},
		{"bad \xff byte", "bad ? byte"},
	}
	for _, tt := range tests {
		if got := closeReason(tt.in); got != tt.want {
			t.Errorf("closeReason(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
