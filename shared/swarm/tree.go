package swarm

import (
	"slices"
	"time"

	"github.com/shoal-live/shoal/shared/wire"
)

// refuseBackoff is how long a peer does not ask a neighbour again for a
// stripe after the neighbour refused or dropped it.
const refuseBackoff = 5 * time.Second

// stripe is this peer's place in one stripe's push tree.
type stripe struct {
	parent    *peer // pushes us the stripe
	pending   *peer // asked to become parent, not answered yet
	pendingAt time.Time
	since     time.Time     // when parent took us
	lastAt    time.Time     // when the parent last pushed a chunk
	orphanAt  time.Time     // when the parent went, while we still advertise its depth
	depth     uint8         // hops from the origin, wire.NoDepth without a path
	lastSeq   uint64        // newest chunk of the stripe the parent pushed
	improveAt time.Time     // next look for a shallower parent
	pushedSeq uint64        // newest chunk of the stripe pushed to children
	lag       time.Duration // how long after we learn of a chunk its push arrives (average)
	pushedAny bool
	children  []*peer // strongest first
}

// sendStatus tells p where we stand.
func (e *Engine) sendStatus(p *peer) {
	m := wire.Status{Slots: uint8(e.cfg.Slots), Free: uint8(max(0, e.cfg.Slots-e.used)), Depth: make([]uint8, len(e.stripes))}
	if e.started {
		m.Newest, m.Recent = e.buf.recent(e.newest)
	}
	for s := range e.stripes {
		m.Depth[s] = e.stripes[s].depth
	}
	e.emit(Send{To: p.id, Msg: m})
}

func (e *Engine) onStatus(p *peer, m wire.Status) {
	if len(m.Depth) != len(e.stripes) {
		p.statusOK = false
		e.stats.Dropped++
		return
	}
	p.status, p.statusOK, p.slots = m, true, m.Slots
	if e.cfg.Origin {
		return
	}
	if m.Recent != 0 && e.started && !e.joinLive && e.stats.Chunks == 0 && m.Newest > e.newest {
		// Nothing delivered yet and this neighbour is nearer the live
		// edge than the one we started from: start again from it. (A
		// start from the tracker's Live is the origin's own word, and
		// its fetches are under way.)
		e.restart()
	}
	if m.Recent != 0 && e.inRange(m.Newest) {
		// A joiner starts from what its neighbours hold; a peer whose
		// parents all stalled learns from a neighbour a whole round ahead.
		if !e.started || m.Newest >= e.newest+uint64(len(e.stripes)) {
			e.learn(m.Newest)
		}
	}
	for s := range e.stripes {
		st := &e.stripes[s]
		if st.parent != p {
			continue
		}
		switch d := m.Depth[s]; {
		case d == wire.NoDepth:
			e.setDepth(s, wire.NoDepth) // it lost its parent; wait a while
		case int(d)+1 > e.cfg.MaxDepth: // a loop: depths count up
			e.stats.Loops++
			e.leave(s)
		default:
			e.setDepth(s, d+1)
		}
	}
	// Parents are chosen at the next Tick, once the Statuses that arrive
	// together (as when channels open) are all in.
}

func (e *Engine) onSubscribe(p *peer, m wire.Subscribe) {
	s := int(m.Stripe)
	if s >= len(e.stripes) {
		e.stats.Dropped++
		return
	}
	p.slots = m.Slots
	bit := uint32(1) << s
	if p.children&bit != 0 {
		e.emit(Send{To: p.id, Msg: wire.Accept{Stripe: m.Stripe, Depth: e.stripes[s].depth}})
		return
	}
	st := &e.stripes[s]
	if st.depth == wire.NoDepth || st.parent == p || st.pending == p {
		e.emit(Send{To: p.id, Msg: wire.Unsubscribe{Stripe: m.Stripe}})
		return
	}
	if e.used >= e.cfg.Slots {
		victim, vs := e.weakestChild()
		if victim == nil || p.slots == 0 || int(victim.slots)*2 > int(p.slots) {
			e.emit(Send{To: p.id, Msg: wire.Unsubscribe{Stripe: m.Stripe}})
			return
		}
		e.dropChild(victim, vs)
		e.stats.Preempted++
		e.emit(Send{To: victim.id, Msg: wire.Unsubscribe{Stripe: uint8(vs)}})
	}
	e.addChild(p, s)
	e.emit(Send{To: p.id, Msg: wire.Accept{Stripe: m.Stripe, Depth: st.depth}})
}

