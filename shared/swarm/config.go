package swarm

import (
	"errors"
	"math/rand/v2"
	"time"
)

// Config tunes an Engine. Zero durations and counts take the defaults
// below; Rand is required so that runs are reproducible.
type Config struct {
	// Origin makes this engine the stream's origin: it accepts Published
	// events, pushes every chunk to OriginFanout neighbours and never
	// requests anything.
	Origin bool
	// Window is how many chunks behind the newest a peer keeps and trades
	// (default 64). Older chunks are forgotten.
	Window int
	// JoinBacklog is how many chunks behind the newest known one a joining
	// peer starts (default 4).
	JoinBacklog int
	// RequestTimeout is how long a request may stay unanswered before the
	// chunk is asked of another neighbour (default 1 s).
	RequestTimeout time.Duration
	// FallbackAfter is how long a chunk may be known and missing before it
	// is fetched from the origin (default 2 s).
	FallbackAfter time.Duration
	// MaxInflight bounds the requests outstanding to one neighbour
	// (default 8).
	MaxInflight int
	// MaxFetches bounds the origin fetches outstanding at once (default 8).
	MaxFetches int
	// OriginFanout is how many neighbours an origin pushes each chunk to
	// (default 1), taken in turn.
	OriginFanout int
	// MaxPeers bounds the neighbours the engine tracks (default 32);
	// connections beyond it are refused with a Disconnect.
	MaxPeers int
	// Rand picks among equally good neighbours. Required.
	Rand *rand.Rand
}

func (c *Config) withDefaults() (Config, error) {
	out := *c
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
	setInt(&out.Window, 64)
	setInt(&out.JoinBacklog, 4)
	setInt(&out.MaxInflight, 8)
	setInt(&out.MaxFetches, 8)
	setInt(&out.OriginFanout, 1)
	setInt(&out.MaxPeers, 32)
	setDur(&out.RequestTimeout, time.Second)
	setDur(&out.FallbackAfter, 2*time.Second)
	if out.JoinBacklog >= out.Window {
		return out, errors.New("swarm: JoinBacklog must be smaller than Window")
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
	Duplicates       int    // chunks received again after we had them
	Uploaded         int64  // payload bytes sent to neighbours
	Requests         int    // requests sent
	Fetches          int    // origin fetches asked for
	Missed           int    // chunks that left the window before arriving
	Dropped          int    // messages ignored as useless or out of window
	Newest           uint64 // newest chunk sequence number known
	Held             int    // chunks held now (bounded by Window)
}
