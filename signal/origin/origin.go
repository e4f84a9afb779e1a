// Package origin is the server's side of a stream: it keeps the newest
// chunks of each live stream for fallback fetches, and runs the origin peer
// that seeds them into the swarm over WebRTC with the same engine viewers
// run.
package origin

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/shoal-live/shoal/shared/integrity"
	"github.com/shoal-live/shoal/shared/node"
	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/swarm"
	"github.com/shoal-live/shoal/shared/wire"
)

// Config sets up an Origin.
type Config struct {
	Stream string
	// Signal connects the origin peer to the tracker, usually one end of a
	// signaling.Pipe whose other end the server serves as an origin.
	Signal signaling.Conn
	// Keep is how many of the newest chunks stay available for fallback
	// fetches (default 256: 32 s of 125 ms chunks, twice the engine's
	// Window).
	Keep int
	// Copies is how many copies of the stream the origin's upload may
	// carry to the swarm: its stripe slots, see package swarm. Zero takes
	// the engine's Upload default, 1: one slot per stripe, one copy (the
	// server passes its own, 4 by default).
	Copies       float64
	ICEServers   []webrtc.ICEServer
	LoopbackOnly bool
	Logger       *slog.Logger
	// Signer signs every chunk before it is stored or seeded (see package
	// integrity); viewers refuse unsigned chunks. Nil publishes unsigned
	// chunks (tests of the origin alone).
	Signer *integrity.Signer
	// OnPublish, when set, hears the live edge after every chunk is
	// stored: the newest chunk, and the newest keyframe chunk (0 before
	// any). The server passes it to the tracker (tracker.Live), which
	// tells the viewers. It must not block.
	OnPublish func(newest, keyframe uint64)
	// Now is the clock that stamps chunks and numbers the first one
	// (default time.Now).
	Now func() time.Time
}

// Origin is one live stream's source of truth.
type Origin struct {
	stream string
	node   *node.Node
	store  *Store
	signer *integrity.Signer

	onPublish func(newest, keyframe uint64)

	mu      sync.Mutex
	init    Init
	next    uint64 // sequence number of the next media chunk (FirstSeq at the start)
	newInit bool   // the next chunk starts a new ingest session
	live    bool
	now     func() time.Time
	up      *uploadCounter
}

// Init is a stream's CMAF initialization segment and the MIME type (with
// codecs) a player needs for it.
type Init struct {
	MIME       string
	Data       []byte
	Generation int // counts ingest sessions
}

// ConnectTimeout is how long a viewer linked to the origin has to open
// its data channel before the origin drops the link and the tracker gives
// the place to another viewer: shorter than a viewer's own (10 s), so a
// viewer that joins while idle clients hold every origin link reaches the
// origin within 10 s.
const ConnectTimeout = 8 * time.Second

// New builds the origin of one stream.
func New(cfg Config) (*Origin, error) {
	if cfg.Keep <= 0 {
		cfg.Keep = 256
	}
	up := new(uploadCounter)
	n, err := node.New(node.Config{
		Stream:       cfg.Stream,
		Signal:       cfg.Signal,
		ICEServers:   cfg.ICEServers,
		LoopbackOnly: cfg.LoopbackOnly,
		Engine:       swarm.Config{Origin: true, Upload: cfg.Copies, MaxPeers: 64},
		// The origin's links are few (tracker.Config.OriginLinks) and
		// the first to be wanted: one whose data channel is not open
		// after ConnectTimeout goes to another viewer, so that clients
		// that never do WebRTC cannot hold them.
		ConnectTimeout: ConnectTimeout,
		Logger:         cfg.Logger,
		OnStats:        func(st node.Stats) { up.pushed.Store(st.Uploaded) },
	})
	if err != nil {
		return nil, fmt.Errorf("origin %s: %w", cfg.Stream, err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Origin{stream: cfg.Stream, node: n, store: NewStore(cfg.Keep), signer: cfg.Signer, onPublish: cfg.OnPublish,
		now: cfg.Now, next: FirstSeq(cfg.Now()), up: up}, nil
}

// FirstSeq is the sequence number of an origin's first chunk when it
// starts at now: the Unix time in milliseconds. Numbers then never go
// backwards across restarts of the server, as long as a run publishes
// fewer than one chunk a millisecond (one per 125 ms by default) and the
// clock does not step back by more than the run's lifetime. Viewers
// drop chunks numbered below what they expect, and a chunk cached from
// an earlier run can never pass for one of this run (its signature covers
// its number). The values stay far below 2^53 (about 2^40.7 in 2026), so
// JavaScript numbers hold them exactly.
func FirstSeq(now time.Time) uint64 { return uint64(max(now.UnixMilli(), 1)) }

// StartSession begins an ingest session with its init segment. The first
// chunk after it carries wire.FlagDiscontinuity, telling players to fetch
// the new init segment.
func (o *Origin) StartSession(mime string, init []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.init = Init{MIME: mime, Data: init, Generation: o.init.Generation + 1}
	o.newInit, o.live = true, true
}

// EndSession marks the stream offline until the next session starts.
func (o *Origin) EndSession() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.live = false
}

// Live reports whether an ingest session is running.
func (o *Origin) Live() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.live
}

