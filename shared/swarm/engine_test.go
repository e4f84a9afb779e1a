package swarm

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/wire"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	cfg.Rand = rand.New(rand.NewPCG(1, 2))
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func step(t *testing.T, e *Engine, at time.Duration, ev Event) []Action {
	t.Helper()
	if err := e.Step(t0.Add(at), ev); err != nil {
		t.Fatalf("Step(%T): %v", ev, err)
	}
	return e.Ready()
}

func chunk(seq uint64) wire.Chunk {
	return wire.Chunk{Seq: seq, Timestamp: int64(seq) * 250, Payload: []byte{byte(seq), 1, 2, 3}}
}

// sends returns the Send actions other than Status as "to:Type:arg"
// strings.
func sends(acts []Action) []string {
	var out []string
	for _, a := range acts {
		if s, ok := a.(Send); ok && s.Msg.Type() != wire.TypeStatus {
			out = append(out, string(s.To)+":"+s.Msg.Type().String()+":"+argOf(s.Msg))
		}
	}
	return out
}

func argOf(m wire.Message) string {
	switch m := m.(type) {
	case wire.Request:
		return itoa(m.Seq)
	case wire.Chunk:
		return itoa(m.Seq)
	case wire.NotFound:
		return itoa(m.Seq)
	case wire.Subscribe:
		return itoa(uint64(m.Stripe))
	case wire.Unsubscribe:
		return itoa(uint64(m.Stripe))
	case wire.Accept:
		return itoa(uint64(m.Stripe)) + "@" + itoa(uint64(m.Depth))
	}
	return "?"
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

func status(newest uint64, free uint8, depth ...uint8) wire.Status {
	return wire.Status{Newest: newest, Recent: 0xff, Slots: 8, Free: free, Depth: depth}
}

func has(acts []Action, want ...string) func(t *testing.T) {
	return func(t *testing.T) {
		t.Helper()
		got := sends(acts)
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("sends %v lack %s", got, w)
			}
		}
	}
}

// TestOriginServesSubscriptionsWithinSlots: the origin accepts children up
// to its slots at depth 0, pushes each chunk to its stripe's children only,
// and makes room for a much stronger child by dropping the weakest.
func TestOriginServesSubscriptionsWithinSlots(t *testing.T) {
	e := newEngine(t, Config{Origin: true, Stripes: 2, Slots: 2})
	for _, p := range []PeerID{"a", "b", "c", "d"} {
		step(t, e, 0, PeerConnected{Peer: p})
	}
	has(step(t, e, 0, MessageReceived{From: "a", Msg: wire.Subscribe{Stripe: 0, Slots: 2}}), "a:Accept:0@0")(t)
	has(step(t, e, 0, MessageReceived{From: "b", Msg: wire.Subscribe{Stripe: 1, Slots: 1}}), "b:Accept:1@0")(t)
	// Full: c is no stronger than twice b, so it is refused.
	has(step(t, e, 0, MessageReceived{From: "c", Msg: wire.Subscribe{Stripe: 1, Slots: 1}}), "c:Unsubscribe:1")(t)
	// d can serve 20: b (the weakest) makes way.
	has(step(t, e, 0, MessageReceived{From: "d", Msg: wire.Subscribe{Stripe: 1, Slots: 20}}), "b:Unsubscribe:1", "d:Accept:1@0")(t)

	var got []string
	for s := uint64(0); s < 4; s++ {
		got = append(got, sends(step(t, e, time.Duration(s)*250*time.Millisecond, Published{Chunk: chunk(s)}))...)
	}
	want := []string{"a:Chunk:0", "d:Chunk:1", "a:Chunk:2", "d:Chunk:3"}
	if !slices.Equal(got, want) {
		t.Fatalf("origin sends %v, want %v", got, want)
	}
	if st := e.Stats(); st.Children != 2 || st.Preempted != 1 || st.Depth != 0 {
		t.Errorf("stats %+v: want 2 children, 1 preempted, depth 0", st)
	}
}

