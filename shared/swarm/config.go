package swarm

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shoal-live/shoal/shared/wire"
)

// Config tunes an Engine. Zero durations and counts take the defaults
// below; Rand is required so that runs are reproducible.
type Config struct {
	// Origin makes this engine the stream's origin: it accepts Published
	// events, serves stripe subscriptions at depth 0 and never requests
	// anything.
	Origin bool
	// Stripes is how many stripes the stream is cut into: chunk Seq
	// belongs to stripe Seq mod Stripes, and a peer takes each stripe from
	// one parent (default 4, at most wire.MaxStripes). Every peer of a
	// swarm must use the same count.
	Stripes int
	// Upload is the peer's upload capacity as a multiple of the stream
	// rate (default 1; for an origin, the copies of the stream it may
	// send). It sets Slots when Slots is zero.
	Upload float64
	// Slots is how many stripe subscriptions the peer serves in all. Zero
	// means Upload × Stripes × SlotShare, rounded down (for an origin, at
	// least Stripes).
	Slots int
	// SlotShare is the part of the upload that pushes use (default 0.9);
	// the rest is left for repairs and control messages.
	SlotShare float64
	// Window is how many chunks behind the newest a peer keeps and trades
	// (default 128: 16 s of 125 ms chunks). Older chunks are forgotten.
	Window int
	// JoinBacklog is how many chunks behind the newest known one a joining
	// peer starts (default 12: with 125 ms chunks and a keyframe a second,
	// the player finds one 1-1.5 s behind live to start at). A Live that
	// names an older keyframe starts it there instead (live.go).
	JoinBacklog int
	// NoJoinFetch turns off the origin fetch of the join backlog on Live.
	NoJoinFetch bool
	// RepairAfter is how long a chunk may be known to exist and missing
	// before it is requested from a neighbour (default 400 ms). A chunk of
	// a stripe without a parent is requested at once.
	RepairAfter time.Duration
	// RequestTimeout is how long a request may stay unanswered before the
	// chunk is asked of another neighbour (default 600 ms).
	RequestTimeout time.Duration
	// FallbackAfter is how long a chunk may be known to exist and missing
	// before it is fetched from the origin (default 1.2 s).
	FallbackAfter time.Duration
	// LonelyAfter is how long a peer may have no parent in any stripe (no
	// data channel opened, or no neighbour with a path) before it fetches
	// every chunk from the origin as soon as the chunk is due, instead of
	// FallbackAfter later (default 2 s). Without parents nothing announces
	// new chunks: it predicts them from the tracker's Live and the chunk
	// interval. See docs/PROTOCOL.md §3.7.
	LonelyAfter time.Duration
	// DueMargin is how long after its predicted publication a lonely peer
	// fetches a chunk (default 100 ms): the prediction errs late already
	// (a Live arrives after the chunk it names was published), so this
	// only covers jitter in the stream's chunk times.
	DueMargin time.Duration
	// StatusInterval is how often a peer sends its Status to every
	// neighbour (default 2 s); it also sends one when a channel opens and,
	// to its children, whenever its depth changes.
	StatusInterval time.Duration
	// SubscribeTimeout is how long a subscription may wait for its first
	// chunk before the peer tries another parent (default 1.5 s).
	SubscribeTimeout time.Duration
	// StarveRounds is how many whole rounds of a stripe (Stripes chunks
	// each) may pass without a chunk from its parent before the peer
	// leaves that parent (default 2).
	StarveRounds int
	// MaxDepth is the deepest a peer may sit in a stripe tree (default 32);
	// deeper, as in a loop, it counts as having no parent.
	MaxDepth int
	// MaxInflight bounds the requests outstanding to one neighbour
	// (default 8).
	MaxInflight int
	// MaxFetches bounds the origin fetches outstanding at once (default 8).
	MaxFetches int
	// ServeRate bounds the requests served to one neighbour, per second,
	// with a burst of twice as many (default 16); requests beyond it get
	// NotFound.
	ServeRate int
	// MaxPeers bounds the neighbours the engine tracks (default 32);
	// connections beyond it are refused with a Disconnect.
	MaxPeers int
	// Rand breaks ties between equally good neighbours. Required.
	Rand *rand.Rand
}

