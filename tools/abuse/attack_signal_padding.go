package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/shoal-live/shoal/shared/signaling"
)

// signal_padding: 32 signaling connections from one address (the
// per-address cap) join the live swarm, learn their neighbours, stop
// reading, and for paddingWindow send each neighbour as many of the
// largest offers the server reads (signaling.MaxPeerMessageSize, a 16
// KiB SDP and the rest in fields an offer does not need) as the rate
// limit lets them (190 each, under the burst of 200). The server used to
// queue up to 256 relayed messages of ~64 KiB per connection that did not
// read (issue #12: RSS 75 → 453 MB); now it queues at most 1 MiB per
// connection, relays only an offer's SDP (≤ 16 KiB), and closes a
// connection that lets more pile up. It used to read and decode all
// 6,080 offers of 64 KiB in about 13 s, 190 KiB of garbage and a
// millisecond of CPU each; now it refuses a message over
// MaxPeerMessageSize unread and reads what one address sends at 256 KiB/s
// after its first MiB, so the senders wait. The heap the server holds
// (its live heap) must grow by less than 50 MB.
func init() {
	register(Attack{Name: "signal_padding", Run: attackSignalPadding})
}

const (
	paddingConns  = 32
	paddingOffers = 190
	paddingHeapMB = 50
	paddingSize   = signaling.MaxPeerMessageSize - 64
	paddingWindow = 10 * time.Second // how long the connections send
)

func attackSignalPadding(ctx context.Context, tg Target) (string, error) {
	before := measure(ctx, tg)
	type attacker struct {
		c          *websocket.Conn
		mu         sync.Mutex
		neighbours []string
	}
	var as []*attacker
	defer func() {
		for _, a := range as {
			a.c.CloseNow()
		}
	}()
	for i := range paddingConns {
		c, _, err := sigJoin(ctx, tg, tg.Live)
		if err != nil {
			return "", fmt.Errorf("connection %d: %w", i, err)
		}
		a := &attacker{c: c}
		as = append(as, a)
		go func() { // learn neighbours for 2 s, then stop reading
			// coder/websocket closes a connection whose Read is
			// cancelled: past the deadline the last Read just hangs.
			for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
				_, b, err := c.Read(ctx)
				if err != nil {
					return
				}
				if m, err := signaling.Decode(b); err == nil && m.Type == signaling.TypeNeighbour {
					a.mu.Lock()
					a.neighbours = append(a.neighbours, m.Peer)
					a.mu.Unlock()
				}
			}
		}()
	}
	sleepCtx(ctx, 2500*time.Millisecond)

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		sent int
		peak = before
	)
	done := make(chan struct{})
	go func() { // the server's heap while the offers pile up
		for {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
			u := measure(ctx, tg)
			mu.Lock()
			peak = maxUsage(peak, u)
			mu.Unlock()
		}
	}()
	wctx, wcancel := context.WithTimeout(ctx, paddingWindow)
	defer wcancel()
	began := time.Now()
	for _, a := range as {
		a.mu.Lock()
		ns := append([]string(nil), a.neighbours...)
		a.mu.Unlock()
		if len(ns) == 0 {
			continue
		}
		msgs := make([][]byte, len(ns))
		for i, n := range ns {
			msgs[i] = paddedOffer(n, signaling.MaxSDPSize, paddingSize)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range paddingOffers {
				// A Write cut short by wctx closes the connection:
				// the sender is done.
				if err := a.c.Write(wctx, websocket.MessageText, msgs[i%len(msgs)]); err != nil {
					return // closed by the server (too slow), or the window is over
				}
				mu.Lock()
				sent++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sending := time.Since(began)
	sleepCtx(ctx, 3*time.Second) // relayed and queued, or closed
	close(done)
	after := measure(ctx, tg)
	mu.Lock()
	peak = maxUsage(peak, after)
	mu.Unlock()
	slow := countInLog(tg.Log, "signaling peer too slow")
	// The heap the server holds because of the attack: its live heap
	// (what a collection found in use) at its highest, when it collected
	// during the attack. HeapAlloc counts the garbage too, which on a
	// server with viewers (the soak under attack) swings by the size of
	// the live heap between two collections, attack or not (34-102 MiB
	// in the soak of 2026-12-02); it judges only when no collection ran.
	grew := peak.HeapMiB - before.HeapMiB
	live := peak.HeapLiveMiB - before.HeapLiveMiB
	held, judged := grew, "HeapAlloc, no collection ran"
	if after.GCs > before.GCs {
		held, judged = live, fmt.Sprintf("live heap, %d collections", after.GCs-before.GCs)
	}
	if sent < paddingConns {
		return "", fmt.Errorf("only %d padded offers went out: the attack did not run", sent)
	}
	limit := fmt.Sprintf("a message to the server ≤ %d KiB, read at 256 KiB/s per address after 1 MiB; send queue 1 MiB per connection, relays carry the SDP alone (≤ %d KiB): %d of %d padded %d KiB offers from %d connections written in %.1f s (%.1f MiB); %d connections closed as too slow; heap +%.1f MiB at peak (%s; HeapAlloc +%.1f, live +%.1f; limit %d)",
		signaling.MaxPeerMessageSize>>10, signaling.MaxSDPSize>>10, sent, paddingConns*paddingOffers, paddingSize>>10, paddingConns,
		sending.Seconds(), float64(sent*paddingSize)/(1<<20), slow, held, judged, grew, live, paddingHeapMB)
	if held >= paddingHeapMB {
		return limit, fmt.Errorf("heap grew by %.1f MiB under padded signaling (%s), want < %d", held, judged, paddingHeapMB)
	}
	return limit, nil
}

// sigJoin opens a signaling WebSocket to tg and joins stream; it returns
// the connection and the welcome.
func sigJoin(ctx context.Context, tg Target, stream string) (*websocket.Conn, signaling.Message, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(dctx, "ws://"+tg.HTTP+"/api/signal", nil)
	if err != nil {
		return nil, signaling.Message{}, fmt.Errorf("dial: %w", err)
	}
	c.SetReadLimit(1 << 20)
	if err := c.Write(dctx, websocket.MessageText, []byte(`{"v":1,"type":"join","stream":"`+stream+`"}`)); err != nil {
		c.CloseNow()
		return nil, signaling.Message{}, fmt.Errorf("join: %w", err)
	}
	_, b, err := c.Read(dctx)
	if err != nil {
		return nil, signaling.Message{}, fmt.Errorf("welcome: %w", err)
	}
	m, err := signaling.Decode(b)
	if err != nil || m.Type != signaling.TypeWelcome {
		c.CloseNow()
		return nil, signaling.Message{}, fmt.Errorf("welcome: got %+v, %v", m, err)
	}
	return c, m, nil
}

// paddedOffer is an offer to peer of about size bytes of JSON: an SDP of
// sdp bytes, the rest in ICE servers, which an offer does not need.
func paddedOffer(peer string, sdp, size int) []byte {
	m := map[string]any{"v": 1, "type": "offer", "peer": peer, "sdp": strings.Repeat("a", sdp)}
	if rest := size - sdp - 200; rest > 0 {
		m["iceServers"] = []map[string]any{{"urls": []string{"stun:" + strings.Repeat("p", rest)}}}
	}
	b, _ := json.Marshal(m)
	return b
}

// countInLog counts the server log's lines containing s.
func countInLog(path, s string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), s)
}