// TestPeerJoinsTreesAndForwards: a joiner starts JoinBacklog behind what a
// neighbour holds, requests that backlog at once, subscribes to every
// stripe with the shallowest neighbour, and forwards what its parent
// pushes to its own children.
func TestPeerJoinsTreesAndForwards(t *testing.T) {
	e := newEngine(t, Config{Stripes: 2, Slots: 4, JoinBacklog: 2})
	step(t, e, 0, PeerConnected{Peer: "deep"})
	step(t, e, 0, PeerConnected{Peer: "near"})
	step(t, e, 0, MessageReceived{From: "deep", Msg: status(100, 3, 5, 5)})
	acts := step(t, e, 0, MessageReceived{From: "near", Msg: status(100, 3, 1, 2)})
	acts = append(acts, step(t, e, 50*time.Millisecond, Tick{})...)
	got := sends(acts)
	for _, w := range []string{"near:Subscribe:0", "near:Subscribe:1"} {
		if !slices.Contains(got, w) {
			t.Errorf("sends %v lack %s", got, w)
		}
	}
	for _, seq := range []string{"98", "99", "100"} {
		if !slices.ContainsFunc(got, func(s string) bool { return s == "near:Request:"+seq || s == "deep:Request:"+seq }) {
			t.Errorf("backlog chunk %s not requested: %v", seq, got)
		}
	}
	step(t, e, 60*time.Millisecond, MessageReceived{From: "near", Msg: wire.Accept{Stripe: 0, Depth: 1}})
	step(t, e, 60*time.Millisecond, MessageReceived{From: "near", Msg: wire.Accept{Stripe: 1, Depth: 2}})
	if st := e.Stats(); st.Parents != 2 || st.Depth != 3 {
		t.Fatalf("after accepts: %+v, want 2 parents, depth 3", st)
	}
	step(t, e, 70*time.Millisecond, PeerConnected{Peer: "kid"})
	has(step(t, e, 70*time.Millisecond, MessageReceived{From: "kid", Msg: wire.Subscribe{Stripe: 1, Slots: 1}}), "kid:Accept:1@3")(t)
	acts = step(t, e, 100*time.Millisecond, MessageReceived{From: "near", Msg: chunk(101)})
	has(acts, "kid:Chunk:101")(t)
	if d := delivered(acts); !slices.Equal(d, []uint64{101}) {
		t.Errorf("delivered %v, want [101]", d)
	}
	// Stripe 0's chunk goes to nobody: kid takes stripe 1 only.
	if got := sends(step(t, e, 200*time.Millisecond, MessageReceived{From: "near", Msg: chunk(102)})); len(got) != 0 {
		t.Errorf("stripe 0 chunk forwarded: %v", got)
	}
}

// TestLiveFetchesTheBacklog: the tracker's word on the live edge starts a
// joiner at once, with its backlog fetched from the origin, before any
// data channel opens; later news from neighbours does not restart it.
func TestLiveFetchesTheBacklog(t *testing.T) {
	e := newEngine(t, Config{JoinBacklog: 3})
	acts := step(t, e, 0, Live{Newest: 40})
	var fetched []uint64
	for _, a := range acts {
		if f, ok := a.(Fetch); ok {
			fetched = append(fetched, f.Seq)
		}
	}
	if !slices.Equal(fetched, []uint64{37, 38, 39, 40}) {
		t.Fatalf("fetched %v, want 37-40", fetched)
	}
	step(t, e, 100*time.Millisecond, Fetched{Chunk: chunk(37)})
	step(t, e, 100*time.Millisecond, PeerConnected{Peer: "a"})
	step(t, e, 100*time.Millisecond, MessageReceived{From: "a", Msg: wire.Status{Newest: 44, Recent: 1, Depth: []uint8{1, 1, 1, 1}}})
	acts = step(t, e, 150*time.Millisecond, Fetched{Chunk: chunk(38)})
	if d := delivered(acts); !slices.Equal(d, []uint64{38}) {
		t.Fatalf("after a neighbour's Status, fetched 38 delivered %v: the start moved", d)
	}
	noop := newEngine(t, Config{NoJoinFetch: true})
	for _, a := range step(t, noop, 0, Live{Newest: 40}) {
		if _, ok := a.(Fetch); ok {
			t.Fatal("NoJoinFetch engine fetched on Live")
		}
	}
}

func delivered(acts []Action) []uint64 {
	var out []uint64
	for _, a := range acts {
		if d, ok := a.(Deliver); ok {
			out = append(out, d.Chunk.Seq)
		}
	}
	return out
}

