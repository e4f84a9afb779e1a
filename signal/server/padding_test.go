package server_test

import (
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/server"
)

// paddedOffer is an offer to peer grown to about size bytes of JSON: the
// largest SDP the codec takes, the rest in fields an offer does not need
// (ICE servers), which a relay used to pass on whole.
func paddedOffer(peer string, sdp, size int) []byte {
	m := map[string]any{"v": 1, "type": "offer", "peer": peer, "sdp": strings.Repeat("a", sdp)}
	if rest := size - sdp - 200; rest > 0 {
		m["iceServers"] = []map[string]any{{"urls": []string{"stun:" + strings.Repeat("p", rest)}}}
	}
	b, _ := json.Marshal(m)
	return b
}

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestPaddedSignalingBoundsMemory is the padded-offer attack (issue #12):
// 32 connections from one address join a swarm, stop reading, and send
// each other as many of the largest offers as the rate limit lets them.
// The server queues what it cannot write; before queues were bounded in
// bytes it held up to 256 messages of ~64 KiB per connection (16 MiB each,
// ~400 MB here). Now the queue holds at most Config.SendQueueBytes and the
// relay forwards an offer's SDP alone, so the heap grows by < 50 MB.
func TestPaddedSignalingBoundsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a few hundred MB when it fails")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := startServer(t, ctx, server.Config{})
	before := heapInUse()

	const conns = 32
	type attacker struct {
		c          *websocket.Conn
		neighbours []string
	}
	as := make([]*attacker, conns)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range as {
		c := wsDial(t, ctx, base)
		defer c.CloseNow()
		if err := c.Write(ctx, websocket.MessageText, []byte(`{"v":1,"type":"join","stream":"padded"}`)); err != nil {
			t.Fatal(err)
		}
		a := &attacker{c: c}
		as[i] = a
		go func() { // learn the neighbours for a while, then stop reading
			// coder/websocket closes a connection whose Read is
			// cancelled: read until the deadline has passed (the last
			// Read takes one more message), never with a timeout.
			for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
				_, b, err := c.Read(ctx)
				if err != nil {
					return
				}
				if m, err := signaling.Decode(b); err == nil && m.Type == signaling.TypeNeighbour {
					mu.Lock()
					a.neighbours = append(a.neighbours, m.Peer)
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(2500 * time.Millisecond) // every reader is past its deadline, most blocked in a last Read
	var peak uint64                     // the heap with its garbage, as /debug/vars shows it
	sampled := make(chan struct{})
	sctx, scancel := context.WithCancel(ctx)
	go func() {
		defer close(sampled)
		for sctx.Err() == nil {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			time.Sleep(50 * time.Millisecond)
		}
	}()
	sent := 0
	for _, a := range as {
		if len(a.neighbours) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 190 { // under the burst of 200
				msg := paddedOffer(a.neighbours[i%len(a.neighbours)], signaling.MaxSDPSize, signaling.MaxMessageSize-64)
				if err := a.c.Write(ctx, websocket.MessageText, msg); err != nil {
					return
				}
				mu.Lock()
				sent++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	time.Sleep(2 * time.Second) // the server relays and queues
	scancel()
	<-sampled
	after := heapInUse()
	grew := int64(after) - int64(before)
	t.Logf("%d padded offers sent; live heap %d → %d MB (%+d MB); peak with garbage %d MB",
		sent, before>>20, after>>20, grew>>20, peak>>20)
	if sent < conns*100 {
		t.Fatalf("only %d offers sent: the attack did not run", sent)
	}
	if grew > 50<<20 {
		t.Fatalf("heap grew by %d MB under 32 padded signaling connections, want < 50 MB", grew>>20)
	}
}
