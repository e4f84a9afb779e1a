//go:build e2e

package e2e

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/node"
	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/origin"
	"github.com/shoal-live/shoal/tools/malpeer"
)

// integrityStats are the wasm peer's integrity counters (wasm/main.go
// statsObject), read from the same onStats object as stats.
type integrityStats struct {
	Verified       float64 `json:"verified"`
	VerifiedWeb    float64 `json:"verifiedWeb"` // of Verified, checked by Chromium's WebCrypto
	VerifyMicros   float64 `json:"verifyMicros"`
	VerifyFailures float64 `json:"verifyFailures"`
	BadMessages    float64 `json:"badMessages"`
	Floods         float64 `json:"floods"`
	DeliveredBad   float64 `json:"deliveredBad"`
	ForwardedBad   float64 `json:"forwardedBad"`
}

// nativeViewer is an honest pion peer in the test process.
type nativeViewer struct {
	mu      sync.Mutex
	chunks  int
	corrupt int
	stats   node.Stats
	done    chan error
}

func startNative(ctx context.Context, t *testing.T, base string) *nativeViewer {
	t.Helper()
	conn, err := signaling.DialWebSocket(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/signal")
	if err != nil {
		t.Fatal(err)
	}
	v := &nativeViewer{done: make(chan error, 1)}
	n, err := node.New(node.Config{
		Stream: "demo", Signal: conn, LoopbackOnly: true, Fetch: node.HTTPFetcher(base, nil),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnDeliver: func(d node.Delivery) {
			v.mu.Lock()
			defer v.mu.Unlock()
			v.chunks++
			if !origin.CheckSynthetic(d.Chunk) {
				v.corrupt++
			}
		},
		OnStats: func(s node.Stats) { v.mu.Lock(); v.stats = s; v.mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { v.done <- n.Run(ctx) }()
	return v
}

// TestMaliciousPeerInSwarm: two Chromium tabs and two native peers watch
// the synthetic stream while attackers (tools/malpeer) join one after
// another, each sending its neighbours corrupted, truncated, re-numbered,
// out-of-window, unsigned, oversized and replayed chunks and request
// floods. No honest peer may play or forward a chunk that fails
// verification, all must keep playing without a gap, and every attacker
// must be quarantined and never introduced again.
func TestMaliciousPeerInSwarm(t *testing.T) {
	bin := requireTools(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	addr := freeAddr(t)
	startServer(ctx, t, bin, addr, "-demo-source", "synthetic", "-rtmp-addr", "")
	base := "http://" + addr

	nctx, ncancel := context.WithCancel(ctx)
	natives := []*nativeViewer{startNative(nctx, t, base), startNative(nctx, t, base)}

	const tabs = 2
	b := startBrowser(ctx, t, "--url", base+"/watch/demo", "--tabs", strconv.Itoa(tabs), "--duration", "62")
	var attackers []malpeer.Stats
	attacked := make(chan struct{})
	go func() {
		defer close(attacked)
		// The attackers come once every tab has chunks.
		pctx, pcancel := context.WithTimeout(ctx, 30*time.Second)
		defer pcancel()
		if !poll(pctx, func() bool { return b.receiving() == tabs }) {
			t.Errorf("%d of %d tabs had a chunk within 30 s: no attack", b.receiving(), tabs)
			return
		}
		for _, set := range [][]malpeer.Attack{
			{malpeer.Corrupt, malpeer.Truncate},
			{malpeer.Renumber, malpeer.Window},
			{malpeer.Flood, malpeer.Unsigned},
			{malpeer.Oversized, malpeer.Replay},
		} {
			actx, acancel := context.WithTimeout(ctx, 12*time.Second)
			st, err := malpeer.Run(actx, malpeer.Config{Base: base, Stream: "demo", LoopbackOnly: true, Attacks: set,
				StrikeAfter: 4 * time.Second}) // the tabs' channels open too
			acancel()
			if err != nil {
				t.Errorf("attacker: %v", err)
				return
			}
			attackers = append(attackers, st)
		}
	}()
	defer func() { cancel(); <-attacked }() // should wait fail the test
	r := b.wait(t)
	<-attacked
	ncancel()

	for _, st := range attackers {
		t.Logf("attacker %s: %d neighbours, %d channels, sent %v, cut off %d times, quarantined %v",
			st.ID, st.Neighbours, st.Opened, st.Sent, st.CutOff, st.Quarantined)
		if !st.Quarantined {
			t.Errorf("attacker %s was not quarantined", st.ID)
		}
		if st.IntroducedAfterQuarantine != 0 {
			t.Errorf("attacker %s was introduced to %d peers after its quarantine", st.ID, st.IntroducedAfterQuarantine)
		}
	}
	if len(attackers) != 4 {
		t.Errorf("%d attackers ran, want 4", len(attackers))
	}

	refused := 0.0
	for _, tr := range r.Tabs {
		tb, err := decodeTab(tr)
		if err != nil {
			t.Error(err)
			continue
		}
		t.Log(tb.summary())
		var is integrityStats
		if tr.Stats != nil {
			is = tr.Stats.integrityStats
		}
		t.Logf("tab %d: verified %.0f chunks (%.0f by WebCrypto) in %.0f µs (%.0f µs/chunk in wasm), refused %.0f (bad messages %.0f, floods %.0f), delivered unverified %.0f, forwarded unverified %.0f",
			tr.Index, is.Verified, is.VerifiedWeb, is.VerifyMicros, is.VerifyMicros/max(is.Verified, 1), is.VerifyFailures, is.BadMessages, is.Floods, is.DeliveredBad, is.ForwardedBad)
		if is.Verified == 0 {
			t.Errorf("tab %d reports no verified chunks: is the wasm peer current?", tr.Index)
		}
		if is.VerifiedWeb == 0 {
			// Chromium has Ed25519 in WebCrypto: the peer must use it.
			t.Errorf("tab %d checked no chunk's signature with WebCrypto", tr.Index)
		}
		if is.DeliveredBad != 0 || is.ForwardedBad != 0 {
			t.Errorf("tab %d delivered %.0f and forwarded %.0f unverified chunks", tr.Index, is.DeliveredBad, is.ForwardedBad)
		}
		refused += is.VerifyFailures + is.BadMessages + is.Floods
	}
	for _, p := range check(r, tabs, false) {
		if strings.Contains(p, "more than half their chunks from peers") {
			continue // the attackers are the point here, not the share
		}
		t.Error(p)
	}
	for i, v := range natives {
		<-v.done
		v.mu.Lock()
		s := v.stats
		t.Logf("native %d: %d chunks, verified %d, refused %d (bad messages %d, floods %d), delivered unverified %d, forwarded unverified %d, corrupt %d",
			i, v.chunks, s.Verified, s.VerifyFailures, s.BadMessages, s.Floods, s.DeliveredBad, s.ForwardedBad, v.corrupt)
		if v.corrupt != 0 || s.DeliveredBad != 0 || s.ForwardedBad != 0 {
			t.Errorf("native %d played or forwarded bad data", i)
		}
		if v.chunks < 100 {
			t.Errorf("native %d got only %d chunks", i, v.chunks)
		}
		refused += float64(s.VerifyFailures + s.BadMessages + s.Floods)
		v.mu.Unlock()
	}
	if refused == 0 {
		t.Error("no honest peer refused anything: the attacks never reached them")
	}
}
