package sim

import "time"

// ringSize bounds how far ahead of the playhead the player remembers
// arrivals; twice the engine's default window.
const ringSize = 256

// The player joins at a keyframe chunk (one a second, as the
// 1 s keyframe interval asked of broadcasters gives with 250 ms chunks),
// choosing among what arrived within joinWait of its first chunk.
const (
	joinWait      = int64(150 * time.Millisecond)
	joinSlack     = int64(500 * time.Millisecond) // as JOIN_SLACK in player.js
)

// Latency steering, as frontend/lib/player.js does it: play 10% fast while
// the playhead is more than the target+250 ms behind live and over 1 s is
// buffered, 5% slow while under 250 ms is. The target starts at
// targetLatency, moves back by stallStep at each stall (up to maxTarget)
// and forward by calmStep after calmTime without one.
const (
	targetLatency = int64(1500 * time.Millisecond)
	catchUpMargin = int64(250 * time.Millisecond)
	catchUpBuffer = int64(time.Second)
	slowBuffer    = int64(250 * time.Millisecond)
	stallStep     = int64(250 * time.Millisecond)
	maxTarget     = int64(4 * time.Second)
	calmTime      = int64(30 * time.Second)
	calmStep      = int64(100 * time.Millisecond)
)

// player is the model player of one viewer: it starts once it holds
// `need` consecutive chunks, plays one chunk per interval, and stalls when
// the chunk due is missing. It runs lazily: advance plays everything due
// up to now, so it needs no events of its own.
type player struct {
	need    int
	picked  bool // k0 chosen
	started bool
	ended   bool
	k0      uint64
	next    uint64 // next chunk to play
	due     int64  // when next is due
	startAt int64

	target  int64 // latency aimed at, ns
	calm    int64 // when the target last moved
	stalled int64 // ns
	stalls  int
	skipped int
	jumps   int
	played  int

	minSeq, maxSeq uint64
	any            bool
	ring           []arrival
}

type arrival struct {
	tag uint64 // seq+1, 0 = empty
	at  int64
}

func (pl *player) init(need int) {
	pl.need = need
	pl.target = targetLatency
	pl.ring = make([]arrival, ringSize)
}

func (pl *player) held(seq uint64) (int64, bool) {
	a := pl.ring[seq%ringSize]
	return a.at, a.tag == seq+1
}

// tryStart picks the first chunk to play and starts playback once the
// player holds it and the StartupChunks-1 after it. Like
// frontend/lib/player.js, the player waits JoinWait after the first chunk
// arrives and then joins at the newest keyframe chunk (every 4th) it holds;
// if it holds none, at the first keyframe chunk that arrives later.
func (s *Sim) tryStart(p *peer) bool {
	pl := &p.pl
	if !pl.picked {
		if s.now < p.firstDel+joinWait {
			return false
		}
		cut := p.firstDel + joinWait
		lo := pl.minSeq
		if pl.maxSeq >= ringSize && lo < pl.maxSeq-ringSize+1 {
			lo = pl.maxSeq - ringSize + 1
		}
		var best, late, oldest uint64
		var found, foundLate, foundOld bool
		var lateAt int64
		for k := lo; k <= pl.maxSeq; k++ {
			at, ok := pl.held(k)
			switch {
			case !ok || k%s.keyEvery() != 0:
			case at <= cut:
				if !foundOld {
					oldest, foundOld = k, true
				}
				if cut-int64(k)*s.interval >= targetLatency-joinSlack {
					best, found = k, true
				}
			case !foundLate || at < lateAt:
				late, lateAt, foundLate = k, at, true
			}
		}
		if !found && foundOld {
			best, found = oldest, true
		}
		if !found {
			if !foundLate {
				return false
			}
			best = late
		}
		pl.picked, pl.k0 = true, best
	}
	start := p.firstDel + joinWait
	for k := pl.k0; k < pl.k0+uint64(pl.need); k++ {
		at, ok := pl.held(k)
		if !ok {
			return false
		}
		start = max(start, at)
	}
	pl.started = true
	pl.next, pl.due, pl.startAt, pl.calm = pl.k0, start, start, start
	s.m.startup = append(s.m.startup, start-p.joined)
	return true
}

