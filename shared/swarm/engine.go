package swarm

import (
	"fmt"
	"slices"
	"time"

	"github.com/shoal-live/shoal/shared/wire"
)

// Engine is one peer's swarm logic. It is not safe for concurrent use: a
// driver calls Step and Ready from one goroutine.
type Engine struct {
	cfg Config
	now time.Time

	peers map[PeerID]*peer
	order []PeerID // connected peers, sorted, for deterministic iteration

	chunks map[uint64]wire.Chunk // held, within the window
	wants  map[uint64]*want      // known to exist, not held, within the window

	started bool   // whether start and newest are set
	start   uint64 // first sequence number this peer wants
	newest  uint64 // newest sequence number known to exist

	fetching int // Fetch actions outstanding
	nextPush int // origin round-robin position
	stats    Stats
	outbox   []Action
}

type peer struct {
	id       PeerID
	origin   bool
	has      map[uint64]bool
	inflight int
}

type want struct {
	seen        time.Time // when we learnt the chunk exists
	from        PeerID    // neighbour asked, "" if none
	askedAt     time.Time
	fetching    bool
	fetchedAt   time.Time
	fetchFailed bool
}

// New returns an engine with cfg's defaults filled in.
func New(cfg Config) (*Engine, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Engine{
		cfg:    c,
		peers:  make(map[PeerID]*peer),
		chunks: make(map[uint64]wire.Chunk),
		wants:  make(map[uint64]*want),
	}, nil
}

// Ready returns the actions accumulated since the last call and empties the
// outbox. The driver must carry them out in order.
func (e *Engine) Ready() []Action {
	out := e.outbox
	e.outbox = nil
	return out
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Peers = len(e.peers)
	s.Newest = e.newest
	s.Held = len(e.chunks)
	return s
}

// Step feeds one event at time now. An error means the driver fed an
// impossible event; the engine's state is unchanged by it.
func (e *Engine) Step(now time.Time, ev Event) error {
	if now.Before(e.now) {
		return fmt.Errorf("%w: %v before %v", ErrTimeBackward, now, e.now)
	}
	e.now = now
	switch ev := ev.(type) {
	case PeerConnected:
		return e.connect(ev)
	case PeerDisconnected:
		p, ok := e.peers[ev.Peer]
		if !ok {
			return fmt.Errorf("%w: %q", ErrUnknownPeer, ev.Peer)
		}
		e.disconnect(p)
	case MessageReceived:
		p, ok := e.peers[ev.From]
		if !ok {
			return fmt.Errorf("%w: %q", ErrUnknownPeer, ev.From)
		}
		e.receive(p, ev.Msg)
	case Published:
		if !e.cfg.Origin {
			return ErrNotOrigin
		}
		e.accept(ev.Chunk, nil, true)
	case Fetched:
		if w, ok := e.wants[ev.Chunk.Seq]; ok && w.fetching {
			w.fetching = false
			e.fetching--
		}
		e.accept(ev.Chunk, nil, true)
	case FetchFailed:
		if w, ok := e.wants[ev.Seq]; ok && w.fetching {
			w.fetching = false
			w.fetchFailed = true
			e.fetching--
		}
	case Tick:
	default:
		return fmt.Errorf("%w: %T", ErrUnknownEvent, ev)
	}
	e.schedule()
	return nil
}

func (e *Engine) connect(ev PeerConnected) error {
	if _, ok := e.peers[ev.Peer]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicatePeer, ev.Peer)
	}
	if len(e.peers) >= e.cfg.MaxPeers {
		e.emit(Disconnect{Peer: ev.Peer, Reason: "too many neighbours"})
		return nil
	}
	p := &peer{id: ev.Peer, origin: ev.Origin, has: make(map[uint64]bool)}
	e.peers[p.id] = p
	i, _ := slices.BinarySearch(e.order, p.id)
	e.order = slices.Insert(e.order, i, p.id)
	if !e.cfg.Origin && !p.origin && len(e.chunks) > 0 {
		e.emit(Send{To: p.id, Msg: e.bufferMap()})
	}
	e.schedule()
	return nil
}

func (e *Engine) disconnect(p *peer) {
	delete(e.peers, p.id)
	if i, ok := slices.BinarySearch(e.order, p.id); ok {
		e.order = slices.Delete(e.order, i, i+1)
	}
	for _, w := range e.wants {
		if w.from == p.id {
			w.from = ""
		}
	}
}

