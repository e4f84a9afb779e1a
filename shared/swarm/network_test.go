package swarm_test

import (
	"container/heap"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/swarm"
	"github.com/shoal-live/shoal/shared/wire"
)

// network runs an origin and viewers on a virtual clock with a fixed
// one-way latency and unlimited bandwidth: a tiny cousin of tools/swarmsim.
type network struct {
	t       testing.TB
	now     time.Time
	latency time.Duration
	engines map[swarm.PeerID]*swarm.Engine
	queue   eventQueue
	seq     int
	got     map[swarm.PeerID]map[uint64]int // deliveries per chunk
	delay   map[swarm.PeerID]map[uint64]time.Duration
	links   map[swarm.PeerID][]swarm.PeerID
	gone    map[swarm.PeerID]bool
	fetches int

	scheduled bool
}

type queued struct {
	at    time.Time
	n     int // tie-break: FIFO among equal times, for determinism
	to    swarm.PeerID
	ev    swarm.Event
	leave bool // to leaves the swarm; ev is nil
}

type eventQueue []queued

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].n < q[j].n
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(queued)) }
func (q *eventQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func newNetwork(t testing.TB, seed uint64, viewers, degree int) *network {
	n := &network{
		t: t, now: time.Unix(0, 0), latency: 20 * time.Millisecond,
		engines: map[swarm.PeerID]*swarm.Engine{}, got: map[swarm.PeerID]map[uint64]int{},
		delay: map[swarm.PeerID]map[uint64]time.Duration{}, links: map[swarm.PeerID][]swarm.PeerID{},
		gone: map[swarm.PeerID]bool{},
	}
	r := rand.New(rand.NewPCG(seed, 0))
	mk := func(id swarm.PeerID, origin bool) {
		up := 2.0
		if origin {
			up = 4
		}
		e, err := swarm.New(swarm.Config{Origin: origin, Upload: up, Rand: rand.New(rand.NewPCG(seed, uint64(len(n.engines))))})
		if err != nil {
			t.Fatal(err)
		}
		n.engines[id] = e
		n.got[id] = map[uint64]int{}
		n.delay[id] = map[uint64]time.Duration{}
	}
	mk("origin", true)
	ids := make([]swarm.PeerID, viewers)
	for i := range ids {
		ids[i] = swarm.PeerID("v" + strconv.Itoa(i))
		mk(ids[i], false)
	}
	linked := map[[2]swarm.PeerID]bool{}
	link := func(a, b swarm.PeerID, origin bool) {
		if a == b || linked[[2]swarm.PeerID{a, b}] {
			return
		}
		linked[[2]swarm.PeerID{a, b}], linked[[2]swarm.PeerID{b, a}] = true, true
		n.links[a], n.links[b] = append(n.links[a], b), append(n.links[b], a)
		n.at(0, a, swarm.PeerConnected{Peer: b, Origin: origin})
		n.at(0, b, swarm.PeerConnected{Peer: a})
	}
	for i, id := range ids {
		if i < 4 {
			link(id, "origin", true)
		}
		for k := 0; k < degree/2; k++ {
			link(id, ids[r.IntN(len(ids))], false)
		}
	}
	return n
}

func (n *network) at(after time.Duration, to swarm.PeerID, ev swarm.Event) {
	n.seq++
	heap.Push(&n.queue, queued{at: n.now.Add(after), n: n.seq, to: to, ev: ev})
}

// run publishes chunks every 250 ms and ticks every 50 ms until 5 s after
// the last chunk.
func (n *network) run(chunks int) { n.runUntil(chunks, time.Hour) }

// runUntil schedules the stream on the first call and runs events until
// the virtual clock reaches until.
func (n *network) runUntil(chunks int, until time.Duration) {
	if !n.scheduled {
		n.scheduled = true
		n.schedule(chunks)
	}
	for n.queue.Len() > 0 && n.queue[0].at.Sub(time.Unix(0, 0)) < until {
		n.next()
	}
}

func (n *network) schedule(chunks int) {
	for s := 0; s < chunks; s++ {
		n.at(time.Duration(s)*250*time.Millisecond, "origin",
			swarm.Published{Chunk: wire.Chunk{Seq: uint64(s), Timestamp: int64(s), Payload: []byte(fmt.Sprint(s))}})
	}
	end := time.Duration(chunks)*250*time.Millisecond + 5*time.Second
	ids := slices.Sorted(maps.Keys(n.engines))
	for tk := time.Duration(0); tk < end; tk += 50 * time.Millisecond {
		for _, id := range ids {
			n.at(tk, id, swarm.Tick{})
		}
	}
}

// next runs the earliest event.
func (n *network) next() {
	q := heap.Pop(&n.queue).(queued)
	n.now = q.at
	if n.gone[q.to] {
		return
	}
	if q.leave {
		n.gone[q.to] = true
		for _, nb := range n.links[q.to] {
			if !n.gone[nb] {
				n.at(n.latency, nb, swarm.PeerDisconnected{Peer: q.to})
			}
		}
		return
	}
	if mr, ok := q.ev.(swarm.MessageReceived); ok && n.gone[mr.From] {
		return // sent before its sender left; the channel is closed
	}
	e := n.engines[q.to]
	if err := e.Step(n.now, q.ev); err != nil {
		n.t.Fatalf("%s: Step(%T): %v", q.to, q.ev, err)
	}
	for _, a := range e.Ready() {
		switch a := a.(type) {
		case swarm.Send:
			// Encode and decode, as a real link does.
			m, err := wire.Decode(wire.Encode(a.Msg))
			if err != nil {
				n.t.Fatal(err)
			}
			n.at(n.latency, a.To, swarm.MessageReceived{From: q.to, Msg: m})
		case swarm.Deliver:
			n.got[q.to][a.Chunk.Seq]++
			n.delay[q.to][a.Chunk.Seq] = n.now.Sub(time.Unix(0, 0)) - time.Duration(a.Chunk.Seq)*250*time.Millisecond
		case swarm.Fetch:
			n.fetches++
			n.at(2*n.latency, q.to, swarm.Fetched{Chunk: wire.Chunk{Seq: a.Seq, Timestamp: int64(a.Seq), Payload: []byte(fmt.Sprint(a.Seq))}})
		case swarm.Disconnect:
			n.t.Fatalf("%s disconnected %s: %s", q.to, a.Peer, a.Reason)
		}
	}
}

// TestEveryPeerGetsEveryChunkOnce: with no loss and unlimited capacity,
// every viewer delivers every chunk from the one it starts at exactly once,
// starts soon, and the swarm, not the origin's fallback, carries almost all
// of them.
func TestEveryPeerGetsEveryChunkOnce(t *testing.T) {
	n := newNetwork(t, 7, 40, 6)
	const chunks = 120
	n.run(chunks)
	delivered := 0
	for id, got := range n.got {
		if id == "origin" {
			continue
		}
		first := uint64(chunks)
		for s := range got {
			first = min(first, s)
		}
		if first > 8 {
			t.Errorf("%s started at chunk %d, 2 s after the stream", id, first)
		}
		for s := first; s < chunks; s++ {
			switch got[s] {
			case 1:
				delivered++
			case 0:
				t.Errorf("%s never got chunk %d", id, s)
			default:
				t.Errorf("%s got chunk %d %d times", id, s, got[s])
			}
		}
	}
	if max := delivered / 100; n.fetches > max {
		t.Errorf("%d origin fetches for %d deliveries, want at most 1%%", n.fetches, delivered)
	}
	t.Logf("%d deliveries, %d origin fetches", delivered, n.fetches)
}

// TestParentLeavingIsRepairedInTime: when the viewer serving the most
// stripe subscriptions leaves mid-stream, every other viewer still gets
// every chunk exactly once, and no chunk reaches anyone later than the
// fallback deadline (plus a fetch and a tick) after it was published.
func TestParentLeavingIsRepairedInTime(t *testing.T) {
	n := newNetwork(t, 11, 40, 6)
	const chunks, leaveAt = 120, 15 * time.Second
	// Run until the leave to find the busiest parent.
	n.runUntil(chunks, leaveAt)
	var busiest swarm.PeerID
	most := 0
	for _, id := range slices.Sorted(maps.Keys(n.engines)) {
		if st := n.engines[id].Stats(); id != "origin" && st.Children > most {
			busiest, most = id, st.Children
		}
	}
	if most == 0 {
		t.Fatal("no viewer serves any subscription")
	}
	n.seq++
	heap.Push(&n.queue, queued{at: n.now, n: n.seq, to: busiest, leave: true})
	n.runUntil(chunks, time.Hour)
	const bound = 1200*time.Millisecond + 4*20*time.Millisecond + 50*time.Millisecond
	for id, got := range n.got {
		if id == "origin" || id == busiest {
			continue
		}
		first := slices.Min(slices.Collect(maps.Keys(got)))
		for s := first; s < chunks; s++ {
			if got[s] != 1 {
				t.Errorf("%s got chunk %d %d times", id, s, got[s])
			}
			if d := n.delay[id][s]; s > uint64(leaveAt/(250*time.Millisecond)) && d > bound {
				t.Errorf("%s got chunk %d %v after it was published, over %v", id, s, d, bound)
			}
		}
	}
	t.Logf("%s left with %d subscriptions; %d origin fetches", busiest, most, n.fetches)
}

// TestDeterministicBySeed: the same seed gives the same run.
func TestDeterministicBySeed(t *testing.T) {
	stats := func(seed uint64) string {
		n := newNetwork(t, seed, 20, 4)
		n.run(40)
		var b strings.Builder
		for i := 0; i < 20; i++ {
			fmt.Fprintf(&b, "%+v\n", n.engines[swarm.PeerID("v"+strconv.Itoa(i))].Stats())
		}
		return b.String()
	}
	if a, b := stats(3), stats(3); a != b {
		t.Fatalf("two runs with seed 3 differ:\n%s\n---\n%s", a, b)
	}
}

// BenchmarkSwarm runs 100 viewers through 40 chunks on the virtual clock
// and reports the cost per delivered chunk (engine work for every message,
// tick and delivery it took, plus the wire codec).
func BenchmarkSwarm(b *testing.B) {
	delivered := 0
	for i := 0; i < b.N; i++ {
		n := newNetwork(b, uint64(i), 100, 6)
		n.run(40)
		for id, got := range n.got {
			if id != "origin" {
				delivered += len(got)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(delivered), "ns/delivered-chunk")
}
