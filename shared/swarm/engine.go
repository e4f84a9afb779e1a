package swarm

import (
	"cmp"
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
	order []*peer // connected peers, sorted by id, for deterministic iteration

	buf buffer // chunks held and wanted, within the window

	started  bool   // whether start and newest are set
	joinLive bool   // started from the tracker's Live, not a neighbour's Status
	joinKey  uint64 // the keyframe chunk the Live named at the start (0: none)
	covered  uint64 // the player has every chunk before this one (Covered)
	start    uint64 // first sequence number this peer wants
	newest   uint64 // newest sequence number known to exist

	// The live edge as the tracker last told it (Live): chunk liveSeq+k
	// is predicted due k intervals after liveAt. Probes (probe.go) fetch
	// by it while the peer has no parent.
	liveSeq    uint64
	liveAt     time.Time // zero before any Live
	probeFails int       // probes in a row that found the next chunk not yet published
	aloneSince time.Time // since when no stripe has had a parent (zero while one has)

	stripes     []stripe // this peer's place in each stripe tree
	used        int      // slots given to children
	nextStatus  time.Time
	statusDirty bool      // a depth changed since the last Status round
	nextCheck   time.Time // next look at the parents
	lastTick    time.Time

	tsSeq, ts int64         // a chunk's sequence number and timestamp, for the interval
	ivl       time.Duration // estimated time between chunks
	ivlSpan   int64         // how many chunks ivl's latest estimate spanned
	ivlOdd    int           // estimates in a row under a quarter or over 4 times ivl

	spare   float64 // repairs we may still serve (a token bucket)
	spareAt time.Time

	fetching int // Fetch actions outstanding
	stats    Stats
	outbox   []Action
}

// peer is a neighbour.
type peer struct {
	id     PeerID
	origin bool

	status   wire.Status // last Status it sent
	statusOK bool        // whether status is set and has our stripe count

	children uint32      // stripes it takes from us (bit s)
	slots    uint8       // its Slots, from its Subscribe or Status
	refused  []time.Time // per stripe: when it last refused or dropped us
	inflight int         // our requests outstanding to it

	tokens   float64 // requests it may still have served (ServeRate bucket)
	tokensAt time.Time
}

// New returns an engine with cfg's defaults filled in.
func New(cfg Config) (*Engine, error) {
	c, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	e := &Engine{
		cfg:     c,
		peers:   make(map[PeerID]*peer),
		buf:     newBuffer(c.Window),
		stripes: make([]stripe, c.Stripes),
	}
	for i := range e.stripes {
		if c.Origin {
			e.stripes[i].depth = 0
		} else {
			e.stripes[i].depth = wire.NoDepth
		}
	}
	return e, nil
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
	s.Held = e.buf.held
	s.Children = e.used
	s.Slots = e.cfg.Slots
	s.Depth = 0
	for i := range e.stripes {
		st := &e.stripes[i]
		if st.parent != nil {
			s.Parents++
		}
		switch {
		case st.depth == wire.NoDepth:
			s.Depth = -1
		case s.Depth >= 0 && int(st.depth) > s.Depth:
			s.Depth = int(st.depth)
		}
	}
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
		e.publish(ev.Chunk)
	case Fetched:
		if sl := e.buf.slot(ev.Chunk.Seq); sl != nil && sl.fetching {
			sl.fetching = false
			e.fetching--
		}
		e.accept(ev.Chunk, nil, true)
	case FetchFailed:
		if sl := e.buf.slot(ev.Seq); sl != nil && sl.fetching {
			sl.fetching = false
			sl.fetchFailedAt = e.now
			e.fetching--
		}
		switch {
		case e.started && ev.Seq == e.newest+1:
			e.probeMissed(ev.Seq)
		case ev.Seq < e.joinKey:
			e.giveUp(ev.Seq)
		}
	case Tick:
		e.tick()
	case Live:
		if !e.cfg.Origin {
			e.onLive(ev)
		}
	case Covered:
		if !e.cfg.Origin {
			e.cover(ev.Before)
		}
	default:
		return fmt.Errorf("%w: %T", ErrUnknownEvent, ev)
	}
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
	p := &peer{
		id: ev.Peer, origin: ev.Origin, refused: make([]time.Time, e.cfg.Stripes),
		tokens: float64(2 * e.cfg.ServeRate), tokensAt: e.now,
	}
	e.peers[p.id] = p
	i, _ := slices.BinarySearchFunc(e.order, p.id, func(q *peer, id PeerID) int { return cmp.Compare(q.id, id) })
	e.order = slices.Insert(e.order, i, p)
	e.sendStatus(p)
	return nil
}

