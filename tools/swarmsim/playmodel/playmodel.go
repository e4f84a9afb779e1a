// Package playmodel models how frontend/lib/player.js plays a live stream
// of chunks, so that the simulator (tools/swarmsim) and the real-network
// check (tools/swarmload) score startup, latency behind live and
// rebuffering the same way.
//
// The model player joins at a keyframe chunk: among the chunks that arrived
// within JoinWait of its first one, the newest keyframe at least JoinSlack
// short of its target latency behind live, else the oldest keyframe it
// holds, else the first keyframe that arrives later. It starts once it
// holds that chunk and the StartupChunks-1 after it, then plays one chunk
// per interval: 10% faster from more than the target+250 ms behind live
// until back at the target, with over 1 s buffered, 5% slower with only the playing chunk buffered,
// and it jumps to the target behind the newest chunk when over 6 s behind
// it (1 s in the first 5 s of playback). The target starts at TargetLatency, moves 250 ms back at each stall
// (up to 4 s) and 100 ms forward after 30 s without one. A missing due
// chunk stalls playback until it arrives; one the engine can no longer get
// (Window behind the newest delivered) is skipped. Unlike the real player
// it does not skip a chunk missing for over 1.5 s: it waits for it; it
// decides a jump the moment a chunk is due, not at the real player's next
// 200 ms look, so it may jump to an older chunk. Nor does it model the
// page's start over HTTP (frontend/lib/httpfeed.js), which joins at once at
// the first answer's keyframe.
//
// Latency behind live is counted as the player counts it: from the frame
// at the playhead, so a chunk starting to play is behind live by the time
// since its publication (its cut) plus one interval, its own media.
//
// testdata/vectors.json holds decisions (join, play, wait, skip, jump) that
// this package's test and player.js's (frontend/test/player.test.mjs) both
// check; a vector marked divergent says where, and why, the model differs.
//
// The model runs lazily: Advance plays everything due by a time, so it
// needs no timer of its own. Times are nanoseconds on any one clock.
package playmodel

import "time"

// The real player's constants (frontend/lib/player.js).
const (
	TargetLatency = int64(1500 * time.Millisecond)
	JoinWait      = int64(150 * time.Millisecond)
	JoinSlack     = int64(500 * time.Millisecond)

	catchUpMargin = int64(250 * time.Millisecond)
	catchUpBuffer = int64(time.Second)
	slowBuffer    = int64(250 * time.Millisecond)
	stallStep     = int64(250 * time.Millisecond)
	maxTarget     = int64(4 * time.Second)
	calmTime      = int64(10 * time.Second) // as lib/player.js's CALM_MS
	calmStep      = int64(100 * time.Millisecond)
	jumpBehind    = int64(6 * time.Second)
	startJump     = int64(time.Second)     // in the first startWindow
	startWindow   = int64(5 * time.Second) // of playback
)

// ringSize bounds how far ahead of the playhead the player remembers
// arrivals.
const ringSize = 256

// Config shapes a Player.
type Config struct {
	Interval      int64 // media time per chunk, ns
	StartupChunks int   // chunks held from the join point before playing (default 3)
	Window        int   // the engine's window: a missing chunk this far behind the newest delivered is skipped (default 128)
	// OnPlay, when set, is called for every chunk played with when it
	// played and how far behind live it was then: the time since its
	// first frame's media was live, one interval before its publication
	// (behind).
	OnPlay func(seq uint64, at, latency int64)
}

// Stats is what a player saw.
type Stats struct {
	Started       bool
	FirstDelivery int64 // when the first chunk arrived (-1: none)
	StartAt       int64 // when playback started
	Stalled       int64 // ns spent stalled after the start
	Stalls        int
	Skipped       int // chunks skipped as lost
	Jumps         int // catch-up jumps
	Played        int
	TargetLatency int64 // the target at the end
	WatchedUntil  int64 // when Finish was called
}