// Init returns the current init segment; false before the first session.
func (o *Origin) Init() (Init, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.init, o.init.Data != nil
}

// ErrChunkTooLarge is returned for a fragment too big for one chunk.
var ErrChunkTooLarge = fmt.Errorf("origin: fragment larger than a chunk's %d-byte payload", wire.MaxPayload)

// PublishFragment publishes one CMAF fragment of the current session as the
// next chunk, stamped with the server clock. keyframe says the fragment
// starts with a keyframe. A fragment over wire.MaxPayload is refused.
func (o *Origin) PublishFragment(data []byte, keyframe bool) error {
	if len(data) > wire.MaxPayload {
		return fmt.Errorf("%w: %d bytes", ErrChunkTooLarge, len(data))
	}
	o.mu.Lock()
	c := wire.Chunk{Seq: o.next, Timestamp: o.now().UnixMilli(), Payload: data}
	if keyframe {
		c.Flags |= wire.FlagKeyframe
	}
	if o.newInit {
		c.Flags |= wire.FlagDiscontinuity
		o.newInit = false
	}
	o.next++
	o.mu.Unlock()
	o.Publish(c)
	return nil
}

// Run runs the origin peer until ctx ends.
func (o *Origin) Run(ctx context.Context) error { return o.node.Run(ctx) }

// Publish makes c the newest chunk: signed, stored for fetches, seeded
// into the swarm and reported to OnPublish.
func (o *Origin) Publish(c wire.Chunk) {
	if o.signer != nil {
		c = o.signer.Sign(c)
	}
	o.store.Put(c)
	o.node.Publish(c)
	if o.onPublish != nil {
		newest, keyframe, _ := o.store.Edge()
		o.onPublish(newest, keyframe)
	}
}

// Chunk returns a stored chunk for a fallback fetch.
func (o *Origin) Chunk(seq uint64) (wire.Chunk, bool) { return o.store.Get(seq) }

// Newest returns the newest chunk's sequence number, false before any.
func (o *Origin) Newest() (uint64, bool) { return o.store.Newest() }

// MaxJoinBack bounds how far behind the newest chunk a viewer joining now
// starts: 96 chunks, 3/4 of the engine's window (swarm.Config.Window, 128
// by default), as the engine bounds its own start (docs/PROTOCOL.md §3.8).
const MaxJoinBack = 96

// JoinPoint returns where a viewer joining now starts: the newest keyframe
// chunk, or MaxJoinBack chunks behind the newest when that keyframe is
// older (the player then waits for the next one) or none is known (0).
func JoinPoint(newest, keyframe uint64) uint64 {
	return max(keyframe, newest-min(newest, MaxJoinBack))
}

// Edge returns the newest chunk's sequence number and the newest keyframe
// chunk's (0 before any keyframe); false before any chunk.
func (o *Origin) Edge() (newest, keyframe uint64, ok bool) { return o.store.Edge() }

// Store keeps the newest chunks of a stream in a ring. It is safe for
// concurrent use.
type Store struct {
	mu       sync.RWMutex
	ring     []wire.Chunk
	newest   uint64
	keyframe uint64 // newest chunk with wire.FlagKeyframe, 0 before any
	any      bool
}

// NewStore keeps the keep newest chunks.
func NewStore(keep int) *Store { return &Store{ring: make([]wire.Chunk, keep)} }

// Put stores c; chunks must arrive in increasing sequence order.
func (s *Store) Put(c wire.Chunk) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ring[c.Seq%uint64(len(s.ring))] = c
	s.newest, s.any = c.Seq, true
	if c.Flags&wire.FlagKeyframe != 0 {
		s.keyframe = c.Seq
	}
}

// Get returns chunk seq if it is still kept.
func (s *Store) Get(seq uint64) (wire.Chunk, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.any || seq > s.newest || s.newest-seq >= uint64(len(s.ring)) {
		return wire.Chunk{}, false
	}
	c := s.ring[seq%uint64(len(s.ring))]
	return c, c.Seq == seq && c.Payload != nil
}

// Newest returns the newest sequence number stored.
func (s *Store) Newest() (uint64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.newest, s.any
}

// Edge returns the newest sequence number stored and the newest keyframe
// chunk's (0 before any; it may have left the store since: a joiner then
// starts as far back as it can and waits for the next).
func (s *Store) Edge() (newest, keyframe uint64, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.newest, s.keyframe, s.any
}
