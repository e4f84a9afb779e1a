package server_test

import (
	"context"
	"encoding/json"
	"fmt"
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
	// The server tells the test how far each peer's loop has got, so that
	// the heap is measured once it has dealt with every offer sent.
	var (
		hmu     sync.Mutex
		handled = map[string]int{}  // by peer id: messages the server dealt with
		ended   = map[string]bool{} // peers whose loop ended (closed as too slow)
	)
	hook := func(peer string, n int, open bool) {
		hmu.Lock()
		defer hmu.Unlock()
		handled[peer] = n
		ended[peer] = ended[peer] || !open
	}
	base := startServer(t, ctx, server.WithPeerHook(server.Config{SignalBytesPerSecond: 1 << 30, SignalByteBurst: 1 << 30}, hook))
	before := heapInUse()

	const conns = 32
	type attacker struct {
		c          *websocket.Conn
		id         string   // from the welcome
		neighbours []string // from the introductions
		sent       int      // offers written
	}
	as := make([]*attacker, conns)
	var mu sync.Mutex
	var wg, welcomed, learned sync.WaitGroup
	// Each reader learns its neighbours, then stops reading for good,
	// past the last introduction: the answer to a marker (an offer to a
	// peer that is not there) sent once every attacker has its welcome.
	// The tracker delivers a join's welcome and introductions under one
	// lock, and the marker's answer is queued after the marker's Relay
	// has taken that lock, so it comes after every introduction.
	// (coder/websocket closes a connection whose Read is cancelled: a
	// reader stops by not reading, never with a timeout.)
	marker := []byte(`{"v":1,"type":"offer","peer":"nobody","sdp":"v=0"}`)
	for i := range as {
		c := wsDial(t, ctx, base)
		defer c.CloseNow()
		if err := c.Write(ctx, websocket.MessageText, []byte(`{"v":1,"type":"join","stream":"padded"}`)); err != nil {
			t.Fatal(err)
		}
		a := &attacker{c: c}
		as[i] = a
		welcomed.Add(1)
		learned.Add(1)
		go func() {
			defer learned.Done()
			welcome := sync.OnceFunc(welcomed.Done)
			defer welcome()
			for {
				_, b, err := c.Read(ctx)
				if err != nil {
					return
				}
				m, err := signaling.Decode(b)
				switch {
				case err != nil:
				case m.Type == signaling.TypeWelcome:
					mu.Lock()
					a.id = m.ID
					mu.Unlock()
					welcome()
				case m.Type == signaling.TypeNeighbour:
					mu.Lock()
					a.neighbours = append(a.neighbours, m.Peer)
					mu.Unlock()
				case m.Type == signaling.TypeError && m.Code == signaling.CodeNoSuchPeer:
					return // the marker's answer
				}
			}
		}()
	}
	welcomed.Wait()
	for _, a := range as {
		if err := a.c.Write(ctx, websocket.MessageText, marker); err != nil {
			t.Fatal(err)
		}
	}
	learned.Wait()
	if ctx.Err() != nil {
		t.Fatal("the attackers never learned their neighbours")
	}
	var peak uint64 // the heap with its garbage, as /debug/vars shows it
	sampled := make(chan struct{})
	sctx, scancel := context.WithCancel(ctx)
	go func() {
		defer close(sampled)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-sctx.Done():
				return
			case <-tick.C:
			}
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
				msg := paddedOffer(a.neighbours[i%len(a.neighbours)], signaling.MaxSDPSize, signaling.MaxPeerMessageSize-64)
				if err := a.c.Write(ctx, websocket.MessageText, msg); err != nil {
					return
				}
				mu.Lock()
				sent++
				a.sent++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// The server relays and queues: wait until it has dealt with each
	// attacker's marker and offers, or closed its connection.
	closed := 0
	waitFor(t, 30*time.Second, "the server to deal with every offer sent", func() bool {
		hmu.Lock()
		defer hmu.Unlock()
		closed = 0
		for _, a := range as {
			switch {
			case ended[a.id]:
				closed++
			case handled[a.id] < 1+a.sent:
				return false
			}
		}
		return true
	})
	scancel()
	<-sampled
	after := heapInUse()
	grew := int64(after) - int64(before)
	t.Logf("%d padded offers sent; %d connections closed as too slow; live heap %d → %d MB (%+d MB); peak with garbage %d MB",
		sent, closed, before>>20, after>>20, grew>>20, peak>>20)
	if sent < conns*100 {
		t.Fatalf("only %d offers sent: the attack did not run", sent)
	}
	if grew > 50<<20 {
		t.Fatalf("heap grew by %d MB under 32 padded signaling connections, want < 50 MB", grew>>20)
	}
}

