package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/swarm"
	"github.com/shoal-live/shoal/shared/wire"
)

// DefaultUpload is the upload capacity, as a multiple of the stream rate,
// that a viewer's engine assumes when Config.Engine says none.
const DefaultUpload = 1.5

// DefaultMaxQueue is how much of the stream may wait in a data channel's
// send buffer when Config.MaxQueue says nothing (see sendqueue.go).
const DefaultMaxQueue = 1500 * time.Millisecond

// Config sets up a Node.
type Config struct {
	// Stream names the swarm to join.
	Stream string
	// Signal is an open connection to the tracker. The node closes it when
	// Run returns.
	Signal signaling.Conn
	// ICEServers are STUN/TURN servers; the tracker's welcome may add more.
	// None are needed on loopback.
	ICEServers []webrtc.ICEServer
	// LoopbackOnly restricts a native peer's ICE candidates to loopback
	// (tests). Ignored in the browser.
	LoopbackOnly bool
	// Engine configures the swarm engine. A nil Rand gets a random seed.
	Engine swarm.Config
	// Fetch gets chunks from the origin when the swarm cannot. Nil turns
	// fallback off (the origin itself).
	Fetch FetchFunc
	// StartAt, when not 0, is the first chunk the player still needs (a
	// page that played the stream from HTTP while its wasm loaded, or a
	// peer joining again after the signaling connection was lost): the
	// engine starts there instead of behind the live edge, if the origin
	// still holds it.
	StartAt uint64
	// OnJoined, when set, is called once the tracker has welcomed the peer.
	OnJoined func()
	// OnDeliver receives each chunk once, on the node's loop: it must not
	// block.
	OnDeliver func(Delivery)
	// OnStats receives the node's counters every StatsInterval (default
	// 500 ms), on the loop.
	OnStats       func(Stats)
	StatsInterval time.Duration
	// TickInterval is how often the engine sees time pass (default 50 ms).
	TickInterval time.Duration
	// MaxQueue is how much of the stream, in time at its measured byte
	// rate, may wait in one data channel's send buffer before chunk sends
	// to it are dropped (default 1.5 s; at least 128 KiB; see
	// sendqueue.go): a chunk that would wait longer would come too late.
	MaxQueue time.Duration
	// ConnectTimeout is how long a neighbour's data channel may take to
	// open (default 10 s); then the link is dropped and the tracker told,
	// which finds both ends others. A client that joins the tracker and
	// never does WebRTC holds a place no longer than this.
	ConnectTimeout time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Delivery is a chunk handed to the player.
type Delivery struct {
	Chunk      wire.Chunk
	From       string // neighbour id, "" for an origin fetch
	FromOrigin bool
}

// Stats is the engine's counters plus what the node measures.
type Stats struct {
	swarm.Stats
	ID            string
	BehindLiveMs  int64 // origin clock now minus the newest delivered chunk's timestamp
	ClockOffsetMs int64 // server clock minus ours, estimated at join
	SendDropped   int   // chunk sends dropped because a channel's buffer held MaxQueue already
	SignalDropped int   // messages to the tracker dropped because its connection was too slow
	BadMessages   int   // undecodable data channel messages (the sender is disconnected)
	InboxDropped  int

	// Integrity (guard.go): chunks refused because they failed
	// verification (bad or missing signature, or stale), of which stale;
	// neighbours cut off for flooding; and chunks delivered or forwarded
	// without passing verification, which must stay 0. Verified chunks
	// took VerifyMicros in all to check on the node's loop; of them,
	// VerifiedWeb had their signature checked by the browser's WebCrypto
	// (then VerifyMicros counts only the statement Go builds for it).
	Verified       int
	VerifiedWeb    int
	VerifyMicros   int64
	VerifyFailures int
	StaleChunks    int
	Floods         int
	DeliveredBad   int
	ForwardedBad   int
}

// Node is a peer: one engine driven over real connections.
type Node struct {
	cfg    Config
	log    *slog.Logger
	api    *webrtc.API
	engine *swarm.Engine
	newest uint64 // the live edge, from the welcome
	key    uint64 // the newest keyframe chunk, from the welcome
	inbox  *inbox

	id          string
	clockOffset time.Duration // server clock minus ours
	links       map[string]*link
	newestTS    int64
	sent        streamRate // the stream's byte rate, from the chunks sent
	sendDropped int
	badMessages int
	// toTracker queues messages to the tracker for the writer
	// (writeSignals), so that a slow tracker connection never holds
	// up the loop; signalDropped counts those it had no room for.
	toTracker     chan signaling.Message
	signalDropped int
	iceServers    []webrtc.ICEServer
	guard         guard
}

// New checks cfg and builds a node. Call Run to join.
func New(cfg Config) (*Node, error) {
	if !signaling.ValidStream(cfg.Stream) {
		return nil, fmt.Errorf("node: invalid stream name %q", cfg.Stream)
	}
	if cfg.Signal == nil {
		return nil, errors.New("node: Config.Signal is required")
	}
	if !cfg.Engine.Origin && cfg.Engine.Upload == 0 && cfg.Engine.Slots == 0 {
		// Browsers cannot measure their uplink before they use it; 1.5×
		// the stream rate is a typical broadband or LTE uplink for a
		// 2-4 Mbit/s stream, and a peer that can serve more than one copy
		// keeps the swarm above the stream rate (see docs/PROTOCOL.md).
		cfg.Engine.Upload = DefaultUpload
	}
	if cfg.Engine.Rand == nil {
		cfg.Engine.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if cfg.StatsInterval <= 0 {
		cfg.StatsInterval = 500 * time.Millisecond
	}
	if cfg.TickInterval <= 0 {
		cfg.TickInterval = 50 * time.Millisecond
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = DefaultMaxQueue
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e, err := swarm.New(cfg.Engine)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	return &Node{
		cfg:        cfg,
		log:        cfg.Logger.With("stream", cfg.Stream),
		api:        newAPI(cfg.LoopbackOnly),
		engine:     e,
		inbox:      newInbox(16384),
		links:      make(map[string]*link),
		iceServers: cfg.ICEServers,
		toTracker:  make(chan signaling.Message, signalQueue),
	}, nil
}

// signalQueue bounds the messages waiting for the tracker connection:
// a join's offers and ICE candidates for 16 neighbours, several times
// over.
const signalQueue = 256

// QuarantineError is what Run returns when the tracker quarantined the
// peer (its neighbours reported chunks from it that fail verification).
// Quarantine is by peer id: a peer wrongly reported may join again with a
// new connection, and so a new id, after Wait.
type QuarantineError struct {
	Wait time.Duration // how long the tracker asked us to stay away
	Text string
}

// ErrQuarantined matches a *QuarantineError with errors.Is.
var ErrQuarantined = errors.New("node: quarantined by the tracker")

func (e *QuarantineError) Error() string {
	return fmt.Sprintf("%v for %v: %s", ErrQuarantined, e.Wait, e.Text)
}

// Is makes errors.Is(err, ErrQuarantined) true.
func (e *QuarantineError) Is(target error) bool { return target == ErrQuarantined }

// events posted to the inbox
type (
	signalIn  struct{ m signaling.Message }
	signalErr struct{ err error }
	linkOpen  struct{ l *link }
	linkLate  struct{ l *link } // ConnectTimeout has passed since the link began
	linkDown  struct {
		l      *link
		reason string
	}
	linkMsg struct {
		l    *link
		data []byte
	}
	// chunkChecked: the browser has checked the signature of c from l
	// (guard.checkLater).
	chunkChecked struct {
		l   *link
		c   wire.Chunk
		err error
	}
	iceOut struct {
		l *link
		c webrtc.ICECandidateInit
	}
	published struct{ c wire.Chunk }
	covered   struct{ before uint64 }
	fetched   struct {
		seq uint64
		c   wire.Chunk
		err error
		// web: the browser has checked c's signature, and err is the
		// outcome (guard.checkLater)
		web bool
	}
)

// Publish hands a new chunk to an origin node. It never blocks.
func (n *Node) Publish(c wire.Chunk) { n.inbox.post(published{c}) }

// Cover tells the node that its player has every chunk before before from
// elsewhere (a page's HTTP feed): they are not asked for (swarm.Covered).
// It never blocks.
func (n *Node) Cover(before uint64) { n.inbox.post(covered{before}) }

// Run joins the stream and drives the engine until ctx ends or the
// signaling connection fails.
func (n *Node) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer n.closeAll()
	defer n.cfg.Signal.Close("leaving")

	if err := n.join(ctx); err != nil {
		return err
	}
	go n.readSignals(ctx)
	go n.writeSignals(ctx)
	if n.cfg.OnJoined != nil {
		n.cfg.OnJoined()
	}
	if n.newest > 0 {
		n.step(ctx, swarm.Live{Newest: n.newest, Keyframe: n.key, From: n.cfg.StartAt}) // start fetching before any channel opens
	}

	tick := time.NewTicker(n.cfg.TickInterval)
	defer tick.Stop()
	stats := time.NewTicker(n.cfg.StatsInterval)
	defer stats.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-n.inbox.wake:
			for _, ev := range n.inbox.drain() {
				if err := n.handle(ctx, ev); err != nil {
					return err
				}
			}
		case <-tick.C:
			n.step(ctx, swarm.Tick{})
		case <-stats.C:
			if n.cfg.OnStats != nil {
				n.cfg.OnStats(n.Stats())
			}
		}
	}
}