func (e *Engine) disconnect(p *peer) {
	delete(e.peers, p.id)
	if i, ok := slices.BinarySearchFunc(e.order, p.id, func(q *peer, id PeerID) int { return cmp.Compare(q.id, id) }); ok {
		e.order = slices.Delete(e.order, i, i+1)
	}
	for s := range e.stripes {
		if p.children&(1<<s) != 0 {
			e.dropChild(p, s)
		}
		st := &e.stripes[s]
		if st.pending == p {
			st.pending = nil
		}
		if st.parent == p {
			e.orphan(s)
		}
	}
	e.buf.forget(p)
	e.findParents()
}

func (e *Engine) receive(p *peer, m wire.Message) {
	switch m := m.(type) {
	case wire.Status:
		e.onStatus(p, m)
	case wire.Subscribe:
		e.onSubscribe(p, m)
	case wire.Unsubscribe:
		e.onUnsubscribe(p, m)
	case wire.Accept:
		e.onAccept(p, m)
	case wire.Request:
		e.serve(p, m.Seq)
	case wire.NotFound:
		if sl := e.buf.slot(m.Seq); sl != nil && sl.from == p {
			e.release(sl)
			sl.tried = append(sl.tried, p)
		}
	case wire.Chunk:
		if e.cfg.Origin {
			e.stats.Dropped++
			return
		}
		if st := &e.stripes[m.Seq%uint64(len(e.stripes))]; st.parent == p {
			// The parent is alive even when a repair beat its push.
			st.lastSeq, st.lastAt = max(st.lastSeq, m.Seq), e.now
			if sl := e.buf.slot(m.Seq); sl != nil && !sl.held {
				st.observeLag(e.now.Sub(sl.seen))
			}
		}
		e.accept(m, p, p.origin)
	default:
		// The types reserved in shared/wire/wire.go: dropped.
		e.stats.Dropped++
	}
}