// Player is one viewer's model player. It is not safe for concurrent use.
type Player struct {
	cfg Config

	first   int64 // first delivery, -1 before
	picked  bool  // join point chosen
	started bool
	ended   bool
	k0      uint64
	next    uint64 // next chunk to play
	due     int64  // when next is due
	target  int64  // latency aimed at
	fast    bool   // catching up: fast until back at the target
	calm    int64  // when the target last moved
	st      Stats

	minSeq, maxSeq uint64
	any            bool
	ring           []arrival
}

type arrival struct {
	tag uint64 // seq+1, 0 = empty
	at  int64  // delivered
	pub int64  // published at the origin
	key bool   // a keyframe chunk: a join point
}

// New returns a player that has received nothing yet.
func New(cfg Config) *Player {
	if cfg.StartupChunks <= 0 {
		cfg.StartupChunks = 3
	}
	if cfg.Window <= 0 {
		cfg.Window = 128
	}
	return &Player{cfg: cfg, first: -1, target: TargetLatency, ring: make([]arrival, ringSize)}
}

func (pl *Player) held(seq uint64) (arrival, bool) {
	a := pl.ring[seq%ringSize]
	return a, a.tag == seq+1
}

// Started reports whether playback has started.
func (pl *Player) Started() bool { return pl.started }

// Stats returns what the player saw so far.
func (pl *Player) Stats() Stats {
	s := pl.st
	s.Started, s.FirstDelivery, s.TargetLatency = pl.started, pl.first, pl.target
	return s
}

// Deliver records that chunk seq, published at pub, arrived at at, and
// plays what is due by then. It reports whether playback started with it.
func (pl *Player) Deliver(seq uint64, at, pub int64, key bool) (startedNow bool) {
	if pl.ended {
		return false
	}
	if pl.first < 0 {
		pl.first = at
	}
	if (pl.started && seq < pl.next) || (pl.picked && seq < pl.k0) {
		return false // too late to play
	}
	pl.ring[seq%ringSize] = arrival{tag: seq + 1, at: at, pub: pub, key: key}
	if !pl.any || seq < pl.minSeq {
		pl.minSeq = seq
	}
	if !pl.any || seq > pl.maxSeq {
		pl.maxSeq = seq
	}
	pl.any = true
	if !pl.started {
		if !pl.tryStart(at) {
			return false
		}
		startedNow = true
	}
	pl.Advance(at)
	return startedNow
}

// tryStart picks the join point and starts playback once the chunks from
// it are held.
func (pl *Player) tryStart(now int64) bool {
	if !pl.picked {
		if now < pl.first+JoinWait {
			return false
		}
		cut := pl.first + JoinWait
		lo := pl.minSeq
		if pl.maxSeq >= ringSize && lo < pl.maxSeq-ringSize+1 {
			lo = pl.maxSeq - ringSize + 1
		}
		var best, late, oldest uint64
		var found, foundLate, foundOld bool
		var lateAt int64
		for k := lo; k <= pl.maxSeq; k++ {
			a, ok := pl.held(k)
			switch {
			case !ok || !a.key:
			case a.at <= cut:
				if !foundOld {
					oldest, foundOld = k, true
				}
				if cut-a.pub >= pl.target-JoinSlack {
					best, found = k, true
				}
			case !foundLate || a.at < lateAt:
				late, lateAt, foundLate = k, a.at, true
			}
		}
		switch {
		case found:
		case foundOld:
			best = oldest
		case foundLate:
			best = late
		default:
			return false
		}
		pl.picked, pl.k0 = true, best
	}
	start := pl.first + JoinWait
	for k := pl.k0; k < pl.k0+uint64(pl.cfg.StartupChunks); k++ {
		a, ok := pl.held(k)
		if !ok {
			return false
		}
		start = max(start, a.at)
	}
	pl.started = true
	pl.next, pl.due, pl.calm = pl.k0, start, start
	pl.st.StartAt = start
	return true
}

