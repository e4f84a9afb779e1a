//go:build !js

package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/integrity"
	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/swarm"
	"github.com/shoal-live/shoal/shared/wire"
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
			stats := make(chan Stats, 1024)
			n, err := New(Config{Stream: "s", Signal: tr, LoopbackOnly: true, Logger: quiet(),
				Engine:        swarm.Config{NoJoinFetch: true},
				StatsInterval: 20 * time.Millisecond,
				OnStats: func(s Stats) {
					select {
					case stats <- s:
					default:
					}
				}})
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
			// before, each held the loop for 5 s. A live message after
			// them shows in the stats once the loop has handled them all,
			// and the loop must go on ticking: both well within 5 s.
			tr.in <- signaling.Message{Type: signaling.TypeLive, Newest: 777}
			bound := time.NewTimer(3 * time.Second)
			defer bound.Stop()
			var s Stats
			for marked, after := false, 0; !marked || after < 10; {
				select {
				case s = <-stats:
					if marked {
						after++
					}
					marked = marked || s.Newest == 777
				case <-bound.C:
					t.Fatalf("the loop is blocked: the live message handled %v, %d stats callbacks after it in 3 s (want 10, one each 20 ms)", marked, after)
				}
			}
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
	ctx := testCtx(t)
	tr := newFakeTracker("me", signaling.Message{Type: signaling.TypeWelcome, ID: "me"})
	n, err := New(Config{Stream: "s", Signal: tr, LoopbackOnly: true, Logger: quiet(), ConnectTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runNode(t, ctx, n)
	tr.in <- signaling.Message{Type: signaling.TypeNeighbour, Peer: "idle"} // it should send the offer, and never does
	drop := tr.waitSent(ctx, t, "a drop", func(m signaling.Message) bool { return m.Type == signaling.TypeDrop })
	if drop.Peer != "idle" || !strings.Contains(drop.Text, "no data channel") {
		t.Fatalf("sent drop %+v, want one for the idle neighbour", drop)
	}
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

// TestNewChecksConfig: New refuses what cannot run and fills in the
// defaults, the viewer's upload guess among them.
func TestNewChecksConfig(t *testing.T) {
	tr := newFakeTracker("me", signaling.Message{})
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "invalid stream name", cfg: Config{Stream: "no spaces", Signal: tr}, wantErr: "invalid stream name"},
		{name: "no tracker connection", cfg: Config{Stream: "s"}, wantErr: "Config.Signal is required"},
		{name: "engine config refused", cfg: Config{Stream: "s", Signal: tr, Engine: swarm.Config{Stripes: 1000}}, wantErr: "stripes"},
		{name: "viewer defaults", cfg: Config{Stream: "s", Signal: tr}, check: func(t *testing.T, c Config) {
			if c.Engine.Upload != DefaultUpload || c.Engine.Rand == nil {
				t.Errorf("engine upload %v, rand %v: want %v and a seeded one", c.Engine.Upload, c.Engine.Rand, DefaultUpload)
			}
			if c.TickInterval != 50*time.Millisecond || c.StatsInterval != 500*time.Millisecond ||
				c.MaxQueue != DefaultMaxQueue || c.ConnectTimeout != 10*time.Second || c.Logger == nil {
				t.Errorf("defaults: tick %v, stats %v, queue %v, connect %v, logger %v",
					c.TickInterval, c.StatsInterval, c.MaxQueue, c.ConnectTimeout, c.Logger)
			}
		}},
		{name: "the origin's upload is its own", cfg: Config{Stream: "s", Signal: tr, Engine: swarm.Config{Origin: true}}, check: func(t *testing.T, c Config) {
			if c.Engine.Upload != 0 {
				t.Errorf("origin upload %v, want 0 (the engine's default)", c.Engine.Upload)
			}
		}},
		{name: "explicit slots keep the upload unset", cfg: Config{Stream: "s", Signal: tr, Engine: swarm.Config{Slots: 3}}, check: func(t *testing.T, c Config) {
			if c.Engine.Upload != 0 || c.Engine.Slots != 3 {
				t.Errorf("upload %v slots %d, want 0 and 3", c.Engine.Upload, c.Engine.Slots)
			}
		}},
		{name: "explicit timings kept", cfg: Config{Stream: "s", Signal: tr, TickInterval: time.Second, StatsInterval: time.Minute, MaxQueue: time.Millisecond, ConnectTimeout: time.Hour}, check: func(t *testing.T, c Config) {
			if c.TickInterval != time.Second || c.StatsInterval != time.Minute || c.MaxQueue != time.Millisecond || c.ConnectTimeout != time.Hour {
				t.Errorf("timings changed: %+v", c)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := New(tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New = %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, n.cfg)
		})
	}
}

// TestJoin: Run joins with the stream's name and ends with an error when
// the tracker refuses, says something else or sends a bad stream key.
func TestJoin(t *testing.T) {
	sig := newTestSigner(t)
	tests := []struct {
		name    string
		reply   signaling.Message
		sendErr error
		wantErr string // "" for a join
		wantIs  error
	}{
		{name: "welcome", reply: signaling.Message{Type: signaling.TypeWelcome, ID: "me", StreamKey: sig.pub}},
		{name: "welcome without a key", reply: signaling.Message{Type: signaling.TypeWelcome, ID: "me"}},
		{name: "refused", reply: signaling.Errorf(signaling.CodeSwarmFull, "no room"), wantErr: "join refused: swarm-full: no room"},
		{name: "something else", reply: signaling.Message{Type: signaling.TypeLive, Newest: 3}, wantErr: "join: unexpected live"},
		{name: "bad stream key", reply: signaling.Message{Type: signaling.TypeWelcome, ID: "me", StreamKey: "nope"}, wantIs: integrity.ErrBadKey},
		{name: "join not sent", sendErr: signaling.ErrClosed, wantIs: signaling.ErrClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			tr := newFakeTracker("me", tc.reply)
			tr.sendErr = tc.sendErr
			joined := make(chan struct{})
			n, err := New(Config{Stream: "s", Signal: tr, LoopbackOnly: true, Logger: quiet(), OnJoined: func() { close(joined) }})
			if err != nil {
				t.Fatal(err)
			}
			done := runNode(t, ctx, n)
			if tc.wantErr == "" && tc.wantIs == nil {
				select {
				case <-joined:
				case err := <-done:
					t.Fatalf("Run = %v before joining", err)
				}
				if m := <-tr.sent; m.Type != signaling.TypeJoin || m.Stream != "s" {
					t.Fatalf("first message %+v, want a join to s", m)
				}
				return
			}
			err = <-done
			done <- err
			if err == nil || (tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr)) || (tc.wantIs != nil && !errors.Is(err, tc.wantIs)) {
				t.Fatalf("Run = %v, want %q / %v", err, tc.wantErr, tc.wantIs)
			}
		})
	}
}

