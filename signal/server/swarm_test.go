package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shoal-live/shoal/shared/node"
	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/origin"
	"github.com/shoal-live/shoal/signal/server"
)

// startServer runs a quiet server with cfg on a loopback port and returns
// its base URL.
func startServer(t *testing.T, ctx context.Context, cfg server.Config) string {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := server.New(cfg, fstest.MapFS{"index.html": {Data: []byte("<h1>Shoal</h1>")}})
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, ctx, srv)
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// viewer is a native peer that records what it got.
type viewer struct {
	mu       sync.Mutex
	got      map[uint64]bool // seq -> from origin
	corrupt  int
	cancel   context.CancelFunc
	runErr   chan error
	lastSeen uint64
}

func startViewer(t *testing.T, ctx context.Context, base, stream string) *viewer {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	conn, err := signaling.DialWebSocket(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/signal")
	if err != nil {
		t.Fatal(err)
	}
	v := &viewer{got: map[uint64]bool{}, cancel: cancel, runErr: make(chan error, 1)}
	n, err := node.New(node.Config{
		Stream:       stream,
		Signal:       conn,
		LoopbackOnly: true,
		Fetch:        node.HTTPFetcher(base, nil),
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnDeliver: func(d node.Delivery) {
			v.mu.Lock()
			defer v.mu.Unlock()
			if !origin.CheckSynthetic(d.Chunk) {
				v.corrupt++
			}
			if _, dup := v.got[d.Chunk.Seq]; dup {
				v.corrupt++ // the engine promises each chunk once
			}
			v.got[d.Chunk.Seq] = d.FromOrigin
			v.lastSeen = max(v.lastSeen, d.Chunk.Seq)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { v.runErr <- n.Run(ctx) }()
	return v
}

func (v *viewer) snapshot() (got map[uint64]bool, corrupt int, newest uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	got = make(map[uint64]bool, len(v.got))
	for k, x := range v.got {
		got[k] = x
	}
	return got, v.corrupt, v.lastSeen
}

// count is how many chunks v got.
func (v *viewer) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.got)
}

func (v *viewer) stop(t *testing.T) {
	v.cancel()
	if err := <-v.runErr; err != nil {
		t.Errorf("viewer: %v", err)
	}
}

// TestNativeSwarm runs the real server and four native pion peers on
// loopback: every peer must get every chunk of the stream after it joined,
// uncorrupted and once, mostly from each other (the origin may send one
// copy of the stream, three of the sixteen stripe subscriptions); a peer
// leaving mid-run must not stop the others.
func TestNativeSwarm(t *testing.T) {
	if testing.Short() {
		t.Skip("runs WebRTC for several seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := startServer(t, ctx, server.Config{
		DemoStream: "demo", DemoSource: "synthetic", DemoInterval: 100 * time.Millisecond, DemoChunkSize: 16 << 10,
		LoopbackOnly: true, OriginCopies: 1,
	})
	defer cancel()

	// The viewers join one after another: each once the one before gets
	// chunks.
	viewers := make([]*viewer, 4)
	for i := range viewers {
		viewers[i] = startViewer(t, ctx, base, "demo")
		waitFor(t, 10*time.Second, fmt.Sprintf("viewer %d's first chunk", i), func() bool { return viewers[i].count() > 0 })
	}
	// 6 s of stream (60 chunks) with four viewers, then one leaves.
	waitFor(t, 30*time.Second, "60 chunks at every viewer", func() bool {
		for _, v := range viewers {
			if v.count() < 60 {
				return false
			}
		}
		return true
	})
	_, _, leaveAt := viewers[3].snapshot()
	viewers[3].stop(t)
	// 4 s more (40 chunks) at the newest: a viewer that stalls when its
	// neighbour left never gets there, and the checks below say so.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		done := true
		for _, v := range viewers[:3] {
			if _, _, newest := v.snapshot(); newest < leaveAt+40 {
				done = false
			}
		}
		if done {
			break
		}
	}

	peerMostly := 0
	for i, v := range viewers[:3] {
		got, corrupt, newest := v.snapshot()
		if corrupt != 0 {
			t.Errorf("viewer %d: %d corrupt or duplicate deliveries", i, corrupt)
		}
		first := newest
		for s := range got {
			first = min(first, s)
		}
		var missing []uint64
		fromPeers := 0
		// Chunks newer than 2 s may still be on their way by repair or
		// fallback (the engine's FallbackAfter is 1.2 s after a stripe's
		// pushes usually arrive); every older one must be here.
		settled := newest - min(newest, 20)
		for s := first; s <= newest; s++ {
			fromOrigin, ok := got[s]
			if !ok && s <= settled {
				missing = append(missing, s)
			} else if !fromOrigin {
				fromPeers++
			}
		}
		if len(missing) > 0 {
			t.Errorf("viewer %d: missing %d of chunks %d..%d: %v", i, len(missing), first, newest, missing)
		}
		if newest < leaveAt+20 {
			t.Errorf("viewer %d: newest chunk %d, want at least %d: it stalled after a neighbour left", i, newest, leaveAt+20)
		}
		share := float64(fromPeers) / float64(len(got))
		t.Logf("viewer %d: %d chunks (%d..%d), %.0f%% from peers", i, len(got), first, newest, 100*share)
		if share > 0.5 {
			peerMostly++
		}
	}
	if peerMostly < 2 {
		t.Errorf("%d viewers got most chunks from peers, want at least 2", peerMostly)
	}
	for _, v := range viewers[:3] {
		v.stop(t)
	}
	resp, err := http.Get(base + "/healthz")
	if err == nil {
		resp.Body.Close() // an unread body keeps the client's connection goroutines
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("healthz after run: %v %v", resp, err)
	}
}