// serve answers a repair request within the neighbour's rate and the
// upload the pushes leave spare: a peer that queued more than its uplink
// carries would delay its children's pushes.
func (e *Engine) serve(p *peer, seq uint64) {
	rate := float64(e.cfg.ServeRate)
	p.tokens = min(2*rate, p.tokens+rate*e.now.Sub(p.tokensAt).Seconds())
	p.tokensAt = e.now
	k := float64(len(e.stripes))
	spare := max(0.5, (e.cfg.Upload*k-float64(e.used))/k/e.interval().Seconds()) // chunks per second
	e.spare = min(2*spare, e.spare+spare*e.now.Sub(e.spareAt).Seconds())
	e.spareAt = e.now
	c, ok := e.buf.chunk(seq)
	if !ok || p.tokens < 1 || e.spare < 1 {
		e.stats.Refused++
		e.emit(Send{To: p.id, Msg: wire.NotFound{Seq: seq}})
		return
	}
	p.tokens--
	e.spare--
	e.stats.Uploaded += int64(len(c.Payload))
	e.emit(Send{To: p.id, Msg: c})
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

// restart forgets where the stream starts, and every request and fetch
// outstanding for it.
func (e *Engine) restart() {
	for i := range e.buf.slots {
		sl := &e.buf.slots[i]
		if sl.valid && sl.fetching {
			e.fetching--
		}
		e.release(sl)
	}
	e.buf.reset(0)
	e.started, e.joinLive, e.joinKey, e.covered = false, false, 0, 0
}

// learn records that every chunk up to seq exists.
func (e *Engine) learn(seq uint64) {
	if !e.started {
		e.begin(seq-min(seq, uint64(e.cfg.JoinBacklog)), seq)
		return
	}
	if seq <= e.newest {
		return
	}
	for s := max(e.newest+1, seq-min(seq, uint64(e.cfg.Window-1))); s <= seq; s++ {
		e.stats.Missed += e.buf.want(s, e.now)
	}
	e.newest = seq
}

// begin starts the peer at start, with every chunk up to newest known to
// exist.
func (e *Engine) begin(start, newest uint64) {
	e.started = true
	e.newest, e.start = newest, start
	e.buf.reset(start)
	for s := start; s <= newest; s++ {
		e.buf.want(s, e.now)
	}
}

// publish takes a new chunk from the stream source (origin only).
func (e *Engine) publish(c wire.Chunk) {
	if e.started && c.Seq <= e.newest {
		e.stats.Dropped++
		return
	}
	if !e.started {
		e.started = true
		e.buf.reset(c.Seq)
	}
	e.newest = c.Seq
	e.buf.store(c, e.now)
	e.observe(c)
	e.push(c, nil)
}

// accept stores a chunk that arrived from p (nil for a fetch), hands it to
// the player and pushes it to the children of its stripe.
func (e *Engine) accept(c wire.Chunk, p *peer, fromOrigin bool) {
	if !e.inRange(c.Seq) || (e.started && c.Seq < e.start) {
		e.stats.Dropped++
		return
	}
	if _, ok := e.buf.chunk(c.Seq); ok {
		e.stats.Duplicates++
		return
	}
	if e.started && c.Seq > e.newest {
		e.probeFails = 0 // the edge moved on
	}
	e.learn(c.Seq)
	sl := e.buf.slot(c.Seq)
	if sl == nil { // fell out of the window on the way
		e.stats.Dropped++
		return
	}
	if sl.fetching {
		e.fetching--
		sl.fetching = false
	}
	e.release(sl)
	e.buf.store(c, e.now)

	s := int(c.Seq % uint64(e.cfg.Stripes))
	st := &e.stripes[s]
	if p != nil && st.parent == p {
		e.stats.Pushed++
	}
	e.observe(c)

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
	// A chunk older than one already pushed in its stripe came by repair
	// after the children's own repairs began: it is not pushed.
	if !st.pushedAny || c.Seq > st.pushedSeq {
		e.push(c, p)
	}
}

// push sends c to every child of its stripe but the peer it came from,
// strongest children first: they pass it on to the most peers.
func (e *Engine) push(c wire.Chunk, from *peer) {
	st := &e.stripes[c.Seq%uint64(e.cfg.Stripes)]
	st.pushedSeq, st.pushedAny = c.Seq, true
	for _, q := range st.children {
		if q == from {
			continue
		}
		e.stats.Uploaded += int64(len(c.Payload))
		e.emit(Send{To: q.id, Msg: c})
	}
}

func (e *Engine) tick() {
	if !e.lastTick.IsZero() && e.now.Sub(e.lastTick) > stalledDriver {
		e.forgive()
	}
	e.lastTick = e.now
	if e.statusDirty || e.now.Compare(e.nextStatus) >= 0 {
		e.statusDirty = false
		e.nextStatus = e.now.Add(e.cfg.StatusInterval)
		for _, p := range e.order {
			e.sendStatus(p)
		}
	}
	if e.cfg.Origin {
		return
	}
	// The parents' deadlines are hundreds of milliseconds or more: a look
	// every 200 ms is plenty, and the engine's tick stays cheap.
	if e.now.Compare(e.nextCheck) >= 0 {
		e.nextCheck = e.now.Add(checkEvery)
		e.checkParents()
	}
	e.findParents()
	if e.parents() > 0 {
		e.aloneSince = time.Time{}
	} else if e.aloneSince.IsZero() {
		e.aloneSince = e.now
	}
	e.repair()
	e.probe()
}

// parents counts the stripes with a parent.
func (e *Engine) parents() int {
	n := 0
	for i := range e.stripes {
		if e.stripes[i].parent != nil {
			n++
		}
	}
	return n
}

// stalledDriver is the gap between Ticks (drivers tick every 50 ms) that
// says the driver itself was starved of CPU.
const stalledDriver = 500 * time.Millisecond

// forgive restarts the clocks that measure neighbours' lateness after our
// own driver stalled: what looks late was late at our end, and leaving
// parents or abandoning requests for it only adds churn to a peer already
// short of CPU (tools/swarmload saw whole swarms collapse that way).
func (e *Engine) forgive() {
	e.stats.Stalls++
	for s := range e.stripes {
		st := &e.stripes[s]
		if st.parent != nil {
			st.lastAt = e.now
		}
		if st.pending != nil {
			st.pendingAt = e.now
		}
	}
	for i := range e.buf.slots {
		if sl := &e.buf.slots[i]; sl.valid && sl.from != nil {
			sl.askedAt = e.now
		}
	}
}

// checkEvery is how often a Tick checks parents for starvation, timeouts
// and better places.
const checkEvery = 200 * time.Millisecond

// observeSpan is how many chunks an estimate of the chunk interval spans
// once the peer has seen that many.
const observeSpan = 8

// observe refines the estimate of the time between chunks from the
// timestamps the origin put on them, which are when it cut them. Two
// neighbouring chunks say little: an origin whose ingest caught up after
// a hiccup cuts several within a millisecond, and an interval taken from
// two of those (10 ms, for 125 ms chunks) had a peer that no neighbour
// reaches probe for chunks long before they were cut: 15 failed fetches
// a second, and four such tabs behind one address were rate-limited by
// the server. So the estimate is taken from an anchor chunk to the newest
// one: from the first chunk seen until observeSpan chunks have come (each
// estimate over a longer span replacing the last), then over spans of
// observeSpan chunks, each moving the estimate an eighth of the way. A
// span's estimate over 4 times the current one holds a pause of the
// stream (an encoder that reconnected) and is left out, one under a
// quarter of it is left out too; two such in a row replace it (the
// estimate was the odd one). Timestamps that go back are a new run of the
// origin: the anchor starts again.
func (e *Engine) observe(c wire.Chunk) {
	seq := int64(c.Seq)
	if e.ts == 0 || c.Timestamp < e.ts {
		e.tsSeq, e.ts, e.ivlSpan, e.ivlOdd = seq, c.Timestamp, 0, 0
		return
	}
	n := seq - e.tsSeq
	if n <= 0 {
		return // older than the anchor
	}
	est := time.Duration(c.Timestamp-e.ts) * time.Millisecond / time.Duration(n)
	est = min(max(est, 10*time.Millisecond), 5*time.Second)
	if n < observeSpan {
		if n > e.ivlSpan && e.ivlSpan < observeSpan {
			e.ivl, e.ivlSpan = est, n
		}
		return
	}
	switch {
	case e.ivl == 0 || e.ivlSpan < observeSpan:
		e.ivl, e.ivlOdd = est, 0
	case est < e.ivl/4 || est > 4*e.ivl:
		if e.ivlOdd++; e.ivlOdd >= 2 {
			e.ivl, e.ivlOdd = est, 0
		}
	default:
		e.ivl += (est - e.ivl) / 8
		e.ivlOdd = 0
	}
	e.tsSeq, e.ts, e.ivlSpan = seq, c.Timestamp, observeSpan
}

// interval is the estimated time between chunks (250 ms until known).
func (e *Engine) interval() time.Duration {
	if e.ivl == 0 {
		return 250 * time.Millisecond
	}
	return e.ivl
}

func (e *Engine) emit(a Action) { e.outbox = append(e.outbox, a) }