// bufferMap describes the chunks held, from the oldest held to the newest.
func (e *Engine) bufferMap() wire.BufferMap {
	lo, hi := uint64(0), uint64(0)
	first := true
	for s := range e.chunks {
		if first || s < lo {
			lo = s
		}
		if first || s > hi {
			hi = s
		}
		first = false
	}
	n := hi - lo + 1
	if n > wire.MaxBufferMap {
		lo = hi - wire.MaxBufferMap + 1
		n = wire.MaxBufferMap
	}
	bits := make([]bool, n)
	for i := range bits {
		_, bits[i] = e.chunks[lo+uint64(i)]
	}
	return wire.BufferMap{Base: lo, Bits: bits}
}

func (e *Engine) receive(p *peer, m wire.Message) {
	switch m := m.(type) {
	case wire.Have:
		if e.cfg.Origin || !e.inRange(m.Seq) {
			e.stats.Dropped++
			return
		}
		p.has[m.Seq] = true
		e.learn(m.Seq)
	case wire.BufferMap:
		if e.cfg.Origin {
			e.stats.Dropped++
			return
		}
		// Learn the newest chunk first: a joining peer starts JoinBacklog
		// behind the live edge, not behind the oldest chunk a neighbour
		// still holds.
		for i := len(m.Bits) - 1; i >= 0; i-- {
			if s := m.Base + uint64(i); m.Bits[i] && e.inRange(s) {
				e.learn(s)
				break
			}
		}
		for i, ok := range m.Bits {
			s := m.Base + uint64(i)
			if ok && e.inRange(s) {
				p.has[s] = true
			}
		}
	case wire.Request:
		c, ok := e.chunks[m.Seq]
		if !ok {
			e.emit(Send{To: p.id, Msg: wire.NotFound{Seq: m.Seq}})
			return
		}
		e.stats.Uploaded += int64(len(c.Payload))
		e.emit(Send{To: p.id, Msg: c})
	case wire.NotFound:
		delete(p.has, m.Seq)
		if w, ok := e.wants[m.Seq]; ok && w.from == p.id {
			e.release(w)
		}
	case wire.Chunk:
		p.has[m.Seq] = true
		e.accept(m, p, p.origin)
	default:
		e.stats.Dropped++
	}
}

// inRange reports whether seq is close enough to the newest known chunk to
// be worth tracking. It bounds what a neighbour can make us remember.
func (e *Engine) inRange(seq uint64) bool {
	if !e.started {
		return true
	}
	w := uint64(e.cfg.Window)
	return seq+w > e.newest && seq <= e.newest+w
}

// learn records that chunk seq exists somewhere.
func (e *Engine) learn(seq uint64) {
	if e.cfg.Origin {
		return
	}
	if !e.started {
		e.started = true
		e.newest = seq
		e.start = seq - min(seq, uint64(e.cfg.JoinBacklog))
		for s := e.start; s <= seq; s++ {
			e.addWant(s)
		}
		return
	}
	for s := e.newest + 1; s <= seq; s++ {
		e.addWant(s)
	}
	if seq > e.newest {
		e.newest = seq
		e.evict()
	}
}

func (e *Engine) addWant(seq uint64) {
	if seq < e.start {
		return
	}
	if _, ok := e.chunks[seq]; ok {
		return
	}
	if _, ok := e.wants[seq]; !ok {
		e.wants[seq] = &want{seen: e.now}
	}
}

// evict forgets chunks, wants and announcements that left the window.
func (e *Engine) evict() {
	w := uint64(e.cfg.Window)
	if e.newest < w {
		return
	}
	floor := e.newest - w + 1
	for s := range e.chunks {
		if s < floor {
			delete(e.chunks, s)
		}
	}
	for s, wt := range e.wants {
		if s < floor {
			e.release(wt)
			if wt.fetching {
				e.fetching--
			}
			delete(e.wants, s)
			e.stats.Missed++
		}
	}
	for _, p := range e.peers {
		for s := range p.has {
			if s < floor {
				delete(p.has, s)
			}
		}
	}
}