// WithDefaults returns c with its zero fields set to the defaults above, as
// New uses it, or an error if c is invalid.
func (c Config) WithDefaults() (Config, error) {
	out := c
	if out.Rand == nil {
		return out, errors.New("swarm: Config.Rand is required")
	}
	setInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	setInt(&out.Stripes, 4)
	setInt(&out.Window, 128)
	setInt(&out.JoinBacklog, 12)
	setInt(&out.StarveRounds, 2)
	setInt(&out.MaxDepth, 32)
	setInt(&out.MaxInflight, 8)
	setInt(&out.MaxFetches, 8)
	setInt(&out.ServeRate, 16)
	setInt(&out.MaxPeers, 32)
	setDur(&out.RepairAfter, 400*time.Millisecond)
	setDur(&out.RequestTimeout, 600*time.Millisecond)
	setDur(&out.FallbackAfter, 1200*time.Millisecond)
	setDur(&out.LonelyAfter, 2*time.Second)
	setDur(&out.DueMargin, 100*time.Millisecond)
	setDur(&out.StatusInterval, 2*time.Second)
	setDur(&out.SubscribeTimeout, 1500*time.Millisecond)
	if out.Upload <= 0 {
		out.Upload = 1
	}
	if out.SlotShare <= 0 || out.SlotShare > 1 {
		out.SlotShare = 0.9
	}
	if out.Slots <= 0 {
		out.Slots = int(out.Upload * float64(out.Stripes) * out.SlotShare)
	}
	if out.Origin {
		// The origin roots every stripe's tree: with fewer slots than
		// stripes, a stripe would reach the swarm only by repair.
		out.Slots = max(out.Slots, out.Stripes)
	}
	out.Slots = min(out.Slots, 255)
	switch {
	case out.Stripes > wire.MaxStripes:
		return out, fmt.Errorf("swarm: %d stripes > %d", out.Stripes, wire.MaxStripes)
	case out.JoinBacklog >= out.Window:
		return out, errors.New("swarm: JoinBacklog must be smaller than Window")
	case out.Window > 64*1024:
		return out, errors.New("swarm: Window over 65536 chunks")
	case out.MaxDepth >= int(wire.NoDepth):
		return out, fmt.Errorf("swarm: MaxDepth must be below %d", wire.NoDepth)
	}
	return out, nil
}

// Stats counts what the engine has done. All byte counts are payload bytes.
type Stats struct {
	Peers            int    // neighbours with an open data channel
	Chunks           int    // distinct chunks delivered
	ChunksFromPeers  int    // of which a non-origin neighbour sent
	ChunksFromOrigin int    // of which the origin sent or a fetch got
	BytesFromPeers   int64  //
	BytesFromOrigin  int64  //
	Pushed           int    // chunks that arrived pushed by a stripe parent
	Duplicates       int    // chunks received again after we had them
	Uploaded         int64  // payload bytes sent to neighbours
	Requests         int    // repair requests sent
	Fetches          int    // origin fetches asked for
	Probes           int    // of which for chunks predicted due that nothing had announced (no parents)
	Missed           int    // chunks that left the window before arriving
	Dropped          int    // messages ignored as useless, malformed or out of window
	Refused          int    // requests answered NotFound for lack of the chunk or of rate
	Newest           uint64 // newest sequence number known
	Held             int    // chunks held now (bounded by Window)
	Parents          int    // stripes with a parent now
	Children         int    // stripe subscriptions served now (bounded by Slots)
	Slots            int    // stripe subscriptions this peer may serve
	Depth            int    // deepest of this peer's stripes (0 for the origin, -1 without parents)
	ParentChanges    int    // subscriptions sent
	Preempted        int    // children dropped for a stronger one
	Refusals         int    // subscriptions a neighbour refused
	Orphaned         int    // times a parent dropped us
	Starved          int    // parents left for not pushing
	Loops            int    // parents left for a depth over MaxDepth
	Unanswered       int    // subscriptions that timed out
	Stalls           int    // Ticks over 500 ms apart: the driver was starved of CPU
}