// joined returns a peer with parent "p" for both stripes at depth 1 and the
// newest chunk 100 held, at t0.
func joined(t *testing.T, cfg Config) *Engine {
	t.Helper()
	cfg.Stripes, cfg.JoinBacklog = 2, 2
	e := newEngine(t, cfg)
	step(t, e, 0, PeerConnected{Peer: "p"})
	step(t, e, 0, PeerConnected{Peer: "q"})
	step(t, e, 0, PeerConnected{Peer: "o", Origin: true})
	step(t, e, 0, MessageReceived{From: "o", Msg: status(99, 0, 0, 0)})
	step(t, e, 0, MessageReceived{From: "q", Msg: status(99, 4, 3, 3)})
	step(t, e, 0, MessageReceived{From: "p", Msg: status(99, 4, 0, 0)})
	has(step(t, e, 0, Tick{}), "p:Subscribe:0", "p:Subscribe:1")(t)
	step(t, e, 0, MessageReceived{From: "p", Msg: wire.Accept{Stripe: 0, Depth: 0}})
	step(t, e, 0, MessageReceived{From: "p", Msg: wire.Accept{Stripe: 1, Depth: 0}})
	for s := uint64(97); s <= 100; s++ {
		step(t, e, 0, MessageReceived{From: "p", Msg: chunk(s)})
	}
	if st := e.Stats(); st.Parents != 2 {
		t.Fatalf("setup: %+v", st)
	}
	return e
}

// TestRepairAndFallback: a chunk known to exist but not pushed is requested
// after RepairAfter from a neighbour whose Status shows it, after a
// NotFound from one shallower than us, then from the origin, and fetched
// over HTTP after FallbackAfter.
func TestRepairAndFallback(t *testing.T) {
	e := joined(t, Config{RepairAfter: 400 * time.Millisecond, FallbackAfter: 1200 * time.Millisecond, RequestTimeout: 300 * time.Millisecond, StarveRounds: 10})
	step(t, e, time.Second, MessageReceived{From: "q", Msg: status(102, 4, 3, 3)})
	step(t, e, time.Second, MessageReceived{From: "p", Msg: chunk(102)}) // 101 is now known missing
	if got := sends(step(t, e, 1300*time.Millisecond, Tick{})); len(got) != 0 {
		t.Fatalf("repair before RepairAfter: %v", got)
	}
	steps := []struct {
		at   time.Duration
		ev   Event
		want string
	}{
		{1400 * time.Millisecond, Tick{}, "q:Request:101"}, // its Status shows 101
		{1450 * time.Millisecond, MessageReceived{From: "q", Msg: wire.NotFound{Seq: 101}}, ""},
		{1500 * time.Millisecond, Tick{}, "p:Request:101"}, // shallower than us
		{1850 * time.Millisecond, Tick{}, "o:Request:101"}, // p timed out
	}
	for _, s := range steps {
		got := sends(step(t, e, s.at, s.ev))
		if s.want != "" && !slices.Equal(got, []string{s.want}) {
			t.Fatalf("at %v sends %v, want %s", s.at, got, s.want)
		}
	}
	acts := step(t, e, 2200*time.Millisecond, Tick{})
	if !slices.ContainsFunc(acts, func(a Action) bool { f, ok := a.(Fetch); return ok && f.Seq == 101 }) {
		t.Fatalf("no Fetch for 101 after FallbackAfter: %v", acts)
	}
	acts = step(t, e, 2300*time.Millisecond, Fetched{Chunk: chunk(101)})
	if d := delivered(acts); !slices.Equal(d, []uint64{101}) {
		t.Fatalf("fetched chunk delivered %v", d)
	}
	if st := e.Stats(); st.ChunksFromOrigin != 1 || st.Fetches != 1 {
		t.Errorf("stats %+v: want one fetch, counted as from the origin", st)
	}
}

// TestParentLossRecovery: when a parent leaves, the peer subscribes to
// another neighbour at once, keeps advertising its depth for a grace
// period (its children stay), and never picks a deeper neighbour then.
func TestParentLossRecovery(t *testing.T) {
	e := joined(t, Config{})
	acts := step(t, e, 2*time.Second, PeerDisconnected{Peer: "p"})
	got := sends(acts)
	// o is full, q is at depth 3 (deeper than our 1): no candidate in the
	// grace period.
	if len(got) != 0 {
		t.Fatalf("during grace subscribed to a deeper neighbour: %v", got)
	}
	if st := e.Stats(); st.Depth != 1 {
		t.Fatalf("depth %d during grace, want the old 1", st.Depth)
	}
	acts = step(t, e, 3100*time.Millisecond, Tick{})
	has(acts, "q:Subscribe:0", "q:Subscribe:1")(t)
	if st := e.Stats(); st.Depth != -1 {
		t.Fatalf("depth %d after grace, want none", st.Depth)
	}
}

