//go:build js && wasm

package signaling

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/shoal-live/shoal/shared/jsbridge"
)

// Bounds of the browser WebSocket, which, unlike a TCP socket, cannot hold
// back the sender: what arrives waits in a queue until Recv takes it.
const (
	// recvQueue is how many received messages may wait for Recv; one more
	// ends the connection. The server sends far fewer: a burst of
	// neighbours and candidates at join, a few a second after.
	recvQueue = 512
	// sendBuffered is how many bytes may wait in the browser's send buffer
	// (bufferedAmount) before Send waits for it to drain.
	sendBuffered = 1 << 20
	// sendPoll is how often a waiting Send looks at bufferedAmount again.
	sendPoll = 20 * time.Millisecond
	// closeNormal is the close code Close sends. A page may send only 1000
	// and 3000-4999, so it is also the code when the peer gives up on the
	// server (an oversized message, a full queue), with the reason saying
	// why.
	closeNormal = 1000
)

// DialWebSocket connects to a signaling server at url (ws:// or wss://)
// with the browser's WebSocket. ctx bounds the opening handshake only.
//
// As in the native build, Recv reads messages of up to readLimit bytes (one
// over MaxMessageSize is returned as an error wrapping ErrTooLarge, and the
// connection stays usable), and a longer message ends the connection. A
// Recv or Send given up because its ctx ended leaves the connection open:
// messages arrive whole, so none is ever half read.
func DialWebSocket(ctx context.Context, url string) (Conn, error) {
	c, err := dial(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("signaling: dial %s: %w", url, err)
	}
	return c, nil
}

// browserConn is a Conn over the browser's WebSocket. Its event handlers
// run on JavaScript's thread and never block: they copy a message into the
// in queue, or record why the connection ended and close gone.
type browserConn struct {
	ws     jsbridge.Value
	opened chan struct{} // closed by the open event
	in     chan []byte   // received messages, in order
	gone   chan struct{} // closed once the connection is over
	sendMu sync.Mutex    // one Send at a time

	mu      sync.Mutex
	offs    []func() // detach and release the event handlers; nil once done
	endErr  error    // why the connection is over; set when gone is closed
	closing bool     // Close was called
}

func dial(ctx context.Context, url string) (*browserConn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &browserConn{
		opened: make(chan struct{}),
		in:     make(chan []byte, recvQueue),
		gone:   make(chan struct{}),
	}
	err := jsbridge.Try(func() {
		c.ws = jsbridge.Global().Get("WebSocket").New(url) // throws on a malformed URL or a blocked port
		c.ws.Set("binaryType", "arraybuffer")
		c.offs = []func(){
			jsbridge.On(c.ws, "onopen", func(jsbridge.Value) { close(c.opened) }),
			jsbridge.On(c.ws, "onmessage", c.onMessage),
			jsbridge.On(c.ws, "onclose", c.onClose),
			jsbridge.On(c.ws, "onerror", c.onError),
		}
	})
	if err != nil {
		c.release()
		return nil, err
	}
	select {
	case <-c.opened:
		return c, nil
	case <-c.gone:
		return nil, c.endErr
	case <-ctx.Done():
		c.shutdown(ctx.Err(), "dial cancelled")
		return nil, ctx.Err()
	}
}

func (c *browserConn) onMessage(ev jsbridge.Value) {
	var b []byte
	var size int
	if err := jsbridge.Try(func() { b, size = messageBytes(ev.Get("data")) }); err != nil {
		c.shutdown(fmt.Errorf("signaling: recv: %w", err), "unreadable message")
		return
	}
	if size > readLimit {
		c.shutdown(fmt.Errorf("signaling: recv: message of %d bytes or more, read limit %d", size, readLimit), "message too big")
		return
	}
	select {
	case c.in <- b:
	default:
		c.shutdown(fmt.Errorf("signaling: recv: more than %d messages waiting", recvQueue), "too many messages")
	}
}

func (c *browserConn) onClose(ev jsbridge.Value) {
	detail := fmt.Sprintf("code %d", jsbridge.Int(ev, "code", 0))
	if r := jsbridge.String(ev, "reason", ""); r != "" {
		detail += fmt.Sprintf(" %q", r)
	}
	if c.isOpen() {
		c.end(fmt.Errorf("%w by the server (%s)", ErrClosed, detail))
	} else {
		c.end(fmt.Errorf("could not connect (%s)", detail))
	}
	c.release()
}