// accept stores a chunk that arrived from p (nil for a fetch or the source)
// and passes it on.
func (e *Engine) accept(c wire.Chunk, p *peer, fromOrigin bool) {
	if e.cfg.Origin {
		if e.started && c.Seq <= e.newest {
			e.stats.Dropped++
			return
		}
		e.started = true
		e.newest = c.Seq
		e.chunks[c.Seq] = c
		e.evict()
		e.push(c)
		return
	}
	if !e.inRange(c.Seq) || (e.started && c.Seq < e.start) {
		e.stats.Dropped++
		return
	}
	if _, ok := e.chunks[c.Seq]; ok {
		e.stats.Duplicates++
		return
	}
	e.learn(c.Seq)
	if w, ok := e.wants[c.Seq]; ok {
		e.release(w)
		if w.fetching {
			e.fetching--
		}
		delete(e.wants, c.Seq)
	}
	e.chunks[c.Seq] = c
	n := int64(len(c.Payload))
	e.stats.Chunks++
	var from PeerID
	if p != nil {
		from = p.id
	}
	if fromOrigin {
		e.stats.ChunksFromOrigin++
		e.stats.BytesFromOrigin += n
	} else {
		e.stats.ChunksFromPeers++
		e.stats.BytesFromPeers += n
	}
	e.emit(Deliver{Chunk: c, From: from, FromOrigin: fromOrigin})
	for _, id := range e.order {
		q := e.peers[id]
		if q == p || q.origin || q.has[c.Seq] {
			continue
		}
		e.emit(Send{To: id, Msg: wire.Have{Seq: c.Seq}})
	}
}

// push sends a new chunk from the origin to OriginFanout neighbours in turn.
func (e *Engine) push(c wire.Chunk) {
	n := min(e.cfg.OriginFanout, len(e.order))
	for i := 0; i < n; i++ {
		id := e.order[(e.nextPush+i)%len(e.order)]
		e.stats.Uploaded += int64(len(c.Payload))
		e.emit(Send{To: id, Msg: c})
	}
	if len(e.order) > 0 {
		e.nextPush = (e.nextPush + n) % len(e.order)
	}
}

// schedule issues requests and fetches for missing chunks, oldest first.
func (e *Engine) schedule() {
	if e.cfg.Origin || len(e.wants) == 0 {
		return
	}
	seqs := make([]uint64, 0, len(e.wants))
	for s := range e.wants {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	for _, s := range seqs {
		w := e.wants[s]
		if w.fetching {
			continue
		}
		if w.from != "" && e.now.Sub(w.askedAt) >= e.cfg.RequestTimeout {
			if p, ok := e.peers[w.from]; ok {
				delete(p.has, s) // it did not deliver: ask someone else
			}
			e.release(w)
		}
		if e.now.Sub(w.seen) >= e.cfg.FallbackAfter && e.fetching < e.cfg.MaxFetches &&
			(!w.fetchFailed || e.now.Sub(w.fetchedAt) >= e.cfg.RequestTimeout) {
			e.release(w)
			w.fetching, w.fetchFailed, w.fetchedAt = true, false, e.now
			e.fetching++
			e.stats.Fetches++
			e.emit(Fetch{Seq: s})
			continue
		}
		if w.from != "" {
			continue
		}
		if p := e.pickHolder(s); p != nil {
			p.inflight++
			w.from, w.askedAt = p.id, e.now
			e.stats.Requests++
			e.emit(Send{To: p.id, Msg: wire.Request{Seq: s}})
		}
	}
}

// pickHolder chooses a random neighbour that announced seq and has room for
// another request.
func (e *Engine) pickHolder(seq uint64) *peer {
	var pick *peer
	n := 0
	for _, id := range e.order {
		p := e.peers[id]
		if !p.has[seq] || p.inflight >= e.cfg.MaxInflight {
			continue
		}
		n++
		if e.cfg.Rand.IntN(n) == 0 { // reservoir sampling: uniform choice
			pick = p
		}
	}
	return pick
}

// release forgets the request outstanding for w, if any.
func (e *Engine) release(w *want) {
	if w.from == "" {
		return
	}
	if p, ok := e.peers[w.from]; ok {
		p.inflight--
	}
	w.from = ""
}

func (e *Engine) emit(a Action) { e.outbox = append(e.outbox, a) }