func (e *Engine) onAccept(p *peer, m wire.Accept) {
	s := int(m.Stripe)
	if s >= len(e.stripes) || e.stripes[s].pending != p {
		e.stats.Dropped++ // late: we gave up on it, and told it so
		return
	}
	e.adopt(s, m.Depth)
}

func (e *Engine) onUnsubscribe(p *peer, m wire.Unsubscribe) {
	s := int(m.Stripe)
	if s >= len(e.stripes) {
		e.stats.Dropped++
		return
	}
	if p.children&(1<<s) != 0 {
		e.dropChild(p, s)
	}
	st := &e.stripes[s]
	switch p {
	case st.parent:
		p.refused[s] = e.now
		e.stats.Orphaned++
		e.orphan(s)
	case st.pending:
		p.refused[s] = e.now
		e.stats.Refusals++
		st.pending = nil
	default:
		return
	}
	e.findParents()
}

// weakestChild returns the child with the fewest slots, the most recent
// among equals, and one of its stripes.
func (e *Engine) weakestChild() (*peer, int) {
	var w *peer
	ws := -1
	for s := range e.stripes {
		for _, q := range e.stripes[s].children {
			if w == nil || q.slots <= w.slots {
				w, ws = q, s
			}
		}
	}
	return w, ws
}

func (e *Engine) addChild(p *peer, s int) {
	p.children |= 1 << s
	st := &e.stripes[s]
	i := len(st.children)
	for j, q := range st.children {
		if p.slots > q.slots {
			i = j
			break
		}
	}
	st.children = slices.Insert(st.children, i, p)
	e.used++
}

func (e *Engine) dropChild(p *peer, s int) {
	p.children &^= 1 << s
	st := &e.stripes[s]
	if i := slices.Index(st.children, p); i >= 0 {
		st.children = slices.Delete(st.children, i, i+1)
		e.used--
	}
}

// setDepth records our depth in stripe s. A change goes to every neighbour
// at the next Tick, so that new paths (and loops) show through the tree
// within a tick per level.
func (e *Engine) setDepth(s int, d uint8) {
	st := &e.stripes[s]
	if st.depth != d {
		st.depth = d
		e.statusDirty = true
	}
}

// minStarve is the least time a parent may go quiet before it is left,
// whatever the chunk interval: a browser tab's hiccup (a busy main thread,
// a garbage collection) must not tear the trees apart.
const minStarve = 2 * time.Second

// orphanGrace is how long a peer that lost a stripe's parent keeps
// advertising its old depth while it looks for a parent at most as deep.
// Its children stay calm, and none of its descendants (all deeper) can
// become its parent and close a loop.
const orphanGrace = time.Second

// orphan forgets stripe s's parent.
func (e *Engine) orphan(s int) {
	st := &e.stripes[s]
	st.parent = nil
	if st.depth != wire.NoDepth {
		st.orphanAt = e.now
	}
}

// leave drops stripe s's parent on our own initiative.
func (e *Engine) leave(s int) {
	p := e.stripes[s].parent
	p.refused[s] = e.now
	e.emit(Send{To: p.id, Msg: wire.Unsubscribe{Stripe: uint8(s)}})
	e.orphan(s)
}

// adopt makes the pending neighbour, at depth pd, stripe s's parent,
// leaving the old one.
func (e *Engine) adopt(s int, pd uint8) {
	st := &e.stripes[s]
	p := st.pending
	st.pending = nil
	if old := st.parent; old != nil && old != p {
		e.emit(Send{To: old.id, Msg: wire.Unsubscribe{Stripe: uint8(s)}})
	}
	st.parent, st.since, st.lastSeq = p, e.now, max(st.lastSeq, e.newest)
	st.orphanAt = time.Time{}
	d := wire.NoDepth
	if pd != wire.NoDepth {
		d = min(pd+1, wire.NoDepth-1)
	}
	e.setDepth(s, d)
}

// observeLag averages how late the parent's pushes come after we learn
// that a chunk exists (from a newer chunk of another stripe): stripes sit at
// different depths, and a repair that races a push only duplicates it.
func (st *stripe) observeLag(d time.Duration) {
	d = max(d, 0)
	st.lag += (d - st.lag) / 8
}

// heard is when the stripe's parent last showed it is alive: its last
// push, or when it took us.
func (st *stripe) heard() time.Time { return later(st.since, st.lastAt) }