// TestWelcomeStartsFetching: the welcome's live edge starts the engine
// before any neighbour is connected; the backlog comes over the origin
// fetcher, each chunk verified against the welcome's key before it is
// delivered. A chunk that fails verification is not delivered.
func TestWelcomeStartsFetching(t *testing.T) {
	sig := newTestSigner(t)
	tests := []struct {
		name    string
		startAt uint64
		bad     uint64 // the fetcher sends this chunk unsigned
		want    []uint64
	}{
		{name: "from the keyframe", want: []uint64{98, 99, 100}},
		{name: "from where the page is", startAt: 99, want: []uint64{99, 100}},
		{name: "an unsigned chunk is refused", bad: 99, want: []uint64{98, 100}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			tr := newFakeTracker("me", signaling.Message{Type: signaling.TypeWelcome, ID: "me", StreamKey: sig.pub, Newest: 100, Keyframe: 98})
			got := make(chan Delivery, 64)
			fetch := func(_ context.Context, stream string, seq uint64) (wire.Chunk, error) {
				if stream != "s" {
					return wire.Chunk{}, fmt.Errorf("stream %q", stream)
				}
				if seq == tc.bad {
					return wire.Chunk{Seq: seq, Timestamp: time.Now().UnixMilli()}, nil
				}
				return sig.chunk(seq), nil
			}
			stats := make(chan Stats, 1)
			n, err := New(Config{Stream: "s", Signal: tr, LoopbackOnly: true, Logger: quiet(), StartAt: tc.startAt,
				Engine:    swarm.Config{JoinBacklog: 2},
				Fetch:     fetch,
				OnDeliver: func(d Delivery) { got <- d },
				OnStats: func(s Stats) {
					select {
					case stats <- s:
					default:
					}
				},
				StatsInterval: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			runNode(t, ctx, n)
			var seqs []uint64
			for len(seqs) < len(tc.want) {
				select {
				case d := <-got:
					if d.From != "" || !d.FromOrigin {
						t.Errorf("delivery of %d from %q, origin %v: want a fetch", d.Chunk.Seq, d.From, d.FromOrigin)
					}
					seqs = append(seqs, d.Chunk.Seq)
				case <-ctx.Done():
					t.Fatalf("delivered %v, want %v", seqs, tc.want)
				}
			}
			slices.Sort(seqs)
			if !slices.Equal(seqs, tc.want) {
				t.Fatalf("delivered %v, want %v", seqs, tc.want)
			}
			for {
				s := <-stats
				if s.Verified < len(tc.want) {
					continue // a callback from before the last delivery
				}
				if s.DeliveredBad != 0 || s.ID != "me" || (tc.bad != 0) != (s.VerifyFailures > 0) {
					t.Fatalf("stats %+v: want nothing bad delivered, failures only for the unsigned chunk", s)
				}
				return
			}
		})
	}
}

// TestLiveFromTheTracker: a live message starts a peer whose welcome
// named no edge (the stream had not begun).
func TestLiveFromTheTracker(t *testing.T) {
	ctx := testCtx(t)
	sig := newTestSigner(t)
	tr := newFakeTracker("me", signaling.Message{Type: signaling.TypeWelcome, ID: "me", StreamKey: sig.pub})
	fetched := make(chan uint64, 64)
	n, err := New(Config{Stream: "s", Signal: tr, LoopbackOnly: true, Logger: quiet(), Engine: swarm.Config{JoinBacklog: 1},
		Fetch: func(_ context.Context, _ string, seq uint64) (wire.Chunk, error) {
			fetched <- seq
			return sig.chunk(seq), nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	runNode(t, ctx, n)
	tr.in <- signaling.Message{Type: signaling.TypeLive, Newest: 40, Keyframe: 40}
	var got []uint64
	for len(got) < 2 {
		select {
		case s := <-fetched:
			got = append(got, s)
		case <-ctx.Done():
			t.Fatalf("fetched %v, want 39 and 40", got)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, []uint64{39, 40}) {
		t.Fatalf("fetched %v, want 39 and 40", got)
	}
}

// TestSignalingLossEndsRun: a tracker connection that fails ends Run with
// the error; a cancelled context ends it without one.
func TestSignalingLossEndsRun(t *testing.T) {
	ctx := testCtx(t)
	tr := newFakeTracker("me", signaling.Message{Type: signaling.TypeWelcome, ID: "me"})
	joined := make(chan struct{})
	n, err := New(Config{Stream: "s", Signal: tr, LoopbackOnly: true, Logger: quiet(), OnJoined: func() { close(joined) }})
	if err != nil {
		t.Fatal(err)
	}
	done := runNode(t, ctx, n)
	<-joined
	lost := errors.New("connection reset")
	tr.fail <- lost
	err = <-done
	done <- err
	if !errors.Is(err, lost) || !strings.Contains(err.Error(), "node: signaling") {
		t.Fatalf("Run = %v, want the signaling error", err)
	}
	select {
	case <-tr.done: // Run closed the connection
	default:
		t.Error("Run left the tracker connection open")
	}
}

// TestClockOffset: the welcome's server time sets the offset that Stats
// reports and chunk freshness is judged by.
func TestClockOffset(t *testing.T) {
	ctx := testCtx(t)
	sig := newTestSigner(t)
	ahead := 30 * time.Second // the server's clock runs ahead of ours
	tr := newFakeTracker("me", signaling.Message{Type: signaling.TypeWelcome, ID: "me", StreamKey: sig.pub,
		ServerTime: time.Now().Add(ahead).UnixMilli(), Newest: 5, Keyframe: 5})
	got := make(chan Stats, 1)
	n, err := New(Config{Stream: "s", Signal: tr, LoopbackOnly: true, Logger: quiet(), Engine: swarm.Config{JoinBacklog: 1},
		Fetch: func(_ context.Context, _ string, seq uint64) (wire.Chunk, error) {
			// Stamped on the origin's clock: 30 s ahead, fresh to the node.
			return sig.Sign(wire.Chunk{Seq: seq, Timestamp: time.Now().Add(ahead).UnixMilli()}), nil
		},
		OnDeliver: func(Delivery) {},
		OnStats: func(s Stats) {
			if s.Verified >= 1 {
				select {
				case got <- s:
				default:
				}
			}
		},
		StatsInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runNode(t, ctx, n)
	select {
	case s := <-got:
		if d := time.Duration(s.ClockOffsetMs) * time.Millisecond; d < ahead-5*time.Second || d > ahead+time.Second {
			t.Errorf("ClockOffsetMs = %d, want about %d", s.ClockOffsetMs, ahead.Milliseconds())
		}
		if s.BehindLiveMs < -1000 || s.BehindLiveMs > 5000 || s.StaleChunks != 0 { // the offset is known to the millisecond at best
			t.Errorf("BehindLiveMs %d, stale %d: the chunks are live on the origin's clock", s.BehindLiveMs, s.StaleChunks)
		}
	case <-ctx.Done():
		t.Fatal("no chunk verified")
	}
}