// onError ends the connection: an error event means the connection failed.
// Browsers follow it with a close event (code 1006), which would say no
// more; Node's WebSocket, after a refused handshake, with none at all.
func (c *browserConn) onError(jsbridge.Value) {
	if c.isOpen() {
		c.shutdown(fmt.Errorf("%w: the connection failed", ErrClosed), "error")
	} else {
		c.shutdown(errors.New("could not connect"), "error")
	}
}

func (c *browserConn) isOpen() bool {
	select {
	case <-c.opened:
		return true
	default:
		return false
	}
}

func (c *browserConn) Send(ctx context.Context, m Message) error {
	b, err := Encode(m)
	if err != nil {
		return err
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if err := c.waitBuffered(ctx); err != nil {
		return fmt.Errorf("signaling: send %s: %w", m.Type, err)
	}
	if err := jsbridge.Try(func() { c.ws.Call("send", string(b)) }); err != nil {
		return fmt.Errorf("signaling: send %s: %w", m.Type, err)
	}
	return nil
}

// waitBuffered returns nil once the browser's send buffer has room for
// another message, or why there will be none.
func (c *browserConn) waitBuffered(ctx context.Context) error {
	var tick *time.Ticker
	for {
		if err := c.err(); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if jsbridge.Int(c.ws, "bufferedAmount", 0) <= sendBuffered {
			return nil
		}
		if tick == nil {
			tick = time.NewTicker(sendPoll)
			defer tick.Stop()
		}
		select {
		case <-tick.C:
		case <-c.gone:
		case <-ctx.Done():
		}
	}
}

func (c *browserConn) Recv(ctx context.Context) (Message, error) {
	if c.isClosing() {
		return Message{}, fmt.Errorf("signaling: recv: %w", ErrClosed)
	}
	select {
	case b := <-c.in:
		return Decode(b)
	case <-c.gone:
		select { // what arrived before the end is still read
		case b := <-c.in:
			return Decode(b)
		default:
			return Message{}, fmt.Errorf("signaling: recv: %w", c.err())
		}
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

func (c *browserConn) Close(reason string) error {
	c.mu.Lock()
	already := c.closing
	c.closing = true
	c.mu.Unlock()
	if already {
		return ErrClosed
	}
	c.shutdown(ErrClosed, reason)
	return nil
}

// shutdown ends the connection with err and starts the closing handshake
// with reason. The handlers go first: close may fire events at once (Node's
// WebSocket fires error again when closed while connecting), and none is
// wanted any more.
func (c *browserConn) shutdown(err error, reason string) {
	c.end(err)
	c.release()
	jsbridge.Try(func() { c.ws.Call("close", closeNormal, closeReason(reason)) })
}

// end records why the connection is over; the first reason stands.
func (c *browserConn) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endErr != nil {
		return
	}
	c.endErr = err
	close(c.gone)
}

// err is why the connection cannot be used, or nil while it can.
func (c *browserConn) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return ErrClosed
	}
	return c.endErr
}

func (c *browserConn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// release detaches and releases the event handlers, once.
func (c *browserConn) release() {
	c.mu.Lock()
	offs := c.offs
	c.offs = nil
	c.mu.Unlock()
	for _, off := range offs {
		jsbridge.Try(off)
	}
}

// messageBytes copies a message event's data into Go: a string for a text
// message, an ArrayBuffer for a binary one (binaryType is "arraybuffer").
// size is the message's length in bytes, or a lower bound when it is over
// readLimit and so not copied. Anything else yields no bytes, which Decode
// rejects.
func messageBytes(data jsbridge.Value) (b []byte, size int) {
	if jsbridge.IsString(data) {
		// Every UTF-16 code unit takes at least one byte of UTF-8, so a
		// string of more than readLimit units is too long whatever it holds.
		if n := jsbridge.Int(jsbridge.Global().Call("Object", data), "length", 0); n > readLimit {
			return nil, n
		}
		s := data.String()
		return []byte(s), len(s)
	}
	if n := jsbridge.Int(data, "byteLength", 0); n > readLimit {
		return nil, n
	}
	b = jsbridge.GoBytes(data)
	return b, len(b)
}