func (n *Node) join(ctx context.Context) error {
	jctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := n.cfg.Signal.Send(jctx, signaling.Message{Type: signaling.TypeJoin, Stream: n.cfg.Stream}); err != nil {
		return fmt.Errorf("node: join: %w", err)
	}
	m, err := n.cfg.Signal.Recv(jctx)
	if err != nil {
		return fmt.Errorf("node: join: %w", err)
	}
	switch m.Type {
	case signaling.TypeWelcome:
	case signaling.TypeError:
		return fmt.Errorf("node: join refused: %s: %s", m.Code, m.Text)
	default:
		return fmt.Errorf("node: join: unexpected %s", m.Type)
	}
	n.id, n.newest, n.key = m.ID, m.Newest, m.Keyframe
	n.log = n.log.With("peer", n.id)
	if err := n.guard.setKey(n.cfg.Stream, m.StreamKey); err != nil {
		return fmt.Errorf("node: join: %w", err)
	}
	if m.StreamKey == "" {
		n.log.Warn("tracker sent no stream key: every chunk will be refused")
	}
	if m.ServerTime != 0 {
		n.clockOffset = time.UnixMilli(m.ServerTime).Sub(time.Now())
	}
	for _, s := range m.ICEServers {
		n.iceServers = append(n.iceServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	n.log.Info("joined swarm")
	return nil
}

func (n *Node) readSignals(ctx context.Context) {
	for {
		m, err := n.cfg.Signal.Recv(ctx)
		if err != nil {
			if errors.Is(err, signaling.ErrInvalid) || errors.Is(err, signaling.ErrTooLarge) {
				n.log.Warn("ignoring bad signaling message", "err", err)
				continue
			}
			n.inbox.post(signalErr{err})
			return
		}
		n.inbox.post(signalIn{m})
	}
}

// writeSignals sends what signal queued, in order, until ctx ends. A
// send that fails is logged and skipped: a lost connection surfaces in
// readSignals.
func (n *Node) writeSignals(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-n.toTracker:
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := n.cfg.Signal.Send(sctx, m); err != nil {
				n.log.Debug("signaling send failed", "type", m.Type, "err", err)
			}
			cancel()
		}
	}
}

