package swarm

import "time"

// This file is what a peer does with the tracker's word on the live edge
// (Live): where a joiner starts, and how a peer that no neighbour reaches
// keeps up with the stream over HTTP (docs/PROTOCOL.md §3.7-3.8).

// maxProbeBackoff bounds the wait after probes that found the next chunk
// not yet published: a stream that stopped costs a lonely peer one fetch
// every 2 s.
const maxProbeBackoff = 2 * time.Second

// quietRounds is how many whole rounds of the stripes (Stripes chunk
// intervals each) may pass without a push from any parent before a peer
// takes the tracker's Live for the live edge: each parent pushes once a
// round, however deep the peer sits.
const quietRounds = 2

// onLive takes the tracker's word on the live edge. It is trusted, unlike
// a neighbour's Status: the tracker has it from the origin.
func (e *Engine) onLive(ev Live) {
	e.liveSeq, e.liveAt, e.probeFails = ev.Newest, e.now, 0
	if !e.started {
		e.join(ev)
		return
	}
	// A peer with a parent hears of new chunks from its trees (and times
	// its repairs from when it does), however deep it sits; one without
	// has nobody else to hear it from. But trees from which nothing came
	// for quietRounds rounds have gone quiet (a parent's tab starved of
	// CPU, and under it every neighbour): without the tracker's word the
	// peer would know of nothing missing, and play out its buffer and
	// freeze until the parent woke. A jump beyond the window is a new run
	// of the origin, whose numbers start above the old ones: believed
	// whatever.
	if e.parents() > 0 && !e.treesQuiet() && ev.Newest < e.newest+uint64(e.cfg.Window) {
		return
	}
	old := e.newest
	e.learn(ev.Newest)
	// Chunk Newest-i was published about i intervals before this Live
	// arrived: its deadlines count from then, as a probe's would.
	ivl := e.interval()
	for s := max(old+1, ev.Newest-min(ev.Newest, uint64(e.cfg.Window-1))); s <= ev.Newest; s++ {
		if sl := e.buf.slot(s); sl != nil && !sl.held {
			if due := e.now.Add(-time.Duration(ev.Newest-s) * ivl); due.Before(sl.seen) {
				sl.seen = due
			}
		}
	}
}

// join starts the peer from a Live: at From when the player has the rest;
// else at the newest keyframe, so that the
// player has a keyframe to start at whatever the stream's keyframe
// interval, or JoinBacklog behind the newest chunk if that is older (the
// player then starts with that much buffered, as it likes to), but never
// more than 3/4 of the window behind, so that the fetches have a quarter
// of the window (4 s by default) to come back before the ring reuses their
// slots. With a keyframe older than that the player waits for the next.
func (e *Engine) join(ev Live) {
	if e.covered > ev.From {
		ev.From = e.covered // the page got further while the welcome came
	}
	n := ev.Newest
	oldest := n - min(n, uint64(e.cfg.Window*3/4))
	start := n - min(n, uint64(e.cfg.JoinBacklog))
	switch f := ev.From; {
	case f > n:
		start, n = f, f-1 // ahead of the tracker: nothing to fetch yet
	case f != 0 && f >= oldest:
		start = f
	default:
		if k := ev.Keyframe; k != 0 && k <= n && k < start {
			start = min(start, max(k, oldest))
		}
	}
	e.begin(start, n)
	e.joinLive = true
	if k := ev.Keyframe; k != 0 && k <= n {
		e.joinKey = k
	}
	if !e.cfg.NoJoinFetch {
		for s := start; s <= n; s++ {
			e.fetch(e.buf.slot(s))
		}
	}
}

// cover takes the player's word that it has every chunk before before
// (Covered): they exist, and nobody need be asked for them.
func (e *Engine) cover(before uint64) {
	if before <= e.covered {
		return
	}
	e.covered = before
	if e.started && before-1 > e.newest && before-1 < e.newest+uint64(e.cfg.Window) {
		e.learn(before - 1)
	}
}

// treesQuiet reports whether the peer has parents and none of them pushed
// anything for quietRounds rounds.
func (e *Engine) treesQuiet() bool {
	var last time.Time
	for s := range e.stripes {
		if st := &e.stripes[s]; st.parent != nil {
			last = later(last, st.heard())
		}
	}
	return !last.IsZero() && e.now.Sub(last) >= quietRounds*e.round()
}

// lonely reports whether the peer has had no parent in any stripe for
// LonelyAfter: no data channel opened, or no neighbour has a path.
func (e *Engine) lonely() bool {
	return !e.aloneSince.IsZero() && e.now.Sub(e.aloneSince) >= e.cfg.LonelyAfter
}

// probe fetches, while the peer has no parent, the chunks that the last
// Live and the chunk interval say are published by now, although nothing
// has announced them (nothing would: announcements come from parents).
// Chunk liveSeq+k is due k intervals after the Live arrived, which errs
// late, as the Live left the tracker after its chunk was published. A
// lonely peer fetches a chunk DueMargin after it is due; one that may yet
// find parents (a joiner whose channels are opening) waits FallbackAfter
// past that, as it would for a chunk it knew of.
func (e *Engine) probe() {
	if !e.started || e.liveAt.IsZero() || e.aloneSince.IsZero() {
		return
	}
	el := e.now.Sub(e.liveAt) - e.probeWait()
	if el < 0 {
		return
	}
	due := e.liveSeq + uint64(el/e.interval())
	last := e.newest + uint64(e.cfg.MaxFetches)
	if e.probeFails > 0 {
		last = e.newest + 1 // the edge is later than predicted: one at a time
	}
	last = min(last, due, e.newest+uint64(e.cfg.Window/2))
	for seq := e.newest + 1; seq <= last && e.fetching < e.cfg.MaxFetches; seq++ {
		// The slot is taken before the chunk is known to exist, as
		// learn would take it: the window moves on a little early.
		sl, missed := e.buf.claim(seq)
		e.stats.Missed += missed
		if sl.fetching {
			continue
		}
		e.stats.Probes++
		e.fetch(sl)
	}
}

// giveUp forgets seq, a chunk of the join backlog before the keyframe the
// Live named, whose fetch failed: the player starts at a keyframe, and
// chunks before the newest one only give it more to start with, if they
// hold an older one. At the start of a stream the backlog reaches back
// before its first chunk (sequence numbers do not start at 0), and those
// chunks never come.
func (e *Engine) giveUp(seq uint64) {
	if sl := e.buf.slot(seq); sl != nil && !sl.held && !sl.fetching {
		e.release(sl)
		sl.valid = false
	}
}

func (e *Engine) probeWait() time.Duration {
	if e.lonely() {
		return e.cfg.DueMargin
	}
	return e.cfg.FallbackAfter
}

// probeMissed learns from a failed fetch of seq, the chunk after the newest
// known, that the edge is later than predicted: seq is due again after a
// back-off of half an interval, doubling with each miss in a row up to
// maxProbeBackoff.
func (e *Engine) probeMissed(seq uint64) {
	e.probeFails++
	ivl := e.interval()
	back := min(ivl/2<<min(e.probeFails-1, 8), maxProbeBackoff)
	e.liveSeq = seq - 1
	e.liveAt = e.now.Add(back - e.probeWait() - ivl)
}