// Advance plays every chunk due by t.
func (pl *Player) Advance(t int64) {
	window := uint64(pl.cfg.Window)
	for pl.started && !pl.ended {
		a, ok := pl.held(pl.next)
		if !ok {
			// The engine forgets a chunk Window behind the newest: skip it.
			if pl.due < t && pl.maxSeq+1 > pl.next+window {
				pl.st.Stalled += t - pl.due
				pl.st.Stalls++
				pl.st.Skipped++
				pl.next++
				pl.due = t
				continue
			}
			return
		}
		if a.at > pl.due {
			pl.st.Stalled += a.at - pl.due
			pl.st.Stalls++
			pl.due = a.at
			pl.target, pl.calm = min(maxTarget, pl.target+stallStep), a.at
		} else if pl.due-pl.calm > calmTime && pl.target > TargetLatency {
			pl.target, pl.calm = max(TargetLatency, pl.target-calmStep), pl.due
		}
		if pl.due > t {
			return
		}
		if pl.jump(a) {
			continue
		}
		pl.st.Played++
		latency := pl.behind(a)
		if pl.cfg.OnPlay != nil {
			pl.cfg.OnPlay(pl.next, pl.due, latency)
		}
		pl.next++
		pl.due += pl.playTime(latency)
	}
}

// behind is how far behind live the playhead is as chunk a starts to play
// at pl.due, counted as player.js counts it: the live edge (the newest
// media end, advanced by the time since that media was cut) less the
// playhead, the start of a's media. A chunk is cut, and published, when
// its media ends: its start was live one interval before.
func (pl *Player) behind(a arrival) int64 {
	return pl.due - (a.pub - pl.cfg.Interval)
}

// jump moves a playhead more than 6 s behind its target (1 s in the first
// 5 s of playback) to the target behind the newest chunk held, if that
// chunk had arrived by the time due.
func (pl *Player) jump(a arrival) bool {
	far := jumpBehind
	if pl.due-pl.st.StartAt < startWindow {
		far = startJump
	}
	if pl.behind(a) <= pl.target+far {
		return false
	}
	back := uint64(pl.target / pl.cfg.Interval)
	if pl.maxSeq+1 < back {
		return false
	}
	to := pl.maxSeq + 1 - back
	if to <= pl.next {
		return false
	}
	if b, ok := pl.held(to); !ok || b.at > pl.due {
		return false
	}
	pl.next = to
	pl.st.Jumps++
	return true
}

// playTime is how long the chunk that starts playing at pl.due plays,
// given the playhead's latency behind live then: the interval, shortened
// or stretched by the rate steering. The buffer counts that chunk and
// those after it that had arrived by then; with that chunk alone buffered,
// the real player's buffer runs under 250 ms as it plays. It records
// whether the player is catching up (pl.fast), as player.js does once per
// tick: called once per chunk played.
func (pl *Player) playTime(latency int64) int64 {
	iv := pl.cfg.Interval
	n := int64(1)
	for k := pl.next; n < 16; k++ {
		a, ok := pl.held(k)
		if !ok || a.at > pl.due {
			break
		}
		n++
	}
	buffered := n * iv
	over := latency - pl.target
	pl.fast = buffered > catchUpBuffer && (over > catchUpMargin || (pl.fast && over > 0))
	switch {
	case pl.fast:
		return iv * 10 / 11
	case buffered <= slowBuffer:
		return iv * 100 / 95
	}
	return iv
}

// Finish plays what is due by t, counts an ongoing stall and stops the
// player. It reports false if the player had already stopped.
func (pl *Player) Finish(t int64) bool {
	if pl.ended {
		return false
	}
	pl.Advance(t)
	if pl.started {
		if _, ok := pl.held(pl.next); !ok && pl.due < t {
			pl.st.Stalled += t - pl.due
			pl.st.Stalls++
		}
	}
	pl.st.WatchedUntil = t
	pl.ended = true
	pl.ring = nil
	return true
}
