// Package rendezvous is the server's end of every signaling connection:
// the signaling WebSocket (/api/signal) and the in-memory pipe each
// stream's origin joins its swarm through. A connection's first message
// says what it is: a join makes it a swarm peer, which the tracker
// introduces to neighbours and whose offers, answers, candidates, drops
// and reports it takes (peer.go) until the peer leaves; a chat-join makes
// it a chat connection in its stream's room (chat.go), never a swarm peer.
//
// It owns the signaling limits: connections per client address and a
// byte budget they share (peerconn.go: padding costs the server next to
// nothing), a bounded send queue per connection (queue.go: a peer that
// lets it fill is disconnected as too slow), a message rate per
// connection, and a count of malformed messages. Nothing a peer sends can
// take the server down: every way out closes the connection with a reason.
//
//	rv := rendezvous.New(rendezvous.Config{Tracker: tr, Streams: st, Chat: hub, Account: account})
//	r.Get("/api/signal", rv.ServeHTTP)                          // behind the client-IP middleware
//	streams.Config{Join: rv.ServeOrigin}                        // an origin joining its swarm
package rendezvous

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5/middleware"
	"golang.org/x/time/rate"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/chat"
	"github.com/shoal-live/shoal/signal/jsonhttp"
	"github.com/shoal-live/shoal/signal/origin"
	"github.com/shoal-live/shoal/signal/tracker"
)

// Tracker is what a swarm peer's connection needs of the tracker (a
// *tracker.Tracker).
type Tracker interface {
	Join(stream string, s tracker.Session, origin bool, welcome signaling.Message) (string, error)
	Leave(id string)
	Relay(id string, m signaling.Message) error
	Drop(id, peer, reason string)
	Report(id, peer, reason string) tracker.ReportResult
}

// Streams is what a join needs of the streams (a *streams.Streams): the
// key peers verify chunks with, and the live edge.
type Streams interface {
	WelcomeKey(ctx context.Context, name string) string
	Origin(name string) *origin.Origin
}

// Chat puts a chat connection in its stream's room (a *chat.Hub).
type Chat interface {
	Join(ctx context.Context, stream string, accountID int64, addr string, deliver func(signaling.Message) bool) (*chat.Client, error)
}

// Defaults of Config's limits.
const (
	// DefaultMaxConnsPerAddr bounds signaling connections from one client
	// address.
	DefaultMaxConnsPerAddr = 32
	// DefaultMessagesPerSecond and DefaultMessageBurst rate-limit each
	// connection: a join's ICE trickle is bursty.
	DefaultMessagesPerSecond = 50
	DefaultMessageBurst      = 200
	// DefaultSendQueueBytes bounds what waits for one connection: 64
	// offers of the largest SDP. A peer's normal traffic is a few KiB at
	// a time; one that lets more pile up (it stopped reading, or a
	// neighbour floods it) is disconnected.
	DefaultSendQueueBytes = 1 << 20
	// DefaultBytesPerSecond and DefaultByteBurst are what one address's
	// connections may send the server together: a peer sends about 10 KiB
	// per neighbour it is given (an offer or answer of 0.5-4 KiB and a few
	// dozen candidates), 100 KiB or so when it joins, so the burst is ten
	// viewers joining at once from one address, and the rate a join every
	// half second. Padded messages from 32 connections were 100 MB a
	// second to read and decode.
	DefaultBytesPerSecond = 256 << 10
	DefaultByteBurst      = 1 << 20
)

const (
	joinTimeout    = 10 * time.Second
	maxBadMessages = 10 // malformed messages tolerated before the connection is closed
	// originSendQueueBytes bounds the origin's own queue: its 16 links'
	// relays (tracker.MaxRelayBytes each) many times over.
	originSendQueueBytes = 16 << 20
)

// Config sets up a Server. Zero limits take the defaults above.
type Config struct {
	Tracker Tracker
	Streams Streams
	// Chat takes chat connections; nil refuses them (no chat).
	Chat Chat
	// Account returns the account whose session r carries, 0 for none:
	// the owner of a stream moderates its chat. Asked only of chat
	// connections; nil: nobody is signed in.
	Account func(r *http.Request) int64
	// ICEServers are the STUN/TURN URLs each joining peer is welcomed
	// with.
	ICEServers []string
	// AllowedOrigins are extra host patterns (as in coder/websocket's
	// OriginPatterns) allowed to open the WebSocket; the server's own
	// origin is always allowed.
	AllowedOrigins []string
	// MaxConnsPerAddr bounds the connections from one client address.
	MaxConnsPerAddr int
	// BytesPerSecond and ByteBurst pace what the server reads from one
	// address's connections together: past them it reads on only as the
	// budget refills, so the sender waits.
	BytesPerSecond int
	ByteBurst      int
	// SendQueueBytes bounds the messages waiting to be written to one
	// connection, in bytes; a connection that lets more pile up is closed
	// as too slow.
	SendQueueBytes int
	// MessagesPerSecond and MessageBurst rate-limit each connection but
	// the origin's.
	MessagesPerSecond float64
	MessageBurst      int
	// PeerHook, when set, is called from a joined peer's loop each time
	// the server has dealt with a message of the peer's (relayed, answered
	// or refused it), with how many so far, and once more when the loop
	// ends (open false). Tests set it to wait for the server rather than
	// sleep.
	PeerHook func(peer string, handled int, open bool)
	Logger   *slog.Logger
}