// TestPaddedMessageRefusedUnread: a peer sends the server offers,
// answers, candidates, drops and reports, whose largest is an offer of
// signaling.MaxSDPSize; a message well past that (here an offer padded
// to 40 KiB with ICE servers, under the codec's 64 KiB) is refused as
// too large before it is decoded, and read without allocating for it.
// The server used to read each message with a fresh buffer grown to its
// size and decode all of it: about three times its size in garbage
// (190 KiB per 64 KiB offer), which with 32 connections at 50 messages a
// second put its heap 50-67 MiB over its level in the soak under attack
// and took the CPU the honest viewers needed.
func TestPaddedMessageRefusedUnread(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := startServer(t, ctx, server.Config{})
	const conns, each, size = 4, 9, 40 << 10 // 9: one fewer than the malformed messages that close a connection
	msg := paddedOffer("stranger", signaling.MaxSDPSize, size)
	cs := make([]*websocket.Conn, conns)
	for i := range cs {
		cs[i] = wsDial(t, ctx, base)
		defer cs[i].CloseNow()
		if err := cs[i].Write(ctx, websocket.MessageText, []byte(`{"v":1,"type":"join","stream":"padded"}`)); err != nil {
			t.Fatal(err)
		}
		if m, err := readUntil(t, ctx, cs[i], signaling.TypeWelcome); err != nil {
			t.Fatalf("join: %+v %v", m, err)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	errs := make(chan string, conns*each)
	for _, c := range cs {
		wg.Go(func() {
			for range each {
				if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
					errs <- err.Error()
					return
				}
				m, err := readUntil(t, ctx, c, signaling.TypeError)
				if err != nil {
					errs <- err.Error()
					return
				}
				if m.Code != signaling.CodeBadMessage || !strings.Contains(m.Text, "too large") {
					errs <- fmt.Sprintf("a %d-byte offer got %s %q, want bad-message, too large", len(msg), m.Code, m.Text)
					return
				}
			}
		})
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	// The client's side of it (encoding, framing, reading the answers)
	// allocates too; the server's old way alone was about 190 KiB a
	// message (6.7 MiB here).
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d offers of %d bytes: %d KiB allocated in the process (%d KiB each)", conns*each, len(msg), alloc>>10, alloc>>10/(conns*each))
	if perMsg := alloc / (conns * each); perMsg > uint64(len(msg)) {
		t.Fatalf("%d bytes allocated per %d-byte message refused, want less than its size", perMsg, len(msg))
	}
}

// TestSignalingBytesPerAddress: what the server reads from one address's
// signaling connections is paced to a byte rate (1 MiB at once, then 256
// KiB a second), however many connections share it and however fast they
// send: the padded offers of 32 connections were 100 MB a second of
// JSON to read and decode. Two connections send 100 offers of 16 KiB
// (1.6 MiB); the server answers the last no sooner than 2 s after the
// first (an honest peer sends a few KiB per neighbour).
func TestSignalingBytesPerAddress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := startServer(t, ctx, server.Config{})
	const conns, each = 2, 50
	msg := paddedOffer("stranger", signaling.MaxSDPSize, 0)
	cs := make([]*websocket.Conn, conns)
	for i := range cs {
		cs[i] = wsDial(t, ctx, base)
		defer cs[i].CloseNow()
		if err := cs[i].Write(ctx, websocket.MessageText, []byte(`{"v":1,"type":"join","stream":"paced"}`)); err != nil {
			t.Fatal(err)
		}
		if m, err := readUntil(t, ctx, cs[i], signaling.TypeWelcome); err != nil {
			t.Fatalf("join: %+v %v", m, err)
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan string, 2*conns)
	for _, c := range cs {
		wg.Go(func() {
			for range each {
				if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
					errs <- err.Error()
					return
				}
			}
		})
		wg.Go(func() {
			for i := range each {
				m, err := readUntil(t, ctx, c, signaling.TypeError)
				if err != nil || m.Code != signaling.CodeNoSuchPeer {
					errs <- fmt.Sprintf("answer %d: %+v %v, want no-such-peer", i, m, err)
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	t.Logf("%d offers of %d bytes from one address answered in %v", conns*each, len(msg), took.Round(time.Millisecond))
	if took < 2*time.Second {
		t.Fatalf("%d KiB from one address read in %v, want it paced to 256 KiB/s after the first MiB (≥ 2 s)", conns*each*len(msg)>>10, took)
	}
}
