package swarm

import (
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

// sends returns the Send actions as "to:Type:seq" strings.
func sends(acts []Action) []string {
	var out []string
	for _, a := range acts {
		if s, ok := a.(Send); ok {
			out = append(out, string(s.To)+":"+s.Msg.Type().String()+":"+seqOf(s.Msg))
		}
	}
	return out
}

func seqOf(m wire.Message) string {
	switch m := m.(type) {
	case wire.Have:
		return itoa(m.Seq)
	case wire.Request:
		return itoa(m.Seq)
	case wire.Chunk:
		return itoa(m.Seq)
	case wire.NotFound:
		return itoa(m.Seq)
	case wire.BufferMap:
		return itoa(m.Base) + "+" + itoa(uint64(len(m.Bits)))
	}
	return "?"
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

func TestOriginPushesRoundRobin(t *testing.T) {
	e := newEngine(t, Config{Origin: true, OriginFanout: 1})
	for _, p := range []PeerID{"a", "b", "c"} {
		step(t, e, 0, PeerConnected{Peer: p})
	}
	var got []string
	for s := uint64(0); s < 4; s++ {
		got = append(got, sends(step(t, e, time.Duration(s)*250*time.Millisecond, Published{Chunk: chunk(s)}))...)
	}
	want := []string{"a:Chunk:0", "b:Chunk:1", "c:Chunk:2", "a:Chunk:3"}
	if !slices.Equal(got, want) {
		t.Fatalf("origin sends = %v, want %v", got, want)
	}
	// The origin never requests and never announces.
	if acts := step(t, e, time.Second, MessageReceived{From: "a", Msg: wire.Have{Seq: 9}}); len(acts) != 0 {
		t.Fatalf("origin reacted to a Have: %v", acts)
	}
}

func TestPeerPullsAnnouncedChunkAndAnnouncesIt(t *testing.T) {
	e := newEngine(t, Config{})
	step(t, e, 0, PeerConnected{Peer: "a"})
	step(t, e, 0, PeerConnected{Peer: "b"})
	acts := step(t, e, 0, MessageReceived{From: "a", Msg: wire.Have{Seq: 0}})
	if got := sends(acts); !slices.Equal(got, []string{"a:Request:0"}) {
		t.Fatalf("after Have: %v, want a request to a", got)
	}
	acts = step(t, e, 10*time.Millisecond, MessageReceived{From: "a", Msg: chunk(0)})
	var delivered []uint64
	for _, a := range acts {
		if d, ok := a.(Deliver); ok {
			delivered = append(delivered, d.Chunk.Seq)
			if d.From != "a" || d.FromOrigin {
				t.Errorf("Deliver from %q origin=%v, want a, false", d.From, d.FromOrigin)
			}
		}
	}
	if !slices.Equal(delivered, []uint64{0}) {
		t.Fatalf("delivered %v, want [0]", delivered)
	}
	if got := sends(acts); !slices.Equal(got, []string{"b:Have:0"}) {
		t.Fatalf("announcements %v, want only to b (a sent it)", got)
	}
	// A second copy is a duplicate, not a second delivery.
	acts = step(t, e, 20*time.Millisecond, MessageReceived{From: "b", Msg: chunk(0)})
	for _, a := range acts {
		if _, ok := a.(Deliver); ok {
			t.Fatal("delivered a chunk twice")
		}
	}
	if s := e.Stats(); s.Duplicates != 1 || s.Chunks != 1 || s.ChunksFromPeers != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestRequestTimeoutAsksAnotherNeighbour(t *testing.T) {
	e := newEngine(t, Config{RequestTimeout: time.Second, FallbackAfter: 5 * time.Second})
	step(t, e, 0, PeerConnected{Peer: "a"})
	step(t, e, 0, PeerConnected{Peer: "b"})
	first := sends(step(t, e, 0, MessageReceived{From: "a", Msg: wire.Have{Seq: 0}}))
	step(t, e, 0, MessageReceived{From: "b", Msg: wire.Have{Seq: 0}})
	if !slices.Equal(first, []string{"a:Request:0"}) {
		t.Fatalf("first request %v", first)
	}
	if got := sends(step(t, e, 999*time.Millisecond, Tick{})); len(got) != 0 {
		t.Fatalf("re-requested before the timeout: %v", got)
	}
	if got := sends(step(t, e, time.Second, Tick{})); !slices.Equal(got, []string{"b:Request:0"}) {
		t.Fatalf("after timeout: %v, want a request to b", got)
	}
}

func TestNotFoundAsksAnotherNeighbour(t *testing.T) {
	e := newEngine(t, Config{})
	step(t, e, 0, PeerConnected{Peer: "a"})
	step(t, e, 0, PeerConnected{Peer: "b"})
	step(t, e, 0, MessageReceived{From: "a", Msg: wire.Have{Seq: 0}})
	step(t, e, 0, MessageReceived{From: "b", Msg: wire.Have{Seq: 0}})
	// Whoever was asked answers NotFound; the other must be asked at once.
	asked := "a"
	if e.wants[0].from == "b" {
		asked = "b"
	}
	other := map[string]string{"a": "b", "b": "a"}[asked]
	got := sends(step(t, e, 0, MessageReceived{From: PeerID(asked), Msg: wire.NotFound{Seq: 0}}))
	if !slices.Equal(got, []string{other + ":Request:0"}) {
		t.Fatalf("after NotFound from %s: %v", asked, got)
	}
}

func TestFallbackFetchesFromOrigin(t *testing.T) {
	e := newEngine(t, Config{FallbackAfter: 2 * time.Second})
	step(t, e, 0, PeerConnected{Peer: "a"})
	// a announces 5: chunks 1..5 (JoinBacklog 4) are wanted; a only has 5.
	step(t, e, 0, MessageReceived{From: "a", Msg: wire.Have{Seq: 5}})
	var fetched []uint64
	for _, a := range step(t, e, 2*time.Second, Tick{}) {
		if f, ok := a.(Fetch); ok {
			fetched = append(fetched, f.Seq)
		}
	}
	// 1..4 nobody announced; 5 was asked of a, which never answered.
	if !slices.Equal(fetched, []uint64{1, 2, 3, 4, 5}) {
		t.Fatalf("fetched %v, want 1..5", fetched)
	}
	acts := step(t, e, 2100*time.Millisecond, Fetched{Chunk: chunk(1)})
	if len(acts) == 0 {
		t.Fatal("no delivery for a fetched chunk")
	}
	if d, ok := acts[0].(Deliver); !ok || !d.FromOrigin || d.Chunk.Seq != 1 {
		t.Fatalf("first action %#v, want Deliver of 1 from origin", acts[0])
	}
	// A failed fetch is retried after RequestTimeout.
	step(t, e, 2100*time.Millisecond, FetchFailed{Seq: 2})
	var retried bool
	for _, a := range step(t, e, 3200*time.Millisecond, Tick{}) {
		if f, ok := a.(Fetch); ok && f.Seq == 2 {
			retried = true
		}
	}
	if !retried {
		t.Fatal("failed fetch was not retried")
	}
}

func TestBounds(t *testing.T) {
	e := newEngine(t, Config{Window: 16, MaxPeers: 2})
	step(t, e, 0, PeerConnected{Peer: "a"})
	step(t, e, 0, PeerConnected{Peer: "b"})
	acts := step(t, e, 0, PeerConnected{Peer: "c"})
	if len(acts) != 1 {
		t.Fatalf("third peer: %v, want one Disconnect", acts)
	}
	if d, ok := acts[0].(Disconnect); !ok || d.Peer != "c" {
		t.Fatalf("third peer: %#v, want Disconnect of c", acts[0])
	}
	step(t, e, 0, MessageReceived{From: "a", Msg: wire.Have{Seq: 1000}})
	// Announcements far outside the window are ignored, so a neighbour
	// cannot make us track millions of chunks.
	for s := uint64(0); s < 5000; s += 7 {
		step(t, e, 0, MessageReceived{From: "b", Msg: wire.Have{Seq: 1000 + 100 + s}})
	}
	if n := len(e.wants); n > 16 {
		t.Fatalf("%d wants, window is 16", n)
	}
	if n := len(e.peers["b"].has); n > 32 {
		t.Fatalf("tracking %d announcements from b, want at most 2 windows", n)
	}
	// Delivering chunks far beyond the window keeps held chunks bounded.
	for s := uint64(1000); s < 1200; s++ {
		step(t, e, time.Duration(s)*time.Millisecond, MessageReceived{From: "a", Msg: chunk(s)})
	}
	if n := len(e.chunks); n > 16 {
		t.Fatalf("holding %d chunks, window is 16", n)
	}
}

func TestStepRejectsImpossibleEvents(t *testing.T) {
	e := newEngine(t, Config{})
	tests := []struct {
		name string
		at   time.Duration
		ev   Event
	}{
		{"message from a stranger", time.Second, MessageReceived{From: "x", Msg: wire.Have{Seq: 1}}},
		{"disconnect of a stranger", time.Second, PeerDisconnected{Peer: "x"}},
		{"publish on a viewer", time.Second, Published{Chunk: chunk(1)}},
		{"time going backwards", 0, Tick{}},
	}
	step(t, e, time.Second, Tick{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.Step(t0.Add(tt.at), tt.ev); err == nil {
				t.Fatal("Step accepted it")
			}
		})
	}
}

// TestJoinStartsNearTheLiveEdge: a peer joining a neighbour that holds a
// long window starts JoinBacklog chunks behind the newest, not at the
// oldest chunk the neighbour still has.
func TestJoinStartsNearTheLiveEdge(t *testing.T) {
	e := newEngine(t, Config{JoinBacklog: 4})
	step(t, e, 0, PeerConnected{Peer: "a"})
	bits := make([]bool, 64)
	for i := range bits {
		bits[i] = true
	}
	acts := step(t, e, 0, MessageReceived{From: "a", Msg: wire.BufferMap{Base: 100, Bits: bits}})
	var asked []uint64
	for _, a := range acts {
		if s, ok := a.(Send); ok {
			if r, ok := s.Msg.(wire.Request); ok {
				asked = append(asked, r.Seq)
			}
		}
	}
	if !slices.Equal(asked, []uint64{159, 160, 161, 162, 163}) {
		t.Fatalf("joining peer asked for %v, want the newest 5 (159..163)", asked)
	}
}
