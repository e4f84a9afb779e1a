package malpeer_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shoal-live/shoal/shared/node"
	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/origin"
	"github.com/shoal-live/shoal/signal/server"
	"github.com/shoal-live/shoal/tools/malpeer"
)

// testLogger logs through t with -v, and nowhere otherwise.
func testLogger(t *testing.T) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// honest is a native viewer that checks what it is handed.
type honest struct {
	mu      sync.Mutex
	got     map[uint64]bool
	corrupt int // deliveries whose payload is not the synthetic stream's: must stay 0
	stats   node.Stats
	done    chan error
}

func startHonest(t *testing.T, ctx context.Context, base string) *honest {
	t.Helper()
	conn, err := signaling.DialWebSocket(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/signal")
	if err != nil {
		t.Fatal(err)
	}
	h := &honest{got: map[uint64]bool{}, done: make(chan error, 1)}
	n, err := node.New(node.Config{
		Stream: "demo", Signal: conn, LoopbackOnly: true,
		Fetch:  node.HTTPFetcher(base, nil),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnDeliver: func(d node.Delivery) {
			h.mu.Lock()
			defer h.mu.Unlock()
			if !origin.CheckSynthetic(d.Chunk) {
				h.corrupt++
			}
			h.got[d.Chunk.Seq] = true
		},
		OnStats: func(s node.Stats) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.stats = s
		},
		StatsInterval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { h.done <- n.Run(ctx) }()
	return h
}

// newest is the newest chunk h was handed, 0 before any.
func (h *honest) newest() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var n uint64
	for s := range h.got {
		n = max(n, s)
	}
	return n
}

// snapshot is h's latest stats.
func (h *honest) snapshot() node.Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stats
}

// poll calls ok every 20 ms until it holds or ctx ends, and reports
// whether it held.
func poll(ctx context.Context, ok func() bool) bool {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !ok() {
		select {
		case <-ctx.Done():
			return ok()
		case <-tick.C:
		}
	}
	return true
}

// waitFor polls ok until it holds, and fails the test when ctx ends first.
func waitFor(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	if !poll(ctx, ok) {
		t.Fatalf("gave up waiting for %s: %v", what, ctx.Err())
	}
}

// TestMaliciousPeer puts the attacker in a swarm of four honest native
// peers: no honest peer plays or forwards anything that fails
// verification, all keep receiving the stream, and the attacker ends up
// quarantined and never introduced again.
func TestMaliciousPeer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs WebRTC for several seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv, err := server.New(server.Config{
		DemoStream: "demo", DemoSource: "synthetic", DemoInterval: 250 * time.Millisecond, DemoChunkSize: 16 << 10,
		LoopbackOnly: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, fstest.MapFS{"index.html": {Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	// The honest peers join one after another, each once the one before
	// has a chunk, and the attackers come once every one has a neighbour
	// besides the origin and a parent in every stripe (Depth -1: a stripe
	// without).
	peers := make([]*honest, 4)
	for i := range peers {
		peers[i] = startHonest(t, ctx, base)
		waitFor(t, ctx, fmt.Sprintf("honest %d's first chunk", i), func() bool { return peers[i].newest() > 0 })
	}
	waitFor(t, ctx, "the honest peers' swarm", func() bool {
		for _, h := range peers {
			if s := h.snapshot(); s.Depth < 1 || s.Peers < 2 {
				return false
			}
		}
		return true
	})

	// Attackers in turn, two attacks each, so that every attack is tried
	// before the tracker quarantines the one sending it (two reports).
	var attackers []malpeer.Stats
	for _, set := range [][]malpeer.Attack{
		{malpeer.Corrupt, malpeer.Truncate},
		{malpeer.Renumber, malpeer.Window},
		{malpeer.Flood, malpeer.Unsigned},
		{malpeer.Oversized, malpeer.Replay},
	} {
		actx, acancel := context.WithTimeout(ctx, 12*time.Second)
		st, err := malpeer.Run(actx, malpeer.Config{Base: base, Stream: "demo", LoopbackOnly: true, Attacks: set, Logger: testLogger(t)})
		acancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("attacker: %+v", st)
		attackers = append(attackers, st)
	}
	// The honest peers go on without the attackers: within 4 s each gets
	// 8 chunks newer than its newest now (2 s of stream).
	before := make([]uint64, len(peers))
	for i, h := range peers {
		before[i] = h.newest()
	}
	wctx, wcancel := context.WithTimeout(ctx, 4*time.Second)
	defer wcancel()
	for i, h := range peers {
		poll(wctx, func() bool { return h.newest() >= before[i]+8 })
	}

	for i, st := range attackers {
		if st.Opened == 0 {
			t.Errorf("attacker %d never got a data channel open", i)
		}
		if !st.Quarantined {
			t.Errorf("attacker %d was not quarantined", i)
		}
		if st.IntroducedAfterQuarantine != 0 {
			t.Errorf("attacker %d was introduced to %d peers after its quarantine", i, st.IntroducedAfterQuarantine)
		}
	}
	refused := 0
	for i, h := range peers {
		h.mu.Lock()
		s, corrupt := h.stats, h.corrupt
		h.mu.Unlock()
		refused += s.VerifyFailures + s.BadMessages + s.Floods
		t.Logf("honest %d: %d chunks, verified %d, failures %d (stale %d), bad messages %d, floods %d, delivered bad %d, forwarded bad %d",
			i, s.Chunks, s.Verified, s.VerifyFailures, s.StaleChunks, s.BadMessages, s.Floods, s.DeliveredBad, s.ForwardedBad)
		if corrupt != 0 || s.DeliveredBad != 0 || s.ForwardedBad != 0 {
			t.Errorf("honest %d played or forwarded bad data: %d corrupt deliveries, %d delivered unverified, %d forwarded unverified",
				i, corrupt, s.DeliveredBad, s.ForwardedBad)
		}
		if after := h.newest(); after < before[i]+8 {
			t.Errorf("honest %d stalled: newest chunk %d 4 s after the attackers, was %d", i, after, before[i])
		}
	}
	if refused == 0 {
		t.Error("no honest peer refused anything: the attacks never reached them")
	}
	cancel()
	for _, h := range peers {
		<-h.done
	}
	<-served
}
