package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5/middleware"
	"golang.org/x/time/rate"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/jsonhttp"
	"github.com/shoal-live/shoal/signal/tracker"
)

const (
	joinTimeout    = 10 * time.Second
	sendQueue      = 256 // messages queued to one peer before it counts as too slow
	maxBadMessages = 10  // malformed messages tolerated before the connection is closed
)

// DefaultSendQueueBytes bounds what waits for one signaling connection
// (Config.SendQueueBytes): 64 offers of the largest SDP. A peer's normal
// traffic is a few KiB at a time; one that lets more pile up (it stopped
// reading, or a neighbour floods it) is disconnected.
const DefaultSendQueueBytes = 1 << 20

// What one address's signaling connections may send the server together
// (Config.SignalBytesPerSecond, SignalByteBurst): a peer sends about 10
// KiB per neighbour it is given (an offer or answer of 0.5-4 KiB and a
// few dozen candidates), 100 KiB or so when it joins, so the burst is
// ten viewers joining at once from one address, and the rate a join
// every half second. Padded messages from 32 connections were 100 MB a
// second to read and decode.
const (
	DefaultSignalBytesPerSecond = 256 << 10
	DefaultSignalByteBurst      = 1 << 20
)

// originSendQueueBytes bounds the origin's own queue: its 16 links'
// relays (tracker.MaxRelayBytes each) many times over.
const originSendQueueBytes = 16 << 20

// handleSignal upgrades to a WebSocket and serves one peer.
func (s *Server) handleSignal(w http.ResponseWriter, r *http.Request) {
	ip := middleware.GetClientIP(r.Context())
	budget, ok := s.acquireIP(ip)
	if !ok {
		s.log.Warn("signaling refused: too many connections", "ip", ip)
		jsonhttp.Error(w, http.StatusTooManyRequests, "too many connections from your address")
		return
	}
	defer s.releaseIP(ip)
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.AllowedOrigins})
	if err != nil {
		s.log.Info("signaling upgrade failed", "ip", ip, "err", err)
		return // Accept has written the response
	}
	s.serveSignal(s.withChatAccount(r), newPeerConn(c, budget), ip, false)
}

// acquireIP counts a signaling connection from ip, unless ip has
// MaxConnsPerIP already, and returns the byte budget its connections
// share (peerconn.go).
func (s *Server) acquireIP(ip string) (*rate.Limiter, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.sweepAddrs(now)
	a := s.perIP[ip]
	if a == nil {
		a = &addrState{bytes: rate.NewLimiter(rate.Limit(s.cfg.SignalBytesPerSecond), s.cfg.SignalByteBurst)}
		s.perIP[ip] = a
	}
	if a.conns >= s.cfg.MaxConnsPerIP {
		return nil, false
	}
	a.conns++
	return a.bytes, true
}

// releaseIP counts a connection from ip gone. The address's budget stays
// until sweepAddrs finds it full: closing connections does not refill it.
func (s *Server) releaseIP(ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.perIP[ip]; a != nil {
		a.conns--
	}
}

// session queues messages for one peer; the tracker delivers through it.
// The queue is bounded in messages (sendQueue) and in bytes (maxBytes, by
// messageBytes): a peer that falls that far behind is disconnected.
type session struct {
	out      chan signaling.Message
	queued   atomic.Int64 // bytes in out and being written
	maxBytes int64
	slow     chan struct{}
	slowOnce sync.Once
}

func newSession(maxBytes int) *session {
	return &session{out: make(chan signaling.Message, sendQueue), slow: make(chan struct{}), maxBytes: int64(maxBytes)}
}

func (s *session) Deliver(m signaling.Message) bool {
	n := int64(messageBytes(m))
	if s.queued.Add(n) > s.maxBytes {
		s.queued.Add(-n)
		s.slowOnce.Do(func() { close(s.slow) })
		return false
	}
	select {
	case s.out <- m:
		return true
	default:
		s.queued.Add(-n)
		s.slowOnce.Do(func() { close(s.slow) })
		return false
	}
}

// sent releases m's bytes once the writer is done with it.
func (s *session) sent(m signaling.Message) { s.queued.Add(-int64(messageBytes(m))) }

// messageBytes is about what m holds in memory: its strings and a
// fixed allowance for the struct.
func messageBytes(m signaling.Message) int {
	n := 256 + len(m.Stream) + len(m.ID) + len(m.Peer) + len(m.SDP) + len(m.StreamKey) +
		len(m.Code) + len(m.Text) + len(m.Nick)
	if c := m.Candidate; c != nil {
		n += 64 + len(c.Candidate)
		if c.SDPMid != nil {
			n += len(*c.SDPMid)
		}
	}
	for _, s := range m.ICEServers {
		n += 64 + len(s.Username) + len(s.Credential)
		for _, u := range s.URLs {
			n += 16 + len(u)
		}
	}
	return n
}

