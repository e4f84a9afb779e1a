//go:build !js

package signaling

import (
	"context"
	"fmt"

	"github.com/coder/websocket"
)

type wsConn struct{ c *websocket.Conn }

// WebSocket wraps an established WebSocket. Its read limit is set a little
// above MaxMessageSize so that an oversized message is read, reported and
// skipped rather than tearing the connection down.
func WebSocket(c *websocket.Conn) Conn {
	c.SetReadLimit(readLimit)
	return &wsConn{c: c}
}

// DialWebSocket connects to a signaling server at url (ws:// or wss://).
func DialWebSocket(ctx context.Context, url string) (Conn, error) {
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("signaling: dial %s: %w", url, err)
	}
	return WebSocket(c), nil
}

func (w *wsConn) Send(ctx context.Context, m Message) error {
	b, err := Encode(m)
	if err != nil {
		return err
	}
	if err := w.c.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("signaling: send %s: %w", m.Type, err)
	}
	return nil
}

func (w *wsConn) Recv(ctx context.Context) (Message, error) {
	_, b, err := w.c.Read(ctx)
	if err != nil {
		return Message{}, fmt.Errorf("signaling: recv: %w", err)
	}
	return Decode(b)
}

func (w *wsConn) Close(reason string) error {
	return w.c.Close(websocket.StatusNormalClosure, closeReason(reason))
}
