package signaling

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/coder/websocket"
)

// Conn carries signaling messages. Send and Recv may be called from
// different goroutines, but each from one at a time.
type Conn interface {
	Send(ctx context.Context, m Message) error
	// Recv returns the next valid message. A message that fails Decode is
	// returned as an error wrapping ErrInvalid, ErrTooLarge or
	// ErrBadVersion; the connection stays usable after it.
	Recv(ctx context.Context) (Message, error)
	// Close ends the connection, telling the other side why.
	Close(reason string) error
}

// ErrClosed is returned by a Conn used after Close.
var ErrClosed = errors.New("signaling: connection closed")

type wsConn struct{ c *websocket.Conn }

// WebSocket wraps an established WebSocket. Its read limit is set a little
// above MaxMessageSize so that an oversized message is read, reported and
// skipped rather than tearing the connection down.
func WebSocket(c *websocket.Conn) Conn {
	c.SetReadLimit(2 * MaxMessageSize)
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
	if len(reason) > 120 { // a close frame carries at most 123 bytes of reason
		reason = reason[:120]
	}
	return w.c.Close(websocket.StatusNormalClosure, reason)
}

// Pipe returns the two ends of an in-memory Conn. Each direction buffers up
// to 256 messages; Send blocks beyond that until ctx ends.
func Pipe() (Conn, Conn) {
	ab, ba := make(chan Message, 256), make(chan Message, 256)
	done := make(chan struct{})
	once := new(sync.Once)
	return &pipeEnd{in: ba, out: ab, done: done, once: once},
		&pipeEnd{in: ab, out: ba, done: done, once: once}
}

type pipeEnd struct {
	in, out chan Message
	done    chan struct{}
	once    *sync.Once
}

func (p *pipeEnd) Send(ctx context.Context, m Message) error {
	m.V = Version
	if err := m.Validate(); err != nil {
		return err
	}
	select {
	case p.out <- m:
		return nil
	case <-p.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pipeEnd) Recv(ctx context.Context) (Message, error) {
	select {
	case m := <-p.in:
		return m, nil
	case <-p.done:
		return Message{}, ErrClosed
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

func (p *pipeEnd) Close(string) error {
	p.once.Do(func() { close(p.done) })
	return nil
}
