package main

import "time"

// The player model is tools/swarmsim/sim/player.go's, ported to wall-clock
// nanoseconds since the run started, so that the two tools' startup,
// latency and rebuffering figures mean the same thing. Keep them in step.

// ringSize bounds how far ahead of the playhead the player remembers
// arrivals; twice the engine's default window.
const ringSize = 128

// The player joins at a keyframe chunk, choosing among what arrived within
// joinWait of its first chunk (as frontend/lib/player.js does).
const (
	keyframeEvery = 4 // synthetic stream: every 4th chunk, as the simulator assumes
	joinWait      = int64(150 * time.Millisecond)
)

// Latency steering, as frontend/lib/player.js does it: play 10% fast while
// the playhead is more than targetLatency+250 ms behind live and over 1 s is
// buffered, 5% slow while under 250 ms is.
const (
	targetLatency = int64(1500 * time.Millisecond)
	catchUpOver   = targetLatency + int64(250*time.Millisecond)
	catchUpBuffer = int64(time.Second)
	slowBuffer    = int64(250 * time.Millisecond)
)

// player is the model player of one viewer: it starts once it holds `need`
// consecutive chunks from a keyframe chunk on, plays one chunk per
// interval, and stalls when the chunk due is missing. It runs lazily:
// advance plays everything due up to a time, so it needs no timer.
type player struct {
	need    int
	picked  bool // k0 chosen
	started bool
	ended   bool
	k0      uint64
	next    uint64 // next chunk to play
	due     int64  // when next is due
	startAt int64

	stalled int64 // ns
	stalls  int
	skipped int
	played  int

	minSeq, maxSeq uint64
	any            bool
	ring           []arrival
}

type arrival struct {
	tag uint64 // seq+1, 0 = empty
	at  int64  // delivered, ns since the run started
	pub int64  // the chunk's timestamp (cut at the origin), same clock
	key bool   // a join point
}

func (pl *player) init(need int) {
	pl.need = need
	pl.ring = make([]arrival, ringSize)
}

func (pl *player) held(seq uint64) (arrival, bool) {
	a := pl.ring[seq%ringSize]
	return a, a.tag == seq+1
}

// tryStart picks the first chunk to play and starts playback once the
// player holds it and the need-1 after it: it waits joinWait after the
// first chunk arrived, then joins at the newest keyframe chunk it holds;
// if it holds none, at the first keyframe chunk that arrives later.
func (l *load) tryStart(v *viewer, now int64) bool {
	pl := &v.pl
	if !pl.picked {
		if now < v.firstDel+joinWait {
			return false
		}
		cut := v.firstDel + joinWait
		lo := pl.minSeq
		if pl.maxSeq >= ringSize && lo < pl.maxSeq-ringSize+1 {
			lo = pl.maxSeq - ringSize + 1
		}
		var best, late uint64
		var found, foundLate bool
		var lateAt int64
		for k := lo; k <= pl.maxSeq; k++ {
			a, ok := pl.held(k)
			switch {
			case !ok || !a.key:
			case a.at <= cut:
				best, found = k, true
			case !foundLate || a.at < lateAt:
				late, lateAt, foundLate = k, a.at, true
			}
		}
		if !found {
			if !foundLate {
				return false
			}
			best = late
		}
		pl.picked, pl.k0 = true, best
	}
	start := v.firstDel + joinWait
	for k := pl.k0; k < pl.k0+uint64(pl.need); k++ {
		a, ok := pl.held(k)
		if !ok {
			return false
		}
		start = max(start, a.at)
	}
	pl.started = true
	pl.next, pl.due, pl.startAt = pl.k0, start, start
	l.m.startup = append(l.m.startup, start-v.joined)
	return true
}

// playerDeliver records that v's node delivered a chunk at now.
func (l *load) playerDeliver(v *viewer, seq uint64, now, pub int64, key bool) {
	pl := &v.pl
	if pl.ended {
		return
	}
	if (pl.started && seq < pl.next) || (pl.picked && seq < pl.k0) {
		return // too late to play
	}
	pl.ring[seq%ringSize] = arrival{tag: seq + 1, at: now, pub: pub, key: key}
	if !pl.any || seq < pl.minSeq {
		pl.minSeq = seq
	}
	if !pl.any || seq > pl.maxSeq {
		pl.maxSeq = seq
	}
	pl.any = true
	if !pl.started && !l.tryStart(v, now) {
		return
	}
	l.advance(v, now)
}

// advance plays every chunk due by t.
func (l *load) advance(v *viewer, t int64) {
	pl := &v.pl
	window := uint64(l.cfg.Window)
	interval := int64(l.cfg.ChunkInterval)
	for pl.started {
		a, ok := pl.held(pl.next)
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
		if a.at > pl.due {
			pl.stalled += a.at - pl.due
			pl.stalls++
			pl.due = a.at
		}
		if pl.due > t {
			return
		}
		pl.played++
		l.m.playLatency.add(pl.due - a.pub)
		l.m.bucketAt(pl.due).latency(pl.due - a.pub)
		pl.next++
		pl.due += chunkPlayTime(pl, pl.due-a.pub, interval)
	}
}

// chunkPlayTime is how long the chunk that starts playing at pl.due plays,
// given the playhead's latency behind live then: the interval, shortened or
// stretched by the player's rate steering. The buffer counts that chunk and
// those after it that had arrived by then; with that chunk alone buffered,
// the real player's buffer runs under 250 ms as it plays.
func chunkPlayTime(pl *player, latency, interval int64) int64 {
	start := pl.due
	n := int64(1)
	for k := pl.next; n < 8; k++ {
		a, ok := pl.held(k)
		if !ok || a.at > start {
			break
		}
		n++
	}
	buffered := n * interval
	switch {
	case latency > catchUpOver && buffered > catchUpBuffer:
		return interval * 10 / 11
	case buffered <= slowBuffer:
		return interval * 100 / 95
	}
	return interval
}

// finishPlayer plays what is due by t, counts an ongoing stall and stops.
func (l *load) finishPlayer(v *viewer, t int64) {
	pl := &v.pl
	if pl.ended {
		return
	}
	l.advance(v, t)
	if pl.started {
		if _, ok := pl.held(pl.next); !ok && pl.due < t {
			pl.stalled += t - pl.due
			pl.stalls++
		}
		m := &l.m
		m.watch += t - pl.startAt
		m.stalled += pl.stalled
		m.stalls += pl.stalls
		m.skipped += pl.skipped
		m.played += pl.played
		if pl.stalled > 0 {
			m.viewersStalled++
		}
		m.started++
	}
	pl.ended = true
	pl.ring = nil
}
