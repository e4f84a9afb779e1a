//go:build !js

package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/signaling"
)

// stuckTracker is a signaling.Conn to a tracker that welcomes the peer,
// then sends what the test feeds it and takes sends only while open is
// set: otherwise Send blocks until its context ends, like a WebSocket
// whose peer stopped reading.
type stuckTracker struct {
	in   chan signaling.Message
	open atomic.Bool
	mu   sync.Mutex
	sent []signaling.Message
	done chan struct{}
	once sync.Once
}

func newStuckTracker() *stuckTracker {
	t := &stuckTracker{in: make(chan signaling.Message, 64), done: make(chan struct{})}
	t.open.Store(true) // the join goes through
	t.in <- signaling.Message{Type: signaling.TypeWelcome, ID: "me"}
	return t
}

func (t *stuckTracker) Send(ctx context.Context, m signaling.Message) error {
	if !t.open.Load() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.done:
			return signaling.ErrClosed
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sent = append(t.sent, m)
	return nil
}

func (t *stuckTracker) Recv(ctx context.Context) (signaling.Message, error) {
	select {
	case m := <-t.in:
		return m, nil
	case <-ctx.Done():
		return signaling.Message{}, ctx.Err()
	case <-t.done:
		return signaling.Message{}, signaling.ErrClosed
	}
}

func (t *stuckTracker) Close(string) error {
	t.once.Do(func() { close(t.done) })
	return nil
}

func (t *stuckTracker) sentOf(typ signaling.Type) []signaling.Message {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []signaling.Message
	for _, m := range t.sent {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestSlowTrackerDoesNotStallTheLoop: the engine loop used to write to the
// tracker itself, for up to 5 s a message, so a tracker socket that stopped
// taking writes froze pushes, ticks and stats. Each neighbour introduced as
// initiator makes an offer to send; with the tracker stuck, the loop must
// keep ticking, and what does not fit the queue is dropped and counted.
func TestSlowTrackerDoesNotStallTheLoop(t *testing.T) {
	tests := []struct {
		name       string
		neighbours int
		wantDrops  bool
	}{
		{"a few offers wait for the tracker", 4, false},
		{"more than the queue holds are dropped", 16, true}, // with a queue of 8
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tr := newStuckTracker()
			var stats atomic.Int32
			var last atomic.Value
			n, err := New(Config{Stream: "s", Signal: tr, LoopbackOnly: true, Logger: quiet(),
				StatsInterval: 20 * time.Millisecond,
				OnStats:       func(s Stats) { stats.Add(1); last.Store(s) }})
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantDrops {
				n.toTracker = make(chan signaling.Message, 8) // a small queue: fewer peer connections to build
			}
			joined := make(chan struct{})
			n.cfg.OnJoined = func() { tr.open.Store(false); close(joined) }
			done := make(chan error, 1)
			go func() { done <- n.Run(ctx) }()
			<-joined
			for i := range tc.neighbours {
				tr.in <- signaling.Message{Type: signaling.TypeNeighbour, Peer: fmt.Sprintf("p%d", i), Initiator: true}
			}
			// Every offer is stuck behind a tracker that takes nothing;
			// before, each held the loop for 5 s.
			start := stats.Load()
			time.Sleep(time.Second)
			if got := stats.Load() - start; got < 10 {
				t.Fatalf("%d stats callbacks in 1 s with the tracker stuck, want ~50: the loop is blocked", got)
			}
			s, _ := last.Load().(Stats)
			if (s.SignalDropped > 0) != tc.wantDrops {
				t.Fatalf("SignalDropped = %d, want drops: %v", s.SignalDropped, tc.wantDrops)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
		})
	}
}

// TestNeighbourThatNeverConnects: a neighbour that never sends its offer
// (a WebSocket-only client) is dropped after ConnectTimeout, and the
// tracker told, so that it can give both of them others. Before, such a
// link held its place, the origin's among them, for good.
func TestNeighbourThatNeverConnects(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr := newStuckTracker()
	n, err := New(Config{Stream: "s", Signal: tr, LoopbackOnly: true, Logger: quiet(), ConnectTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	tr.in <- signaling.Message{Type: signaling.TypeNeighbour, Peer: "idle"} // it should send the offer, and never does
	deadline := time.Now().Add(5 * time.Second)
	for len(tr.sentOf(signaling.TypeDrop)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	drops := tr.sentOf(signaling.TypeDrop)
	if len(drops) != 1 || drops[0].Peer != "idle" {
		t.Fatalf("sent drops %+v, want one for the idle neighbour", drops)
	}
	cancel()
	<-done
}

// TestQuarantineEndsRun: a peer told it is quarantined stops, with an
// error that says how long to stay away (the browser peer joins again
// with a new id after that).
func TestQuarantineEndsRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr := newStuckTracker()
	n, err := New(Config{Stream: "s", Signal: tr, LoopbackOnly: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	q := signaling.Errorf(signaling.CodeQuarantined, "your neighbours reported chunks that fail verification")
	q.DurationMs = 30000
	tr.in <- q
	err = n.Run(ctx)
	var qe *QuarantineError
	if !errors.Is(err, ErrQuarantined) || !errors.As(err, &qe) || qe.Wait != 30*time.Second {
		t.Fatalf("Run = %v, want a QuarantineError with a 30 s wait", err)
	}
}