// Server serves signaling connections. Make it with New.
type Server struct {
	cfg     Config
	log     *slog.Logger
	ice     []signaling.ICEServer
	mu      sync.Mutex
	perAddr map[string]*addrState // connections and byte budget per address (peerconn.go)
	// addrsSwept is when sweepAddrs last looked through perAddr.
	addrsSwept time.Time
}

// New returns a Server.
func New(cfg Config) *Server {
	setDefault(&cfg.MaxConnsPerAddr, DefaultMaxConnsPerAddr)
	setDefault(&cfg.BytesPerSecond, DefaultBytesPerSecond)
	setDefault(&cfg.ByteBurst, DefaultByteBurst)
	setDefault(&cfg.SendQueueBytes, DefaultSendQueueBytes)
	setDefault(&cfg.MessagesPerSecond, DefaultMessagesPerSecond)
	setDefault(&cfg.MessageBurst, DefaultMessageBurst)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, perAddr: make(map[string]*addrState)}
	for _, u := range cfg.ICEServers {
		s.ice = append(s.ice, signaling.ICEServer{URLs: []string{u}})
	}
	return s
}

func setDefault[T int | float64](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// client is who is at the other end of a connection.
type client struct {
	addr    string       // the client's address (package clientip), "origin" for the origin's pipe
	account func() int64 // the signed-in account, asked by chat connections only
}

// ServeHTTP upgrades to a WebSocket and serves one connection until it
// closes. The client's address is middleware.GetClientIP's.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ip := middleware.GetClientIP(r.Context())
	budget, ok := s.acquire(ip)
	if !ok {
		s.log.Warn("signaling refused: too many connections", "ip", ip)
		jsonhttp.Error(w, http.StatusTooManyRequests, "too many connections from your address")
		return
	}
	defer s.release(ip)
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.AllowedOrigins})
	if err != nil {
		s.log.Info("signaling upgrade failed", "ip", ip, "err", err)
		return // Accept has written the response
	}
	cl := client{addr: ip, account: func() int64 { return 0 }}
	if s.cfg.Account != nil {
		cl.account = func() int64 { return s.cfg.Account(r) }
	}
	s.serve(r.Context(), newPeerConn(c, budget), cl, false)
}

// ServeOrigin serves the server's end of an origin's signaling pipe until
// ctx ends or the pipe closes (streams.Config.Join).
func (s *Server) ServeOrigin(ctx context.Context, conn signaling.Conn) {
	s.serve(ctx, conn, client{addr: "origin", account: func() int64 { return 0 }}, true)
}

// serve runs one connection until it leaves or misbehaves. Every way out
// closes conn with a reason; nothing a peer sends can take the server
// down.
func (s *Server) serve(ctx context.Context, conn signaling.Conn, cl client, isOrigin bool) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := s.log.With("remote", cl.addr)
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
	case err != nil:
		reason = "no join"
		log.Info("signaling closed before a join", "err", err)
	case m.Type == signaling.TypeChatJoin && !isOrigin:
		reason = s.serveChat(ctx, conn, sess, m, cl, log, fail)
	case m.Type != signaling.TypeJoin:
		log.Info("signaling refused: first message is not a join", "type", m.Type)
		fail(signaling.CodeNotJoined, "the first message must be a join")
	default:
		reason = s.servePeer(ctx, conn, sess, m, isOrigin, log, fail)
	}
}

// readLoop hands conn's messages to handle until the connection closes or
// misbehaves. A malformed message is answered with an error, and the
// maxBadMessages-th ends the connection, as does a message over limit
// (nil: none, the origin's). dealt, if set, hears of each message dealt
// with, malformed ones included. readLoop returns why the connection
// ended and the error code to send it ("" when it closed or ctx ended:
// there is no one to tell).
func readLoop(ctx context.Context, conn signaling.Conn, sess *session, log *slog.Logger, limit *rate.Limiter,
	handle func(signaling.Message), dealt func()) (reason, code string) {
	bad := 0
	for {
		m, err := conn.Recv(ctx)
		if err != nil {
			if !isDecodeError(err) {
				if ctx.Err() != nil {
					return "bye", ""
				}
				return "connection closed", ""
			}
			bad++
			log.Info("bad signaling message", "err", err, "count", bad)
			if bad >= maxBadMessages {
				return "too many malformed messages", signaling.CodeBadMessage
			}
			sess.Deliver(signaling.Errorf(signaling.CodeBadMessage, "%v", err))
			if dealt != nil {
				dealt()
			}
			continue
		}
		if limit != nil && !limit.Allow() {
			log.Warn("signaling rate limit exceeded")
			return "rate limit exceeded", signaling.CodeRateLimited
		}
		handle(m)
		if dealt != nil {
			dealt()
		}
	}
}

func isDecodeError(err error) bool {
	return errors.Is(err, signaling.ErrInvalid) || errors.Is(err, signaling.ErrTooLarge) ||
		errors.Is(err, signaling.ErrBadVersion)
}