// playerDeliver records that p's engine delivered seq now.
func (s *Sim) playerDeliver(p *peer, seq uint64) {
	pl := &p.pl
	if pl.ended {
		return
	}
	if (pl.started && seq < pl.next) || (pl.picked && seq < pl.k0) {
		return // too late to play
	}
	pl.ring[seq%ringSize] = arrival{tag: seq + 1, at: s.now}
	if !pl.any || seq < pl.minSeq {
		pl.minSeq = seq
	}
	if !pl.any || seq > pl.maxSeq {
		pl.maxSeq = seq
	}
	pl.any = true
	if !pl.started && !s.tryStart(p) {
		return
	}
	s.advance(p, s.now)
}

// advance plays every chunk due by t.
func (s *Sim) advance(p *peer, t int64) {
	pl := &p.pl
	window := uint64(s.window())
	for pl.started {
		at, ok := pl.held(pl.next)
		if !ok {
			// The engine forgets a chunk Window behind the newest: skip it.
			if pl.due < t && pl.maxSeq+1 > pl.next+window {
				pl.stalled += t - pl.due
				pl.stalls++
				pl.skipped++
				pl.next++
				pl.due = t
				continue
			}
			return
		}
		if at > pl.due {
			pl.stalled += at - pl.due
			pl.stalls++
			pl.due = at
			pl.target, pl.calm = min(maxTarget, pl.target+stallStep), at
		} else if pl.due-pl.calm > calmTime && pl.target > targetLatency {
			pl.target, pl.calm = max(targetLatency, pl.target-calmStep), pl.due
		}
		if pl.due > t {
			return
		}
		if s.jump(pl) {
			continue
		}
		pl.played++
		s.m.latency.add(pl.due - int64(pl.next)*s.interval)
		s.m.bucketAt(pl.due).latency(pl.due, pl.due-int64(pl.next)*s.interval)
		if s.opt.OnPlay != nil {
			s.opt.OnPlay(int(p.idx), pl.next, time.Duration(pl.due))
		}
		pl.next++
		pl.due += s.chunkPlayTime(pl, pl.due-int64(pl.next-1)*s.interval)
	}
}

// jump moves a playhead more than 6 s behind its target latency to the
// target behind the newest chunk held, as frontend/lib/player.js does, if
// that chunk had arrived by the time due.
func (s *Sim) jump(pl *player) bool {
	if pl.due-int64(pl.next)*s.interval <= pl.target+int64(6*time.Second) {
		return false
	}
	to := pl.maxSeq + 1 - uint64(pl.target/s.interval)
	if to <= pl.next {
		return false
	}
	if at, ok := pl.held(to); !ok || at > pl.due {
		return false
	}
	pl.next = to
	pl.jumps++
	return true
}

// chunkPlayTime is how long the chunk that starts playing at pl.due plays,
// given the playhead's latency behind live then: the interval, shortened or
// stretched by the player's rate steering. The buffer counts that chunk and
// those after it that had arrived by then; with that chunk alone buffered,
// the real player's buffer runs under 250 ms as it plays.
func (s *Sim) chunkPlayTime(pl *player, latency int64) int64 {
	start := pl.due
	n := int64(1)
	for k := pl.next; n < 8; k++ {
		at, ok := pl.held(k)
		if !ok || at > start {
			break
		}
		n++
	}
	buffered := n * s.interval
	switch {
	case latency > pl.target+catchUpMargin && buffered > catchUpBuffer:
		return s.interval * 10 / 11
	case buffered <= slowBuffer:
		return s.interval * 100 / 95
	}
	return s.interval
}

// keyEvery is how many chunks apart keyframes are: one a second, the
// keyframe interval asked of broadcasters.
func (s *Sim) keyEvery() uint64 {
	return uint64(max(1, (int64(time.Second)+s.interval/2)/s.interval))
}

func (s *Sim) window() int {
	if s.sc.Window > 0 {
		return s.sc.Window
	}
	return 128 // the engine's default
}

// finishPlayer plays what is due by t, counts an ongoing stall and stops.
func (s *Sim) finishPlayer(p *peer, t int64) {
	pl := &p.pl
	if pl.ended {
		return
	}
	s.advance(p, t)
	if pl.started {
		if _, ok := pl.held(pl.next); !ok && pl.due < t {
			pl.stalled += t - pl.due
			pl.stalls++
		}
		s.m.watch += t - pl.startAt
		s.m.stalled += pl.stalled
		s.m.stalls += pl.stalls
		s.m.skipped += pl.skipped
		s.m.jumps += pl.jumps
		s.m.played += pl.played
		if pl.stalled > 0 {
			s.m.viewersStalled++
		}
		s.m.started++
	}
	pl.ended = true
	pl.ring = nil
}
