package rendezvous

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/shoal-live/shoal/shared/signaling"
)

// peerConn is the server's end of a peer's signaling WebSocket. It sends
// and closes as signaling.WebSocket does, but reads so that padding costs
// the server next to nothing (issue #12, the soak under attack):
//
//   - a message is read into a pooled buffer of
//     signaling.MaxPeerMessageSize; the rest of a longer one is read into
//     the same buffer and dropped, and Recv reports it as too large
//     (signaling.ErrTooLarge) without decoding it. A frame over
//     signaling.MaxMessageSize closes the connection (1009);
//   - every byte read is paid for from its address's budget
//     (Config.BytesPerSecond, ByteBurst), shared by all the
//     address's connections: past it Recv waits before it reads on, and
//     TCP holds the sender back.
type peerConn struct {
	signaling.Conn // Send and Close
	c              *websocket.Conn
	budget         *rate.Limiter
}

// peerBufs holds read buffers of MaxPeerMessageSize+1 bytes: one more
// than a message may have, so that a longer one shows.
var peerBufs = sync.Pool{New: func() any {
	b := make([]byte, signaling.MaxPeerMessageSize+1)
	return &b
}}

func newPeerConn(c *websocket.Conn, budget *rate.Limiter) *peerConn {
	conn := signaling.WebSocket(c)
	c.SetReadLimit(signaling.MaxMessageSize)
	return &peerConn{Conn: conn, c: c, budget: budget}
}

func (p *peerConn) Recv(ctx context.Context) (signaling.Message, error) {
	_, r, err := p.c.Reader(ctx)
	if err != nil {
		return signaling.Message{}, fmt.Errorf("signaling: recv: %w", err)
	}
	bp := peerBufs.Get().(*[]byte)
	defer peerBufs.Put(bp)
	buf := *bp
	n, err := io.ReadFull(r, buf)
	total := n
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF): // all of it fits
		err = nil
	case err == nil: // longer than a peer's message: read the rest into buf and drop it
		for err == nil {
			var k int
			k, err = r.Read(buf)
			total += k
		}
		if errors.Is(err, io.EOF) {
			err = nil
		}
	}
	if err != nil {
		return signaling.Message{}, fmt.Errorf("signaling: recv: %w", err)
	}
	if p.budget != nil {
		if err := p.budget.WaitN(ctx, min(total, p.budget.Burst())); err != nil {
			return signaling.Message{}, fmt.Errorf("signaling: recv: byte budget: %w", err)
		}
	}
	if total > signaling.MaxPeerMessageSize {
		return signaling.Message{}, fmt.Errorf("%w: %d bytes, limit %d for a message to the server",
			signaling.ErrTooLarge, total, signaling.MaxPeerMessageSize)
	}
	return signaling.Decode(buf[:n])
}

// addrState is what the server keeps per client address: its
// connections and their shared byte budget.
type addrState struct {
	conns int
	bytes *rate.Limiter
}

// acquire counts a connection from ip, unless ip has MaxConnsPerAddr
// already, and returns the byte budget its connections share.
func (s *Server) acquire(ip string) (*rate.Limiter, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.sweepAddrs(now)
	a := s.perAddr[ip]
	if a == nil {
		a = &addrState{bytes: rate.NewLimiter(rate.Limit(s.cfg.BytesPerSecond), s.cfg.ByteBurst)}
		s.perAddr[ip] = a
	}
	if a.conns >= s.cfg.MaxConnsPerAddr {
		return nil, false
	}
	a.conns++
	return a.bytes, true
}

// release counts a connection from ip gone. The address's budget stays
// until sweepAddrs finds it full: closing connections does not refill it.
func (s *Server) release(ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.perAddr[ip]; a != nil {
		a.conns--
	}
}

// sweepAddrs forgets addresses without connections whose budget is full
// again (they would start afresh anyway). s.mu is held.
func (s *Server) sweepAddrs(now time.Time) {
	if now.Sub(s.addrsSwept) < 10*time.Second {
		return
	}
	s.addrsSwept = now
	for ip, a := range s.perAddr {
		if a.conns <= 0 && a.bytes.TokensAt(now) >= float64(a.bytes.Burst()) {
			delete(s.perAddr, ip)
		}
	}
}