// round is how long a round of the stripes takes: one chunk of each, a
// chunk interval apiece; each parent pushes once a round.
func (e *Engine) round() time.Duration { return time.Duration(len(e.stripes)) * e.interval() }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (e *Engine) subscribe(p *peer, s int) {
	st := &e.stripes[s]
	st.pending, st.pendingAt = p, e.now
	e.stats.ParentChanges++
	e.emit(Send{To: p.id, Msg: wire.Subscribe{Stripe: uint8(s), Slots: uint8(e.cfg.Slots)}})
}

// findParents asks a neighbour for every stripe without a parent.
func (e *Engine) findParents() {
	if e.cfg.Origin {
		return
	}
	for s := range e.stripes {
		st := &e.stripes[s]
		if st.parent != nil || st.pending != nil || len(e.order) == 0 {
			continue
		}
		below := wire.NoDepth
		if !st.orphanAt.IsZero() {
			below = st.depth + 1
		}
		if p := e.candidate(s, below, false); p != nil {
			e.subscribe(p, s)
		}
	}
}

// checkParents drops parents that stopped pushing and subscriptions nobody
// answered, and looks for shallower parents.
func (e *Engine) checkParents() {
	k := uint64(len(e.stripes))
	for s := range e.stripes {
		st := &e.stripes[s]
		if p := st.pending; p != nil && e.now.Sub(st.pendingAt) >= e.cfg.SubscribeTimeout {
			p.refused[s] = e.now
			st.pending = nil
			e.stats.Unanswered++
			e.emit(Send{To: p.id, Msg: wire.Unsubscribe{Stripe: uint8(s)}})
		}
		if !st.orphanAt.IsZero() && e.now.Sub(st.orphanAt) >= orphanGrace {
			st.orphanAt = time.Time{}
			e.setDepth(s, wire.NoDepth)
		}
		if st.parent == nil {
			continue
		}
		// Starving: a chunk of the stripe is missing and the parent has
		// pushed nothing for StarveRounds rounds of the stripe.
		// A parent that lost its own parent gets three times as long to
		// find another, or its whole subtree would scatter at once.
		quiet := e.now.Sub(st.heard())
		limit := max(time.Duration(e.cfg.StarveRounds)*e.round(), minStarve)
		if st.parent.statusOK && st.parent.status.Depth[s] == wire.NoDepth {
			limit *= 3
		}
		if e.newest >= st.lastSeq+k && quiet >= limit {
			e.stats.Starved++
			e.leave(s)
			continue
		}
		if st.pending == nil && e.now.Compare(st.improveAt) >= 0 {
			st.improveAt = e.now.Add(e.cfg.StatusInterval)
			// Worth a move only two levels up: every move costs the
			// children a moment of repair.
			if st.depth != wire.NoDepth && st.depth >= 3 {
				if p := e.candidate(s, st.depth-1, true); p != nil {
					e.subscribe(p, s)
				}
			}
		}
	}
}

// candidate picks the neighbour to take stripe s from among those whose
// depth would put us above below. It scores each by when a chunk would
// reach us through it: its depth, plus the time it takes to send one copy,
// which its Slots measure (a parent with 1 slot takes a whole stripe round
// per copy, one with 20 a twentieth). Among neighbours with a free slot the
// best score wins, at random among equals. A peer strong enough to displace
// a weak child (Slots ≥ 4) tries a full neighbour instead when it scores a
// level and a half better, unless onlyFree.
func (e *Engine) candidate(s int, below uint8, onlyFree bool) *peer {
	st := &e.stripes[s]
	var free, full *peer
	var freeScore, fullScore float64
	nFree, nFull := 0, 0
	for _, p := range e.order {
		if !p.statusOK || p == st.parent || p.children&(1<<s) != 0 ||
			(!p.refused[s].IsZero() && e.now.Sub(p.refused[s]) < refuseBackoff) {
			continue
		}
		d := p.status.Depth[s]
		if d == wire.NoDepth || int(d) >= e.cfg.MaxDepth || d+1 >= below {
			continue
		}
		score := float64(d) + 2/float64(max(p.status.Slots, 1))
		best, bestScore, n := &free, &freeScore, &nFree
		if p.status.Free == 0 {
			if onlyFree || e.cfg.Slots < 4 {
				continue
			}
			best, bestScore, n = &full, &fullScore, &nFull
		}
		switch {
		case *best == nil || score < *bestScore:
			*best, *bestScore, *n = p, score, 1
		case score == *bestScore:
			*n++
			if e.cfg.Rand.IntN(*n) == 0 {
				*best = p
			}
		}
	}
	if full != nil && (free == nil || fullScore+1.5 <= freeScore) {
		return full
	}
	return free
}