// ID is the id the tracker gave this peer; empty before Run has joined.
// Call it only from OnDeliver or OnStats, or after Run returns.
func (n *Node) ID() string { return n.id }

// Stats returns the node's counters. Call it only from OnDeliver or
// OnStats, or after Run returns.
func (n *Node) Stats() Stats {
	s := Stats{
		Stats:         n.engine.Stats(),
		ID:            n.id,
		SendDropped:   n.sendDropped,
		SignalDropped: n.signalDropped,
		BadMessages:   n.badMessages,
		InboxDropped:  n.inbox.droppedCount(),
		ClockOffsetMs: n.clockOffset.Milliseconds(),

		Verified:       n.guard.passed,
		VerifiedWeb:    n.guard.passedWeb,
		VerifyMicros:   n.guard.verifyTime.Microseconds(),
		VerifyFailures: n.guard.failures,
		StaleChunks:    n.guard.stale,
		Floods:         n.guard.floods,
		DeliveredBad:   n.guard.deliveredBad,
		ForwardedBad:   n.guard.forwardedBad,
	}
	if n.newestTS != 0 {
		s.BehindLiveMs = time.Now().Add(n.clockOffset).UnixMilli() - n.newestTS
	}
	return s
}

func (n *Node) handle(ctx context.Context, ev any) error {
	switch ev := ev.(type) {
	case signalErr:
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("node: signaling: %w", ev.err)
	case signalIn:
		if ev.m.Type == signaling.TypeLive { // the live edge, from the tracker
			n.step(ctx, swarm.Live{Newest: ev.m.Newest, Keyframe: ev.m.Keyframe})
			return nil
		}
		if ev.m.Type == signaling.TypeError && ev.m.Code == signaling.CodeQuarantined {
			n.log.Warn("quarantined by the tracker", "text", ev.m.Text, "wait", time.Duration(ev.m.DurationMs)*time.Millisecond)
			return &QuarantineError{Wait: time.Duration(ev.m.DurationMs) * time.Millisecond, Text: ev.m.Text}
		}
		n.onSignal(ctx, ev.m)
	case linkOpen:
		if n.links[ev.l.id] != ev.l || ev.l.open {
			return nil
		}
		n.opened(ctx, ev.l)
	case linkLate:
		if n.links[ev.l.id] != ev.l || ev.l.open {
			return nil
		}
		n.log.Debug("neighbour's data channel did not open", "neighbour", ev.l.id, "after", n.cfg.ConnectTimeout)
		n.dropLink(ctx, ev.l, fmt.Sprintf("no data channel within %v", n.cfg.ConnectTimeout), true)
	case linkDown:
		if n.links[ev.l.id] != ev.l {
			return nil
		}
		n.dropLink(ctx, ev.l, ev.reason, true)
	case linkMsg:
		if n.links[ev.l.id] != ev.l {
			return nil
		}
		if !ev.l.open {
			// pion runs OnOpen on a goroutine of its own, so a neighbour's
			// first message can reach the inbox before the open does; a
			// message proves the channel open.
			n.opened(ctx, ev.l)
		}
		m, ok := n.receive(ctx, ev.l, ev.data) // decode, rate-limit, verify chunks (guard.go)
		if !ok {
			return nil
		}
		n.fromNeighbour(ctx, ev.l, m)
	case chunkChecked:
		if n.links[ev.l.id] != ev.l {
			return nil // gone while the browser checked
		}
		if err := n.guard.checked(ev.c, ev.err, n.originNow()); err != nil {
			n.refuseChunk(ctx, ev.l, ev.c, err)
			return nil
		}
		n.fromNeighbour(ctx, ev.l, ev.c)
	case iceOut:
		if n.links[ev.l.id] != ev.l {
			return nil
		}
		c := ev.c
		n.signal(ctx, signaling.Message{Type: signaling.TypeCandidate, Peer: ev.l.id,
			Candidate: &signaling.Candidate{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex}})
	case covered:
		n.step(ctx, swarm.Covered{Before: ev.before})
	case published:
		n.guard.remember(ev.c)
		n.step(ctx, swarm.Published{Chunk: ev.c})
	case fetched:
		if !n.checkFetched(&ev) {
			return nil
		}
		if ev.err != nil {
			n.log.Debug("origin fetch failed", "seq", ev.seq, "err", ev.err)
			n.step(ctx, swarm.FetchFailed{Seq: ev.seq})
		} else {
			n.step(ctx, swarm.Fetched{Chunk: ev.c})
		}
	}
	return nil
}