// TestStarvedParentIsLeft: a parent that stops pushing one stripe while
// the others flow is dropped for another.
func TestStarvedParentIsLeft(t *testing.T) {
	e := joined(t, Config{})
	var acts []Action
	// Stripe 1 (odd chunks) stops; stripe 0 keeps coming from p.
	for i, s := 0, uint64(102); s < 120; i, s = i+1, s+2 {
		at := time.Second + time.Duration(i)*500*time.Millisecond
		acts = append(acts, step(t, e, at, MessageReceived{From: "p", Msg: chunk(s)})...)
		acts = append(acts, step(t, e, at, Tick{})...)
	}
	has(acts, "p:Unsubscribe:1", "q:Subscribe:1")(t)
	if st := e.Stats(); st.Starved != 1 {
		t.Errorf("Starved = %d, want 1", st.Starved)
	}
}

// TestServeWithinBudget: repairs are served within the neighbour's rate
// and the spare upload; the rest get NotFound at once.
func TestServeWithinBudget(t *testing.T) {
	e := joined(t, Config{Upload: 1, ServeRate: 100})
	served, refused := 0, 0
	for i := 0; i < 10; i++ {
		for _, s := range sends(step(t, e, time.Second, MessageReceived{From: "q", Msg: wire.Request{Seq: 100}})) {
			switch s {
			case "q:Chunk:100":
				served++
			case "q:NotFound:100":
				refused++
			}
		}
	}
	// Upload 1 with no children: 2 stripes spare of 2, one chunk per
	// 250 ms, a burst of twice that rate = 8 at once.
	if served != 8 || refused != 2 {
		t.Errorf("served %d, refused %d; want 8 and 2", served, refused)
	}
	if got := sends(step(t, e, time.Second, MessageReceived{From: "q", Msg: wire.Request{Seq: 5}})); !slices.Equal(got, []string{"q:NotFound:5"}) {
		t.Errorf("request for an unknown chunk: %v", got)
	}
}

// TestHostileInputIsBounded: what a neighbour sends cannot grow the
// engine's state or break its invariants.
func TestHostileInputIsBounded(t *testing.T) {
	e := joined(t, Config{MaxPeers: 5, Window: 16, Slots: 2})
	msgs := []wire.Message{
		wire.Subscribe{Stripe: 9, Slots: 255},                      // no such stripe
		wire.Unsubscribe{Stripe: 200},                              // no such stripe
		wire.Accept{Stripe: 1, Depth: 0},                           // unasked
		wire.Status{Newest: 1 << 60, Recent: 1, Depth: []uint8{0}}, // wrong stripe count
		chunk(1 << 40),          // far out of the window
		chunk(3),                // long gone
		wire.Have{Seq: 1 << 50}, // another version's message
	}
	for _, m := range msgs {
		step(t, e, time.Second, MessageReceived{From: "q", Msg: m})
	}
	for i := 0; i < 64; i++ {
		step(t, e, time.Second, MessageReceived{From: "q", Msg: chunk(101 + uint64(i))})
	}
	for i := 0; i < 10; i++ {
		step(t, e, time.Second, PeerConnected{Peer: PeerID("x" + itoa(uint64(i)))})
		step(t, e, time.Second, MessageReceived{From: "q", Msg: wire.Subscribe{Stripe: uint8(i % 2), Slots: 1}})
	}
	st := e.Stats()
	if st.Held > 16 || st.Peers > 5 || st.Children > 2 || st.Newest != 164 {
		t.Errorf("stats %+v: want Held ≤ 16, Peers ≤ 5, Children ≤ 2, Newest 164", st)
	}
	if st.Dropped < 5 {
		t.Errorf("Dropped = %d, want the hostile messages counted", st.Dropped)
	}
}

