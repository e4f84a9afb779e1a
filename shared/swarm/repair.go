package swarm

import (
	"time"

	"github.com/shoal-live/shoal/shared/wire"
)

// repair asks neighbours for the chunks that are late, and the origin for
// those that are later still. A chunk is late RepairAfter after we learnt
// it exists, or at once when its stripe has no parent to push it. A
// lonely peer (no parent for LonelyAfter) fetches every missing chunk at
// once: nobody will push it.
func (e *Engine) repair() {
	if !e.started {
		return
	}
	fallback := e.cfg.FallbackAfter
	if e.lonely() {
		fallback = 0
	}
	lo := max(e.buf.low, e.newest-min(e.newest, uint64(e.cfg.Window-1)))
	advance := true
	for seq := lo; seq <= e.newest; seq++ {
		sl := e.buf.slot(seq)
		if sl == nil || sl.held || seq < e.covered {
			if advance {
				e.buf.low = seq + 1
			}
			continue
		}
		advance = false
		e.repairOne(sl, fallback)
	}
}

func (e *Engine) repairOne(sl *slot, fallback time.Duration) {
	if sl.fetching {
		return
	}
	if sl.from != nil {
		if e.now.Sub(sl.askedAt) < e.cfg.RequestTimeout {
			return
		}
		sl.tried = append(sl.tried, sl.from) // it did not deliver
		e.release(sl)
	}
	s := int(sl.seq % uint64(len(e.stripes)))
	st := &e.stripes[s]
	// Deadlines count from when the stripe's push usually arrives.
	age := e.now.Sub(sl.seen)
	if st.parent != nil {
		age -= min(st.lag, e.cfg.FallbackAfter)
	}
	if age >= fallback && e.fetching < e.cfg.MaxFetches &&
		(sl.fetchFailedAt.IsZero() || e.now.Sub(sl.fetchFailedAt) >= e.cfg.RequestTimeout) {
		e.fetch(sl)
		return
	}
	if age < e.cfg.RepairAfter && st.parent != nil {
		return
	}
	if p := e.holder(sl, s); p != nil {
		p.inflight++
		sl.from, sl.askedAt = p, e.now
		e.stats.Requests++
		e.emit(Send{To: p.id, Msg: wire.Request{Seq: sl.seq}})
	}
}

// holder picks a neighbour to ask for sl's chunk: at random among those
// whose last Status showed it, else among those shallower than us in its
// stripe (they likely got it since), else the origin.
func (e *Engine) holder(sl *slot, s int) *peer {
	var pick, origin *peer
	rank, n := 3, 0
	for _, p := range e.order {
		if p.inflight >= e.cfg.MaxInflight || !p.statusOK || tried(sl, p) {
			continue
		}
		if p.origin {
			origin = p
			continue
		}
		r := 2
		switch d := p.status.Depth[s]; {
		case p.status.Holds(sl.seq):
			r = 0
		case d != wire.NoDepth && d < e.stripes[s].depth && p.status.Newest < sl.seq:
			r = 1
		}
		if r > 1 || r > rank {
			continue
		}
		if r < rank {
			rank, n = r, 0
		}
		n++
		if e.cfg.Rand.IntN(n) == 0 {
			pick = p
		}
	}
	if pick == nil {
		return origin
	}
	return pick
}

func tried(sl *slot, p *peer) bool {
	for _, q := range sl.tried {
		if q == p {
			return true
		}
	}
	return false
}

// fetch asks the driver to get sl's chunk from the origin.
func (e *Engine) fetch(sl *slot) {
	e.release(sl)
	sl.fetching = true
	e.fetching++
	e.stats.Fetches++
	e.emit(Fetch{Seq: sl.seq})
}

// release forgets the request outstanding for sl, if any.
func (e *Engine) release(sl *slot) {
	if sl.from != nil {
		sl.from.inflight--
		sl.from = nil
	}
}
