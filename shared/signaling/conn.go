package signaling

import (
	"context"
	"errors"
	"strings"
	"sync"
	"unicode/utf8"
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

// DialWebSocket and the WebSocket Conn it returns have two builds:
// conn_native.go over github.com/coder/websocket, conn_js.go over the
// browser's own WebSocket (which keeps net/http out of the wasm binary).
// Both read messages of up to readLimit bytes, so that one a little over
// MaxMessageSize is read and reported by Decode (ErrTooLarge) rather than
// tearing the connection down; a longer one ends the connection.
const readLimit = 2 * MaxMessageSize

// maxCloseReason is how many bytes of reason Close sends: a close frame
// carries at most 123.
const maxCloseReason = 120

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

// closeReason cuts reason to at most maxCloseReason bytes of valid UTF-8,
// on a character boundary.
func closeReason(reason string) string {
	reason = strings.ToValidUTF8(reason, "?")
	if len(reason) <= maxCloseReason {
		return reason
	}
	i := maxCloseReason
	for i > 0 && !utf8.RuneStart(reason[i]) {
		i--
	}
	return reason[:i]
}
