// Package tracker keeps each stream's swarm: who is watching, who is whose
// neighbour, and who should meet whom. It introduces a joining peer to a
// bounded set of neighbours (and to the stream's origin while the origin has
// room), relays WebRTC signaling only between introduced neighbours, and
// replaces a neighbour that leaves or fails.
//
// It also passes on the live edge (Live): each peer hears the origin's
// newest chunk from time to time, which a peer that no neighbour reaches
// needs to keep playing from HTTP fallback (live.go).
//
// The tracker does no I/O: it hands messages to a Session, which must not
// block (a WebSocket session queues them and drops a slow client).
package tracker

import (
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/shoal-live/shoal/shared/signaling"
)

// Session is the tracker's handle on one connected peer.
type Session interface {
	// Deliver queues m for the peer without blocking. It reports false
	// when the peer is too slow to take it; the tracker then drops it.
	Deliver(m signaling.Message) bool
}

// Defaults of Config's bounds.
const (
	DefaultNeighbours  = 8
	DefaultMaxPeers    = 10000
	DefaultOriginLinks = 16
)

// Config bounds swarms. Zero values take the defaults.
type Config struct {
	Neighbours  int // neighbours a peer is given (default DefaultNeighbours)
	MaxDegree   int // neighbours a peer may have (default 3*Neighbours)
	MaxPeers    int // peers in one swarm (default DefaultMaxPeers)
	OriginLinks int // peers the origin connects to directly (default DefaultOriginLinks)
	// LiveEvery is how often a peer that may have no working data
	// channel hears the live edge: one that joined, or had three links
	// fail (drops), in the last LiveNeedy, or has no neighbour (default
	// 1 s). LiveIdle is how often every other peer hears it (default
	// 10 s). See live.go.
	LiveEvery time.Duration
	LiveIdle  time.Duration
	LiveNeedy time.Duration // default 30 s
	// ReportBurst reports from one peer count at once, then one per
	// ReportEvery (default 3 and 20 s); the rest only unlink the two
	// and get the reporter no replacement (report.go).
	ReportBurst int
	ReportEvery time.Duration
	// QuarantineFor is how long a quarantined peer is told to wait
	// before it joins again, with a fresh id (default 30 s).
	QuarantineFor time.Duration
	// Now is the tracker's clock (default time.Now); the simulator's is
	// virtual.
	Now  func() time.Time
	Rand *rand.Rand
}

// Errors returned by Join and Relay.
var (
	ErrSwarmFull    = errors.New("tracker: swarm is full")
	ErrNotNeighbour = errors.New("tracker: not a neighbour")
	ErrUnknownPeer  = errors.New("tracker: unknown peer")
	ErrRelayLimit   = errors.New("tracker: relay limit for this link reached")
)

// What one peer may relay to one neighbour over one link (Relay): an
// honest peer sends one offer or answer (0.5-4 KiB) and a few dozen ICE
// candidates. The bound keeps what a peer can push into a neighbour's
// queue to MaxRelayBytes per link, however fast it sends.
const (
	MaxRelayMessages = 64
	MaxRelayBytes    = 64 << 10
)

// Tracker holds every swarm. It is safe for concurrent use.
type Tracker struct {
	cfg    Config
	mu     sync.Mutex
	rand   *rand.Rand
	swarms map[string]*swarm
	byID   map[string]*member
	abuse  abuse // reports and quarantined peers, report.go
}

type swarm struct {
	name    string
	members map[string]*member
	list    []*member // the members, for uniform sampling; member.pos indexes it
	origin  *member
	edge    edge // the live edge, from Live
}

type member struct {
	id     string
	swarm  *swarm
	s      Session
	origin bool
	links  map[string]*member
	pos    int // index in swarm.list

	trouble  time.Time // when it joined or last looked unreachable (live.go)
	fails    int       // links of it that failed since failsAt
	failsAt  time.Time
	nextLive time.Time // when it is next told the live edge

	// failedWith holds the peers a link of it failed with (Drop): the
	// two are introduced again only for want of others, so a viewer
	// whose link to the origin failed (one that never opened its data
	// channel, say) gives its place to the others. Bounded by
	// maxFailedWith.
	failedWith map[string]bool
	reports    bucket // its reports that count (report.go)
	// relayed counts what it relayed to each neighbour since their
	// link began (MaxRelayMessages, MaxRelayBytes).
	relayed map[string]relayCount
}

type relayCount struct{ messages, bytes int }

// maxFailedWith bounds a member's failedWith; past it the oldest
// failures are forgotten at random (map order).
const maxFailedWith = 64