func TestStepRejectsImpossibleEvents(t *testing.T) {
	e := newEngine(t, Config{})
	step(t, e, time.Second, PeerConnected{Peer: "a"})
	cases := []struct {
		name string
		at   time.Duration
		ev   Event
		want error
	}{
		{"unknown peer message", time.Second, MessageReceived{From: "zz", Msg: wire.Request{}}, ErrUnknownPeer},
		{"unknown peer leaves", time.Second, PeerDisconnected{Peer: "zz"}, ErrUnknownPeer},
		{"duplicate peer", time.Second, PeerConnected{Peer: "a"}, ErrDuplicatePeer},
		{"publish on a viewer", time.Second, Published{Chunk: chunk(1)}, ErrNotOrigin},
		{"time backwards", 0, Tick{}, ErrTimeBackward},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.Step(t0.Add(tc.at), tc.ev); !errors.Is(err, tc.want) {
				t.Fatalf("Step = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{}, true},
		{"too many stripes", Config{Stripes: wire.MaxStripes + 1}, false},
		{"backlog beyond window", Config{Window: 4, JoinBacklog: 4}, false},
		{"depth limit at NoDepth", Config{MaxDepth: 255}, false},
		{"slots from upload", Config{Upload: 6, Stripes: 4}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Rand = rand.New(rand.NewPCG(1, 1))
			_, err := New(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("New = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	e := newEngine(t, Config{Upload: 6, Stripes: 4})
	if s := e.Stats().Slots; s != 21 {
		t.Errorf("Upload 6 × 4 stripes × 0.9 = %d slots, want 21", s)
	}
}

// TestOwnStallIsForgiven: when the driver itself stalls (no Tick for
// seconds, as in a starved browser tab), the parents' silence over that
// gap is not held against them.
func TestOwnStallIsForgiven(t *testing.T) {
	e := joined(t, Config{})
	step(t, e, 50*time.Millisecond, Tick{})
	// 3 s without a tick, then the next chunk arrives and ticks resume.
	acts := step(t, e, 3050*time.Millisecond, Tick{})
	acts = append(acts, step(t, e, 3100*time.Millisecond, MessageReceived{From: "p", Msg: chunk(102)})...)
	acts = append(acts, step(t, e, 3300*time.Millisecond, Tick{})...)
	for _, s := range sends(acts) {
		if s == "p:Unsubscribe:0" || s == "p:Unsubscribe:1" {
			t.Fatalf("left a parent for our own stall: %v", sends(acts))
		}
	}
	if st := e.Stats(); st.Stalls != 1 || st.Starved != 0 {
		t.Errorf("stats %+v: want one stall, no parent starved", st)
	}
}

// TestOriginRootsEveryStripe: an origin allowed less than a copy of the
// stream still takes one child per stripe, or a stripe would have no tree.
func TestOriginRootsEveryStripe(t *testing.T) {
	e := newEngine(t, Config{Origin: true, Stripes: 4, Upload: 0.5})
	if s := e.Stats().Slots; s != 4 {
		t.Fatalf("origin with half a copy has %d slots, want 4 (one per stripe)", s)
	}
}

// TestJoinAtTheNewestKeyframe: a joiner starts where its player is (From)
// if that is within 3/4 of the window, else at the keyframe the Live
// names, or JoinBacklog behind the newest chunk if that is older, never
// more than 3/4 of the window back, and fetches from there to the newest
// chunk at once, whatever the keyframe interval (docs/PROTOCOL.md §3.8).
// Chunks are 125 ms; the newest chunk is 1000.
func TestJoinAtTheNewestKeyframe(t *testing.T) {
	const n = 1_764_000_001_000 // as large as an origin's numbers
	cases := []struct {
		name      string
		keyframe  uint64 // newest keyframe chunk
		from      uint64 // where the player is (Live.From)
		wantStart uint64 // 0: nothing to fetch
	}{
		{"0.5 s keyframes, one 3 chunks back", n - 3, 0, n - 12},
		{"2 s keyframes, one 5 chunks back", n - 5, 0, n - 12},
		{"2 s keyframes, one 15 chunks back", n - 15, 0, n - 15},
		{"8 s keyframes, one 63 chunks back", n - 63, 0, n - 63},
		{"8 s keyframes, the newest chunk", n, 0, n - 12},
		{"16 s keyframes, one 127 chunks back: 96 at most", n - 127, 0, n - 96},
		{"no keyframe known", 0, 0, n - 12},
		{"the page played up to 3 chunks back", n - 15, n - 2, n - 2},
		{"the page is at the live edge", n - 15, n + 1, 0},
		{"the page is ahead of the tracker", n - 15, n + 3, 0},
		{"the page is too far behind: keyframe rule", n - 15, n - 100, n - 15},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, Config{})
			var fetched []uint64
			for _, a := range step(t, e, 0, Live{Newest: n, Keyframe: tc.keyframe, From: tc.from}) {
				if f, ok := a.(Fetch); ok {
					fetched = append(fetched, f.Seq)
				}
			}
			if tc.wantStart == 0 { // nothing to fetch; the next chunk is wanted
				if len(fetched) != 0 {
					t.Fatalf("fetched %v, want nothing", fetched)
				}
				next := max(uint64(n+1), tc.from)
				acts := step(t, e, 100*time.Millisecond, Fetched{Chunk: chunk(next)})
				if d := delivered(acts); len(d) != 1 || d[0] != next {
					t.Fatalf("delivered %v, want %d", d, next)
				}
				return
			}
			if len(fetched) == 0 || fetched[0] != tc.wantStart || fetched[len(fetched)-1] != n || len(fetched) != int(n-tc.wantStart+1) {
				t.Fatalf("fetched %d chunks from %d, want %d to %d", len(fetched), first(fetched), tc.wantStart, uint64(n))
			}
			// What was fetched is delivered, keyframe first.
			acts := step(t, e, 100*time.Millisecond, Fetched{Chunk: chunk(tc.wantStart)})
			if d := delivered(acts); len(d) != 1 || d[0] != tc.wantStart {
				t.Fatalf("delivered %v, want %d", d, tc.wantStart)
			}
		})
	}
}

func first(s []uint64) uint64 {
	if len(s) == 0 {
		return 0
	}
	return s[0]
}

// world drives one engine with no neighbours on a virtual clock: an
// origin cuts a chunk every 125 ms from chunk first at time 0 (with a
// keyframe every keyEvery chunks), the tracker passes the edge on every
// second as a Live a signaling latency after a chunk is cut, and fetches
// take a round trip, failing for chunks not yet published when the request
// arrives or before first.
type world struct {
	t             *testing.T
	e             *Engine
	first         uint64
	keyEvery      uint64
	sig, rtt      time.Duration
	pause, resume time.Duration // the stream stops in [pause, resume)
	joinAt        time.Duration
	queue         []wev
	got           map[uint64]time.Duration // delivery time per chunk
	trace         func(at time.Duration, a Action)
	dups, fetches int
	failed, early int // fetches that failed; of which while the stream was not paused
	// burst, when set, is how often the origin cuts chunks: as an
	// ingest that caught up after a hiccup does, all the chunks of each
	// burst at once, stamped a millisecond apart.
	burst time.Duration
}

type wev struct {
	at time.Duration
	ev Event
}

const ivl = 125 * time.Millisecond

// published returns how many chunks are out by at.
func (w *world) published(at time.Duration) uint64 {
	if at < 0 {
		return 0
	}
	if w.burst > 0 {
		at = at / w.burst * w.burst
	}
	if w.resume > w.pause && at >= w.pause {
		if at < w.resume {
			at = w.pause - 1
		} else {
			at -= w.resume - w.pause
		}
	}
	return uint64(at/ivl) + 1
}

// pubTime is when chunk seq was cut.
func (w *world) pubTime(seq uint64) time.Duration {
	at := time.Duration(seq-w.first) * ivl
	if w.resume > w.pause && at >= w.pause {
		at += w.resume - w.pause
	}
	if w.burst > 0 { // cut at the end of its burst, a millisecond after the one before
		in := at % w.burst
		if in == 0 {
			in = w.burst
		}
		at += w.burst - in + time.Duration(in/ivl)*time.Millisecond
	}
	return at
}

func (w *world) chunk(seq uint64) wire.Chunk {
	c := wire.Chunk{Seq: seq, Timestamp: t0.Add(w.pubTime(seq)).UnixMilli(), Payload: []byte{byte(seq)}}
	if (seq-w.first)%w.keyEvery == 0 {
		c.Flags = wire.FlagKeyframe
	}
	return c
}

func (w *world) edge(at time.Duration) Live {
	n := w.first + w.published(at) - 1
	return Live{Newest: n, Keyframe: n - (n-w.first)%w.keyEvery}
}

func (w *world) push(at time.Duration, ev Event) {
	i, _ := slices.BinarySearchFunc(w.queue, at, func(q wev, at time.Duration) int {
		if q.at <= at {
			return -1
		}
		return 1
	})
	w.queue = slices.Insert(w.queue, i, wev{at, ev})
}

// run plays the world until end.
func (w *world) run(end time.Duration) {
	w.got = map[uint64]time.Duration{}
	w.push(w.joinAt+w.sig, w.edge(w.joinAt)) // the welcome
	for tk := w.joinAt + w.sig; tk < end; tk += 50 * time.Millisecond {
		w.push(tk, Tick{})
	}
	// The tracker's Lives: as a chunk is cut, a second or more after the
	// last one (at once, then, when the stream resumes after a pause).
	last := w.joinAt
	for s := w.first; w.pubTime(s) < end; s++ {
		if at := w.pubTime(s); at-last >= time.Second {
			w.push(at+w.sig, w.edge(at))
			last = at
		}
	}
	for len(w.queue) > 0 && w.queue[0].at < end {
		q := w.queue[0]
		w.queue = w.queue[1:]
		for _, a := range step(w.t, w.e, q.at, q.ev) {
			if w.trace != nil {
				w.trace(q.at, a)
			}
			switch a := a.(type) {
			case Fetch:
				w.fetches++
				arrive := q.at + w.rtt/2
				if a.Seq >= w.first && a.Seq < w.first+w.published(arrive) {
					w.push(q.at+w.rtt, Fetched{Chunk: w.chunk(a.Seq)})
				} else {
					w.failed++
					if a.Seq >= w.first && (arrive < w.pause || arrive >= w.resume) {
						w.early++
					}
					w.push(q.at+w.rtt, FetchFailed{Seq: a.Seq})
				}
			case Deliver:
				if _, ok := w.got[a.Chunk.Seq]; ok {
					w.dups++
				}
				w.got[a.Chunk.Seq] = q.at
			case Send:
				w.t.Fatalf("a peer without neighbours sent %v", a)
			}
		}
	}
}

// TestLonelyViewerPlaysFromFetches: a viewer that no data channel ever
// reaches plays every chunk from origin fetches, each within DueMargin
// plus a round trip and a tick of its publication once it has been
// without parents for LonelyAfter, and within FallbackAfter of it
// before; a stream that stops for 10 s costs a few failed fetches, not
// one per chunk interval (docs/PROTOCOL.md §3.7).
func TestLonelyViewerPlaysFromFetches(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sig, rtt time.Duration
	}{
		{"near", 10 * time.Millisecond, 30 * time.Millisecond},
		{"far", 150 * time.Millisecond, 300 * time.Millisecond},
		// An ingest that cuts in bursts (as after a hiccup, when the
		// encoder's data comes in at once): chunks a millisecond apart.
		{"bursts", 10 * time.Millisecond, 30 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const first = 1_764_000_000_000
			w := &world{t: t, e: newEngine(t, Config{}), first: first, keyEvery: 8, sig: tc.sig, rtt: tc.rtt,
				joinAt: 5 * time.Second, pause: 40 * time.Second, resume: 50 * time.Second}
			if tc.name == "bursts" {
				w.burst = 4 * ivl
			}
			const end = 70 * time.Second
			w.run(end)
			cfg := w.e.cfg
			lonely := w.joinAt + w.sig + cfg.LonelyAfter + 50*time.Millisecond
			var late []string
			start := w.edge(w.joinAt).Newest - uint64(cfg.JoinBacklog)
			last := w.first + w.published(end-time.Second) - 1
			for s := start; s <= last; s++ {
				at, ok := w.got[s]
				if !ok {
					t.Errorf("chunk %d (published at %v) never delivered", s-first, w.pubTime(s))
					continue
				}
				pub := w.pubTime(s)
				bound := cfg.FallbackAfter + tc.rtt + tc.sig + 2*ivl
				if pub >= lonely {
					// In bursts, the probe for a chunk comes at its
					// regular time, up to a burst before it is cut.
					bound = cfg.DueMargin + tc.rtt + tc.sig + 50*time.Millisecond + w.burst
				}
				if s > w.edge(w.joinAt).Newest && at-pub > bound {
					late = append(late, fmt.Sprintf("%d: %v after publication (bound %v)", s-first, at-pub, bound))
				}
			}
			if len(late) > 0 {
				t.Errorf("%d chunks late: %v", len(late), late)
			}
			if w.dups != 0 {
				t.Errorf("%d duplicates", w.dups)
			}
			// The 10 s pause: a probe every 2 s at most, after the first
			// misses (half an interval, then doubling). No probe comes
			// too early while chunks flow, but for bursts: then fewer
			// than one a burst (the first probes for a burst's chunks
			// come at their regular times). An interval estimated from
			// two chunks of a burst made that 919.
			switch {
			case w.burst > 0:
				if bursts := int((end - w.joinAt - (w.resume - w.pause)) / w.burst); w.failed > bursts+12 {
					t.Errorf("%d failed fetches with the chunks cut in %d bursts; want fewer than one a burst", w.failed, bursts)
				}
			case w.failed > 12 || w.early > 0:
				t.Errorf("%d failed fetches, %d of them while the stream ran; want a handful over the 10 s pause, none else", w.failed, w.early)
			}
			st := w.e.Stats()
			t.Logf("%d fetches (%d probes), %d failed; %d chunks delivered", w.fetches, st.Probes, w.failed, len(w.got))
		})
	}
}

// TestLiveAfterTheStart: a peer with parents takes a Live only as the
// anchor of its predictions while its trees push (they tell it of new
// chunks, however far behind the origin it sits, and its repair deadlines
// count from then); one whose parents all went quiet for quietRounds
// rounds, or without parents, learns from it that the chunks exist, dated
// from when they were due; a jump beyond the window (a new run of the
// origin) is believed by all.
func TestLiveAfterTheStart(t *testing.T) {
	e := joined(t, Config{}) // 2 stripes, chunks up to 100 pushed at 0 s
	step(t, e, 100*time.Millisecond, Live{Newest: 110})
	if n := e.Stats().Newest; n != 100 {
		t.Fatalf("a peer whose parents push learnt %d from a Live", n)
	}
	// Chunk timestamps are 250 ms apart: a round of 2 stripes is 500 ms.
	step(t, e, 900*time.Millisecond, Live{Newest: 111})
	if n := e.Stats().Newest; n != 100 {
		t.Fatalf("a peer whose parents were quiet for 0.9 s (< 2 rounds) learnt %d from a Live", n)
	}
	step(t, e, time.Second, Live{Newest: 112})
	if n := e.Stats().Newest; n != 112 {
		t.Fatalf("a peer whose parents were quiet for 2 rounds: Newest %d after Live{112}, want 112", n)
	}
	jump := uint64(100 + 128 + 50)
	step(t, e, time.Second, Live{Newest: jump})
	if n := e.Stats().Newest; n != jump {
		t.Fatalf("Newest %d after a Live beyond the window, want %d", n, jump)
	}

	alone := newEngine(t, Config{})
	step(t, alone, 0, Live{Newest: 40, Keyframe: 40})
	for s := uint64(28); s <= 40; s++ {
		step(t, alone, 100*time.Millisecond, Fetched{Chunk: chunk(s)}) // timestamps 250 ms apart
	}
	step(t, alone, 200*time.Millisecond, Tick{})
	step(t, alone, 2*time.Second, Live{Newest: 47})
	if n := alone.Stats().Newest; n != 47 {
		t.Fatalf("a peer without parents: Newest %d after Live{47}, want 47", n)
	}
	// Chunk 41 was due about 6 intervals of 250 ms before this Live: its
	// deadline (FallbackAfter, 1.2 s, not yet lonely) has passed already.
	acts := step(t, alone, 2050*time.Millisecond, Tick{})
	if !slices.ContainsFunc(acts, func(a Action) bool { f, ok := a.(Fetch); return ok && f.Seq == 41 }) {
		t.Errorf("chunk 41, due 1.5 s ago, not fetched: %v", acts)
	}
}

// TestBacklogBeforeTheStreamStarts: a viewer that joins in the stream's
// first second starts JoinBacklog before its first chunk (numbers do not
// start at 0); the fetches of chunks that never existed fail once and are
// given up, not retried, and nothing counts as missed.
func TestBacklogBeforeTheStreamStarts(t *testing.T) {
	const first = 1_764_000_000_000
	w := &world{t: t, e: newEngine(t, Config{}), first: first, keyEvery: 8, sig: 20 * time.Millisecond, rtt: 50 * time.Millisecond,
		joinAt: 400 * time.Millisecond}
	w.run(30 * time.Second)
	backlog := uint64(w.e.cfg.JoinBacklog) - 3 // chunks 0-3 were out at the join
	if w.failed != int(backlog) {
		t.Errorf("%d fetches failed, want the %d before the first chunk, once each", w.failed, backlog)
	}
	for s := uint64(first); s < first+200; s++ {
		if _, ok := w.got[s]; !ok {
			t.Errorf("chunk %d never delivered", s-first)
		}
	}
	if st := w.e.Stats(); st.Missed != 0 {
		t.Errorf("Missed = %d, want 0", st.Missed)
	}
}
