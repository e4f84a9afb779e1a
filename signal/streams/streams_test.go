package streams

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/cmaf"
	"github.com/shoal-live/shoal/signal/ingest/rtmp"
	"github.com/shoal-live/shoal/signal/origin"
	"github.com/shoal-live/shoal/signal/store"
)

// TestMain fails the run if a goroutine outlives the tests: an origin,
// its pipe or its idle watch.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakes is a tracker and a store: one stored stream, "stored" (key
// "stored-key"), and a swarm of 3 viewers on every stream.
type fakes struct{}

func (fakes) Live(string, uint64, uint64) {}
func (fakes) Viewers(string) int          { return 3 }
func (fakes) StreamByName(_ context.Context, name string) (store.Stream, error) {
	if name == "stored" {
		return store.Stream{Name: name, Key: "stored-key"}, nil
	}
	return store.Stream{}, store.ErrNotFound
}
func (f fakes) StreamByKey(ctx context.Context, key string) (store.Stream, error) {
	if key == "stored-key" {
		return f.StreamByName(ctx, "stored")
	}
	return store.Stream{}, store.ErrNotFound
}
func (fakes) SigningKey(context.Context, string) (ed25519.PrivateKey, error) {
	return ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)), nil
}

// run starts Streams with an idle time and returns them; they stop when
// the test ends.
func run(t *testing.T, idle time.Duration) *Streams {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := New(Config{
		Store: fakes{}, Tracker: fakes{}, Demo: "demo", Keys: map[string]string{"cli": "cli-key-0123456789"},
		Idle: idle, Logger: log,
		Origin: origin.Config{LoopbackOnly: true, Logger: log},
		// The origin's pipe: read and dropped, as if no viewer came.
		Join: func(ctx context.Context, c signaling.Conn) {
			defer c.Close("bye")
			for {
				if _, err := c.Recv(ctx); err != nil {
					return
				}
			}
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for !s.Running() {
		time.Sleep(time.Millisecond) // Run sets its context at once
	}
	return s
}

// TestIngestAdmissionRace: an RTMP and a WHIP publisher arriving at once
// for one stream. Admission used to check that the stream was free and
// claim it under two separate locks, so both could get in and publish
// into one origin. Exactly one must. The test widens the window between
// check and claim (a goroutine preempted there) to 5 ms.
func TestIngestAdmissionRace(t *testing.T) {
	s := run(t, time.Minute)
	s.between = func() { time.Sleep(5 * time.Millisecond) }
	for round := range 10 {
		stream := fmt.Sprintf("race%d", round)
		if round%2 == 1 { // half the rounds race for an origin that already runs
			in, err := s.Begin(stream, "rtmp")
			if err != nil {
				t.Fatal(err)
			}
			in.End(nil)
		}
		var (
			start = make(chan struct{})
			wg    sync.WaitGroup
			won   atomic.Int32
			mu    sync.Mutex
			ins   []*Session
		)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				in, err := s.Begin(stream, []string{"rtmp", "whip"}[i%2])
				if err != nil {
					return
				}
				won.Add(1)
				mu.Lock()
				ins = append(ins, in)
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		if n := won.Load(); n != 1 {
			t.Fatalf("round %d: %d publishers admitted to one stream, want 1", round, n)
		}
		for _, in := range ins {
			in.End(nil)
		}
	}
}

// TestOriginStopsWhenIdle: an origin used to run until the server exited
// once its stream had been published, and a refused publisher started
// one. Now it stops Idle after its publisher left, a refusal starts none,
// and a new publish starts a new one.
func TestOriginStopsWhenIdle(t *testing.T) {
	s := run(t, 300*time.Millisecond)
	checks := make(chan struct{})
	s.idleChecked = func(string) {
		select {
		case checks <- struct{}{}:
		default: // nobody counts any more
		}
	}
	s.Refused("refused", errors.New("unsupported codec"))
	if s.Origin("refused") != nil {
		t.Fatal("a refused publisher started an origin")
	}
	in, err := s.Begin("live", "rtmp")
	if err != nil {
		t.Fatal(err)
	}
	first := s.Origin("live")
	// Six of the idle watch's checks pass with the publisher on: none
	// may stop the origin.
	for range 6 {
		<-checks
	}
	if s.Origin("live") != first {
		t.Fatal("an origin with a publisher stopped")
	}
	in.End(nil)
	waitUntil(t, 5*time.Second, "the idle origin to stop", func() bool { return s.Origin("live") == nil })
	in, err = s.Begin("live", "whip")
	if err != nil {
		t.Fatalf("publish after the origin stopped: %v", err)
	}
	defer in.End(nil)
	if o := s.Origin("live"); o == nil || o == first {
		t.Fatal("no new origin for the new publisher")
	}
}

// TestStatus: each step of a session shows in the stream's status, its
// error in full for the owner and in public words for everyone; the
// studio's "end stream" clears the error, a refusal without an origin
// leaves only its error.
func TestStatus(t *testing.T) {
	s := run(t, time.Minute)
	in, err := s.Begin("cli", "rtmp")
	if err != nil {
		t.Fatal(err)
	}
	if st := s.State("cli"); !st.Ingest.Connected || st.Ingest.Protocol != "rtmp" || !st.Origin || st.Viewers != 3 {
		t.Fatalf("after Begin: %+v", st)
	}
	if _, err := s.Begin("cli", "whip"); err == nil {
		t.Fatal("a second publisher got in")
	}
	in.Init(`video/mp4; codecs="avc1.640020"`, []byte("init"), 640, 360)
	in.Fragment(cmaf.Fragment{Data: []byte("x"), Keyframe: true})
	st := s.State("cli")
	if !st.Live || !st.Media || !st.Chunks || st.Ingest.Width != 640 || st.Meter.Fragments != 1 {
		t.Fatalf("after a fragment: %+v", st)
	}
	in.End(fmt.Errorf("read tcp 10.0.0.1:1935->203.0.113.7:50412: %w", io.ErrUnexpectedEOF))
	st = s.State("cli")
	if st.Ingest.Connected || st.Live || st.Ingest.Error == "" || st.PublicIngest.Error != publicIngestDropped {
		t.Fatalf("after a failure: %+v", st)
	}
	if s.EndSession("cli") {
		t.Fatal("EndSession ended a session that had ended")
	}
	in, err = s.Begin("cli", "rtmp")
	if err != nil {
		t.Fatal(err)
	}
	if !s.EndSession("cli") {
		t.Fatal("EndSession found no session")
	}
	<-in.Ended()
	in.End(rtmp.ErrEnded)
	if st := s.State("cli"); st.Ingest.Error != "" {
		t.Fatalf("after the studio ended it: %+v", st)
	}
	s.Refused("stored", rtmp.ErrUnsupportedCodec)
	if st := s.State("stored"); st.Origin || st.Ingest != (IngestStatus{Error: st.Ingest.Error}) || st.PublicIngest.Error != publicIngestCodec {
		t.Fatalf("after a refusal: %+v", st)
	}
}

// TestLiveWithoutSession: a stream that publishes chunks without an
// ingest session and without video (the synthetic demo) is live, as
// viewers get its chunks; one whose session ended is not.
func TestLiveWithoutSession(t *testing.T) {
	s := run(t, time.Minute)
	o, err := s.Start(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if st := s.State("demo"); st.Live || !st.Origin {
		t.Fatalf("before any chunk: %+v", st)
	}
	o.Publish(origin.SyntheticChunk(1, 0, 32))
	if st := s.State("demo"); !st.Live || st.Media || !st.Chunks {
		t.Fatalf("publishing without a session: %+v", st)
	}
}

// TestExistence: which streams exist, which names are taken, and which key
// publishes where.
func TestExistence(t *testing.T) {
	s := run(t, time.Minute)
	ctx := context.Background()
	for _, tc := range []struct {
		name          string
		known, exists bool
		reserved      bool
	}{
		{"demo", true, true, true},
		{"cli", true, true, true},
		{"CLI", false, false, true},
		{"stored", false, true, false},
		{"made-up", false, false, false},
	} {
		if got := s.Known(tc.name); got != tc.known {
			t.Errorf("Known(%q) = %v", tc.name, got)
		}
		if got := s.Exists(ctx, tc.name); got != tc.exists {
			t.Errorf("Exists(%q) = %v", tc.name, got)
		}
		if row, got, err := s.Lookup(ctx, tc.name); got != tc.exists || err != nil || (row != nil) != (tc.name == "stored") {
			t.Errorf("Lookup(%q) = %v, %v, %v", tc.name, row, got, err)
		}
		if got := s.Reserved(tc.name); got != tc.reserved {
			t.Errorf("Reserved(%q) = %v", tc.name, got)
		}
		if got := s.WelcomeKey(ctx, tc.name) != ""; got != tc.exists {
			t.Errorf("WelcomeKey(%q) given: %v", tc.name, got)
		}
	}
	if name, ok := s.ForKey(ctx, "cli-key-0123456789"); !ok || name != "cli" {
		t.Errorf("ForKey(cli's) = %q %v", name, ok)
	}
	if name, ok := s.ForKey(ctx, "stored-key"); !ok || name != "stored" {
		t.Errorf("ForKey(stored's) = %q %v", name, ok)
	}
	if !s.Authorize(ctx, "stored", "stored-key") || s.Authorize(ctx, "stored", "cli-key-0123456789") {
		t.Error("Authorize took the wrong key")
	}
	in, err := s.Begin("made-up", "whip")
	if err != nil {
		t.Fatal(err)
	}
	defer in.End(nil)
	if !s.Known("made-up") {
		t.Error("a stream with an origin is not known")
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