// New returns an empty tracker.
func New(cfg Config) *Tracker {
	if cfg.Neighbours <= 0 {
		cfg.Neighbours = DefaultNeighbours
	}
	if cfg.MaxDegree < cfg.Neighbours {
		// Every join adds Neighbours links, so degrees average twice
		// Neighbours: a cap at that would leave only the newest peers
		// below it, and every newcomer would link to them, growing a chain
		// (TestOverlayIsShallow). A third more leaves room everywhere.
		cfg.MaxDegree = 3 * cfg.Neighbours
	}
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = DefaultMaxPeers
	}
	if cfg.OriginLinks <= 0 {
		cfg.OriginLinks = DefaultOriginLinks
	}
	if cfg.LiveEvery <= 0 {
		cfg.LiveEvery = time.Second
	}
	if cfg.LiveIdle <= 0 {
		cfg.LiveIdle = 10 * time.Second
	}
	if cfg.LiveNeedy <= 0 {
		cfg.LiveNeedy = 30 * time.Second
	}
	if cfg.ReportBurst <= 0 {
		cfg.ReportBurst = 3
	}
	if cfg.ReportEvery <= 0 {
		cfg.ReportEvery = 20 * time.Second
	}
	if cfg.QuarantineFor <= 0 {
		cfg.QuarantineFor = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := cfg.Rand
	if r == nil {
		r = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return &Tracker{cfg: cfg, rand: r, swarms: make(map[string]*swarm), byID: make(map[string]*member)}
}

// Join adds a peer to stream's swarm, delivers welcome to it with its new
// id filled in, and introduces it to neighbours. origin marks the stream's
// origin peer; a second origin replaces the first as the one new peers meet.
// A viewer's welcome gets the live edge (Newest, Keyframe) the tracker
// knows from Live, if newer than the one it carries.
func (t *Tracker) Join(stream string, s Session, origin bool, welcome signaling.Message) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sw := t.swarms[stream]
	if sw == nil {
		sw = &swarm{name: stream, members: make(map[string]*member)}
		t.swarms[stream] = sw
	}
	if !origin && len(sw.members) >= t.cfg.MaxPeers {
		return "", fmt.Errorf("%w: %d peers in %q", ErrSwarmFull, len(sw.members), stream)
	}
	now := t.cfg.Now()
	m := &member{id: t.newID(), swarm: sw, s: s, origin: origin, links: make(map[string]*member), pos: len(sw.list),
		trouble: now, nextLive: now.Add(t.cfg.LiveEvery), reports: bucket{tokens: float64(t.cfg.ReportBurst), at: now}}
	sw.members[m.id] = m
	sw.list = append(sw.list, m)
	t.byID[m.id] = m
	welcome.Type, welcome.ID = signaling.TypeWelcome, m.id
	if e := sw.edge; !origin && e.newest > 0 && e.newest >= welcome.Newest {
		welcome.Newest, welcome.Keyframe = e.newest, e.keyframe
	}
	t.deliver(m, welcome)
	if origin {
		sw.origin = m
		// An origin that (re)starts under a watching audience seeds some of it.
		for _, p := range t.candidates(m, t.cfg.OriginLinks) {
			t.link(p, m)
		}
		return m.id, nil
	}
	if o := sw.origin; o != nil && len(o.links) < t.cfg.OriginLinks {
		t.link(m, o)
	}
	t.refill(m)
	return m.id, nil
}

// Leave removes a peer and tells its neighbours, who are given others.
func (t *Tracker) Leave(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.byID[id]
	if m == nil {
		return
	}
	delete(t.byID, id)
	sw := m.swarm
	delete(sw.members, id)
	last := sw.list[len(sw.list)-1]
	sw.list[m.pos], last.pos = last, m.pos
	sw.list = sw.list[:len(sw.list)-1]
	if sw.origin == m {
		sw.origin = nil
	}
	hadOrigin := sw.origin != nil && m.links[sw.origin.id] != nil
	orphans := make([]*member, 0, len(m.links))
	for _, n := range m.links {
		orphans = append(orphans, n)
	}
	// In id order, so that a seeded tracker (the simulator's) repeats.
	slices.SortFunc(orphans, func(a, b *member) int { return cmp.Compare(a.id, b.id) })
	for _, n := range orphans {
		delete(n.links, id)
		t.deliver(n, signaling.Message{Type: signaling.TypePeerLeft, Peer: id, Text: "left the stream"})
	}
	if len(sw.members) == 0 {
		delete(t.swarms, sw.name)
	}
	t.refillAll(orphans)
	if hadOrigin {
		t.refillOrigin(sw)
	}
}