// serveSignal runs one peer's signaling until it leaves or misbehaves.
// Every way out closes conn with a reason and removes the peer from its
// swarm; nothing a peer sends can take the server down.
func (s *Server) serveSignal(ctx context.Context, conn signaling.Conn, who string, isOrigin bool) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := s.log.With("remote", who)
	reason := "bye"
	defer func() { conn.Close(reason) }()

	queue := s.cfg.SendQueueBytes
	if isOrigin {
		// The origin reads its pipe at once; were its queue ever
		// full, closing it would end the stream. Its links' relays are
		// bounded (tracker.MaxRelayBytes each) well below this.
		queue = max(queue, originSendQueueBytes)
	}
	sess := newSession(queue)
	final := make(chan signaling.Message, 1)
	written := make(chan struct{})
	go func() { // the writer: the only goroutine that sends on conn
		defer close(written)
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-final:
				conn.Send(ctx, m)
				return
			case <-sess.slow:
				log.Warn("signaling peer too slow, disconnecting")
				cancel()
				return
			case m := <-sess.out:
				err := conn.Send(ctx, m)
				sess.sent(m)
				if err != nil {
					cancel()
					return
				}
			}
		}
	}()
	// fail hands a last error to the writer, the only sender, and waits
	// for it to go out before the deferred Close.
	fail := func(code, text string) {
		reason = text
		final <- signaling.Errorf(code, "%s", text)
		<-written
	}

	jctx, jcancel := context.WithTimeout(ctx, joinTimeout)
	m, err := conn.Recv(jctx)
	jcancel()
	switch {
	case err != nil && isDecodeError(err):
		log.Info("bad signaling message before a join", "err", err)
		fail(signaling.CodeBadMessage, err.Error())
		return
	case err != nil:
		reason = "no join"
		log.Info("signaling closed before a join", "err", err)
		return
	case m.Type == signaling.TypeChatJoin && !isOrigin: // a chat connection (chatsession.go)
		reason = s.serveChat(ctx, conn, sess, m, log, fail)
		return
	case m.Type != signaling.TypeJoin:
		log.Info("signaling refused: first message is not a join", "type", m.Type)
		fail(signaling.CodeNotJoined, "the first message must be a join")
		return
	}
	welcome := signaling.Message{ServerTime: time.Now().UnixMilli()}
	for _, u := range s.cfg.ICEServers {
		welcome.ICEServers = append(welcome.ICEServers, signaling.ICEServer{URLs: []string{u}})
	}
	welcome.StreamKey = s.streams.WelcomeKey(ctx, m.Stream) // peers verify every chunk against it
	if !isOrigin {
		welcome.Newest = s.liveEdge(m.Stream) // joiners fetch the first chunks at once
	}
	id, err := s.tracker.Join(m.Stream, sess, isOrigin, welcome)
	if err != nil {
		log.Warn("join refused", "stream", m.Stream, "err", err)
		fail(signaling.CodeSwarmFull, err.Error())
		return
	}
	defer s.tracker.Leave(id)
	log = log.With("peer", id, "stream", m.Stream)
	log.Info("peer joined", "origin", isOrigin)
	defer func() { log.Info("peer left", "reason", reason) }()

	handled := 0 // messages dealt with, for Config.peerHook
	hook := func(open bool) {
		if h := s.cfg.peerHook; h != nil {
			h(id, handled, open)
		}
	}
	defer hook(false)

	limit := rate.NewLimiter(rate.Limit(s.cfg.MaxMessagesPerSecond), s.cfg.MessageBurst)
	bad := 0
	for {
		m, err := conn.Recv(ctx)
		if err != nil {
			if !isDecodeError(err) {
				if ctx.Err() == nil {
					reason = "connection closed"
				}
				return
			}
			bad++
			log.Info("bad signaling message", "err", err, "count", bad)
			if bad >= maxBadMessages {
				fail(signaling.CodeBadMessage, "too many malformed messages")
				return
			}
			sess.Deliver(signaling.Errorf(signaling.CodeBadMessage, "%v", err))
			handled++
			hook(true)
			continue
		}
		if !isOrigin && !limit.Allow() {
			log.Warn("signaling rate limit exceeded")
			fail(signaling.CodeRateLimited, "rate limit exceeded")
			return
		}
		switch m.Type {
		case signaling.TypeOffer, signaling.TypeAnswer, signaling.TypeCandidate:
			if err := s.tracker.Relay(id, m); errors.Is(err, tracker.ErrRelayLimit) {
				sess.Deliver(signaling.Errorf(signaling.CodeRateLimited, "%v", err))
			} else if err != nil {
				sess.Deliver(signaling.Errorf(signaling.CodeNoSuchPeer, "%v", err))
			}
		case signaling.TypeDrop:
			s.tracker.Drop(id, m.Peer, m.Text)
		case signaling.TypeReport:
			s.onReport(log, id, m)
		default:
			sess.Deliver(signaling.Errorf(signaling.CodeBadMessage, "unexpected %q message", m.Type))
		}
		handled++
		hook(true)
	}
}

func isDecodeError(err error) bool {
	return errors.Is(err, signaling.ErrInvalid) || errors.Is(err, signaling.ErrTooLarge) ||
		errors.Is(err, signaling.ErrBadVersion)
}

var _ tracker.Session = (*session)(nil)

// liveEdge returns the newest chunk the stream's origin holds, 0 when it
// holds none (or the stream has no origin here).
func (s *Server) liveEdge(stream string) uint64 {
	if o := s.streams.Origin(stream); o != nil {
		if n, ok := o.Newest(); ok {
			return n
		}
	}
	return 0
}

// onReport handles a peer's report that a neighbour sent it a chunk that
// failed verification (or flooded it): the tracker unlinks the two and,
// once enough distinct peers agree, stops introducing the offender.
func (s *Server) onReport(log *slog.Logger, id string, m signaling.Message) {
	res := s.tracker.Report(id, m.Peer, m.Text)
	if !res.Counted {
		return
	}
	log.Warn("peer reported a neighbour", "reported", m.Peer, "reason", m.Text,
		"reporters", res.Reporters, "quarantined", res.Quarantined)
}