// fromNeighbour hands the engine m from l, screened by receive (and a
// chunk verified).
func (n *Node) fromNeighbour(ctx context.Context, l *link, m wire.Message) {
	if c, isChunk := m.(wire.Chunk); isChunk {
		if l.chunks++; l.chunks == 1 {
			n.log.Debug("first chunk from neighbour", "neighbour", l.id, "seq", c.Seq,
				"after", time.Since(l.began).Round(time.Millisecond))
		}
	}
	n.step(ctx, swarm.MessageReceived{From: swarm.PeerID(l.id), Msg: m})
}

// step feeds the engine and carries out its actions in order.
func (n *Node) step(ctx context.Context, ev swarm.Event) {
	if err := n.engine.Step(time.Now(), ev); err != nil {
		// A driver bug, never a remote peer's doing: say so loudly.
		n.log.Error("engine refused event", "event", fmt.Sprintf("%T", ev), "err", err)
		return
	}
	for _, a := range n.engine.Ready() {
		switch a := a.(type) {
		case swarm.Send:
			n.send(a)
		case swarm.Fetch:
			n.fetch(ctx, a.Seq)
		case swarm.Deliver:
			if !n.guard.trusted(a.Chunk) { // never: the guard screens every chunk the engine gets
				n.guard.deliveredBad++
				n.log.Error("engine delivered an unverified chunk; not playing it", "seq", a.Chunk.Seq)
				continue
			}
			if a.Chunk.Timestamp > n.newestTS {
				n.newestTS = a.Chunk.Timestamp
			}
			if n.cfg.OnDeliver != nil {
				n.cfg.OnDeliver(Delivery{Chunk: a.Chunk, From: string(a.From), FromOrigin: a.FromOrigin})
			}
		case swarm.Disconnect:
			if l, ok := n.links[string(a.Peer)]; ok {
				n.dropLink(ctx, l, a.Reason, false)
			}
		}
	}
}