// noteFailed remembers that the link between m and n failed: they are not
// introduced again.
func noteFailed(m, n *member) {
	for _, p := range [2][2]*member{{m, n}, {n, m}} {
		a, b := p[0], p[1]
		if a.failedWith == nil {
			a.failedWith = make(map[string]bool)
		}
		if len(a.failedWith) >= maxFailedWith {
			for id := range a.failedWith {
				delete(a.failedWith, id)
				break
			}
		}
		a.failedWith[b.id] = true
	}
}

// refillOrigin links the swarm's origin to viewers until it has
// OriginLinks of them: viewers not linked to it yet whose link to it
// never failed (of the last maxFailedWith that did). A link to a viewer
// that never opens its data channel is dropped by the origin
// (origin.ConnectTimeout), and that viewer's place goes to another, so
// WebSocket-only clients cannot hold the origin's links: once timed out
// they are not linked to it again, and the places stay free for the
// viewers that join next.
func (t *Tracker) refillOrigin(sw *swarm) {
	o := sw.origin
	if o == nil {
		return
	}
	want := t.cfg.OriginLinks - len(o.links)
	if want <= 0 {
		return
	}
	for _, p := range t.pick(o, want, false, func(*member) bool { return true }) {
		t.link(p, o)
	}
}

// Drop removes the link between id and peer, because the connection failed
// or id gave up on it, and finds both of them replacements.
func (t *Tracker) Drop(id, peer, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m, n := t.byID[id], t.byID[peer]
	if m == nil || n == nil || m.links[peer] == nil {
		return
	}
	delete(m.links, peer)
	delete(n.links, id)
	noteFailed(m, n)
	// Either end may be one that no neighbour can reach (live.go).
	t.failed(m)
	t.failed(n)
	t.deliver(n, signaling.Message{Type: signaling.TypePeerLeft, Peer: id, Text: "dropped: " + trim(reason, 200)})
	t.refillAll([]*member{m, n})
	if m.origin || n.origin {
		t.refillOrigin(m.swarm)
	}
}

// Relay passes an offer, answer or candidate from id to its neighbour
// m.Peer, rewriting Peer to name the sender.
func (t *Tracker) Relay(id string, m signaling.Message) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	from := t.byID[id]
	if from == nil {
		return fmt.Errorf("%w: %s", ErrUnknownPeer, id)
	}
	to := from.links[m.Peer]
	if to == nil {
		return fmt.Errorf("%w: %s is not a neighbour of %s", ErrNotNeighbour, m.Peer, id)
	}
	out := relayed(m, id, from.origin)
	size := len(out.SDP)
	if c := out.Candidate; c != nil {
		size += len(c.Candidate)
	}
	if from.relayed == nil {
		from.relayed = make(map[string]relayCount)
	}
	rc := from.relayed[to.id]
	if !from.origin && (rc.messages >= MaxRelayMessages || rc.bytes+size > MaxRelayBytes) {
		return fmt.Errorf("%w: %d messages, %d bytes to %s", ErrRelayLimit, rc.messages, rc.bytes, to.id)
	}
	rc.messages++
	rc.bytes += size
	from.relayed[to.id] = rc
	t.deliver(to, out)
	return nil
}

// relayed is what Relay passes on of m: its type, the sender and the one
// field the type carries (the SDP, the candidate), nothing else a sender
// might have padded it with. The codec bounds each (MaxSDPSize,
// MaxCandidateSize, MaxSDPMid).
func relayed(m signaling.Message, from string, origin bool) signaling.Message {
	out := signaling.Message{Type: m.Type, Peer: from, Origin: origin}
	switch m.Type {
	case signaling.TypeOffer, signaling.TypeAnswer:
		out.SDP = m.SDP
	case signaling.TypeCandidate:
		if c := m.Candidate; c != nil {
			out.Candidate = &signaling.Candidate{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex}
		}
	}
	return out
}

// StreamInfo describes one swarm.
type StreamInfo struct {
	Name      string `json:"name"`
	Viewers   int    `json:"viewers"`
	HasOrigin bool   `json:"hasOrigin"`
}

// Streams lists the swarms, by name.
func (t *Tracker) Streams() []StreamInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]StreamInfo, 0, len(t.swarms))
	for _, sw := range t.swarms {
		v := len(sw.members)
		if sw.origin != nil {
			v--
		}
		out = append(out, StreamInfo{Name: sw.name, Viewers: v, HasOrigin: sw.origin != nil})
	}
	slices.SortFunc(out, func(a, b StreamInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Viewers is how many viewers stream's swarm has (its origin not
// counted), 0 for a stream without a swarm.
func (t *Tracker) Viewers(stream string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	sw := t.swarms[stream]
	if sw == nil {
		return 0
	}
	v := len(sw.members)
	if sw.origin != nil {
		v--
	}
	return v
}

// Degree returns how many neighbours id has, or -1 for an unknown peer.
func (t *Tracker) Degree(id string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m := t.byID[id]; m != nil {
		return len(m.links)
	}
	return -1
}

// refill gives m neighbours until it has Neighbours or none is available.
// m is the initiator of the new connections.
func (t *Tracker) refill(m *member) {
	want := t.cfg.Neighbours - t.nonOriginDegree(m)
	if want <= 0 {
		return
	}
	for _, n := range t.candidates(m, want) {
		t.link(m, n)
	}
}

func (t *Tracker) refillAll(ms []*member) {
	for _, m := range ms {
		if t.byID[m.id] == m && !m.origin {
			t.refill(m)
		}
	}
}

func (t *Tracker) nonOriginDegree(m *member) int {
	d := len(m.links)
	if o := m.swarm.origin; o != nil && m.links[o.id] != nil {
		d--
	}
	return d
}

// candidates picks up to k non-origin members that are not m, not yet
// linked to it and below MaxDegree, drawn at random: the overlay comes out
// close to a random graph, whose distances grow as log N, while joining
// stays O(k) however large the swarm. (Always taking the least connected
// would link every newcomer to the newest peers and grow a chain.)
func (t *Tracker) candidates(m *member, k int) []*member {
	return t.pick(m, k, true, func(n *member) bool { return len(n.links) < t.cfg.MaxDegree })
}

// pick draws up to k non-origin members that are not m, not linked to
// it, not shunned (report.go) and that pass ok; members whose link with m
// failed before (failedWith) only with again, when there are too few
// others.
func (t *Tracker) pick(m *member, k int, again bool, ok func(n *member) bool) []*member {
	fits := func(n *member) bool {
		return n != m && !n.origin && m.links[n.id] == nil && ok(n) && !t.abuse.shuns(m, n)
	}
	out := t.draw(m.swarm.list, k, nil, func(n *member) bool { return fits(n) && !m.failedWith[n.id] })
	if again && len(out) < k && len(m.failedWith) > 0 {
		out = t.draw(m.swarm.list, k, out, fits)
	}
	return out
}

// draw adds to out members of list that pass fits, drawn at random, until
// out holds k.
func (t *Tracker) draw(list []*member, k int, out []*member, fits func(n *member) bool) []*member {
	picked := func(n *member) bool { return slices.Contains(out, n) }
	for tries := 0; len(out) < k && tries < 16*k; tries++ {
		a := list[t.rand.IntN(len(list))]
		if fits(a) && !picked(a) {
			out = append(out, a)
		}
	}
	if len(out) < k && len(list) <= 64*k {
		// A small or crowded swarm: look at everyone left, in id order.
		rest := make([]*member, 0, len(list))
		for _, n := range list {
			if fits(n) && !picked(n) {
				rest = append(rest, n)
			}
		}
		slices.SortFunc(rest, func(a, b *member) int { return cmp.Compare(a.id, b.id) })
		t.rand.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
		out = append(out, rest[:min(k-len(out), len(rest))]...)
	}
	return out
}

// link introduces a (the initiator, who sends the offer) to b. b hears
// first, so it knows a before a's offer arrives.
func (t *Tracker) link(a, b *member) {
	a.links[b.id], b.links[a.id] = b, a
	for _, p := range [2][2]*member{{a, b}, {b, a}} {
		x, y := p[0], p[1]
		delete(x.relayed, y.id) // a new link, a new budget
		if len(x.relayed) > 2*t.cfg.MaxDegree {
			for id := range x.relayed {
				if x.links[id] == nil {
					delete(x.relayed, id)
				}
			}
		}
	}
	t.deliver(b, signaling.Message{Type: signaling.TypeNeighbour, Peer: a.id, Origin: a.origin})
	t.deliver(a, signaling.Message{Type: signaling.TypeNeighbour, Peer: b.id, Initiator: true, Origin: b.origin})
}

func (t *Tracker) deliver(m *member, msg signaling.Message) {
	msg.V = signaling.Version
	m.s.Deliver(msg) // a session too slow to take it closes itself and Leaves
}

func (t *Tracker) newID() string {
	for {
		var b [6]byte
		for i := range b {
			b[i] = byte(t.rand.Uint32())
		}
		id := hex.EncodeToString(b[:])
		if t.byID[id] == nil {
			return id
		}
	}
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