func (n *Node) send(a swarm.Send) {
	l, ok := n.links[string(a.To)]
	if !ok || !l.open || l.dc == nil {
		return
	}
	if c, isChunk := a.Msg.(wire.Chunk); isChunk {
		if !n.guard.trusted(c) { // never, as for Deliver
			n.guard.forwardedBad++
			n.log.Error("engine sent an unverified chunk; not forwarding it", "seq", c.Seq)
			return
		}
		n.sent.add(c.Seq, c.Timestamp, len(c.Payload))
		if l.dc.BufferedAmount() > n.sent.queueBudget(n.cfg.MaxQueue) {
			n.sendDropped++
			return
		}
	}
	if err := l.dc.Send(wire.Encode(a.Msg)); err != nil {
		n.log.Debug("data channel send failed", "neighbour", l.id, "err", err)
	}
}

func (n *Node) fetch(ctx context.Context, seq uint64) {
	if n.cfg.Fetch == nil {
		n.inbox.post(fetched{seq: seq, err: errors.New("no origin fetcher")})
		return
	}
	go func() {
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		c, err := n.cfg.Fetch(fctx, n.cfg.Stream, seq)
		n.inbox.post(fetched{seq: seq, c: c, err: err})
	}()
}

// signal queues m for the tracker (writeSignals sends it) without
// blocking: when the connection is so slow that signalQueue messages
// wait, m is dropped and counted. A lost offer or candidate costs that
// one link, which then times out (ConnectTimeout).
func (n *Node) signal(_ context.Context, m signaling.Message) {
	select {
	case n.toTracker <- m:
	default:
		if n.signalDropped++; n.signalDropped == 1 || n.signalDropped%100 == 0 {
			n.log.Warn("tracker connection too slow: signaling message dropped", "type", m.Type, "dropped", n.signalDropped)
		}
	}
}

func (n *Node) closeAll() {
	for _, l := range n.links {
		l.close()
	}
	n.links = map[string]*link{}
}
