package signal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shoal-live/shoal/shared/node"
	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/cmaf"
)

// runServer serves s on a loopback port until the test ends and returns
// its base URL.
func runServer(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.LoopbackOnly = true
	s, err := New(cfg, fstest.MapFS{"index.html": {Data: []byte("<h1>Shoal</h1>")}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	for s.runCtx() == context.Background() {
		time.Sleep(time.Millisecond)
	}
	return s, "http://" + ln.Addr().String()
}

// TestIngestAdmissionRace: an RTMP and a WHIP publisher arriving at once
// for one stream. beginIngest used to check that the stream was free and
// claim it under two separate locks, so both could get in and publish
// into one origin. Exactly one must. The test widens the window between
// check and claim (a goroutine preempted there) to 5 ms.
func TestIngestAdmissionRace(t *testing.T) {
	s, _ := runServer(t, Config{})
	s.admission.between = func() { time.Sleep(5 * time.Millisecond) }
	for round := range 10 {
		stream := fmt.Sprintf("race%d", round)
		if round%2 == 1 { // half the rounds race for an origin that already runs
			in, err := s.beginIngest(stream, "rtmp")
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
			ins   []*ingestSession
		)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				in, err := s.beginIngest(stream, []string{"rtmp", "whip"}[i%2])
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
// one. Now it stops OriginIdle after its publisher left, a refusal starts
// none, and a new publish starts a new one.
func TestOriginStopsWhenIdle(t *testing.T) {
	s, _ := runServer(t, Config{OriginIdle: 300 * time.Millisecond})
	s.ingestRefused("refused", errors.New("unsupported codec"))
	if s.origin("refused") != nil {
		t.Fatal("a refused publisher started an origin")
	}
	in, err := s.beginIngest("live", "rtmp")
	if err != nil {
		t.Fatal(err)
	}
	first := s.origin("live")
	time.Sleep(600 * time.Millisecond)
	if s.origin("live") != first {
		t.Fatal("an origin with a publisher stopped")
	}
	in.End(nil)
	waitUntil(t, 5*time.Second, "the idle origin to stop", func() bool { return s.origin("live") == nil })
	in, err = s.beginIngest("live", "whip")
	if err != nil {
		t.Fatalf("publish after the origin stopped: %v", err)
	}
	defer in.End(nil)
	if o := s.origin("live"); o == nil || o == first {
		t.Fatal("no new origin for the new publisher")
	}
}

// TestViewersResumeAfterOriginRestart: a viewer that watched a stream
// whose origin stopped for want of a publisher gets the chunks of the
// next session, from the new origin.
func TestViewersResumeAfterOriginRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, base := runServer(t, Config{OriginIdle: 500 * time.Millisecond, StreamKeys: map[string]string{"live": "k"}})
	publish := func(chunks int) {
		t.Helper()
		in, err := s.beginIngest("live", "rtmp")
		if err != nil {
			t.Fatal(err)
		}
		in.Init("video/mp4; codecs=\"avc1.640020\"", []byte("init"), 640, 360)
		for i := range chunks {
			in.Fragment(cmaf.Fragment{Data: []byte(strings.Repeat("x", 1000+i)), Keyframe: i%8 == 0})
			time.Sleep(125 * time.Millisecond)
		}
		in.End(nil)
	}
	var (
		mu  sync.Mutex
		got []uint64
	)
	conn, err := signaling.DialWebSocket(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/signal")
	if err != nil {
		t.Fatal(err)
	}
	n, err := node.New(node.Config{Stream: "live", Signal: conn, LoopbackOnly: true, Fetch: node.HTTPFetcher(base, nil),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnDeliver: func(d node.Delivery) {
			mu.Lock()
			got = append(got, d.Chunk.Seq)
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	vctx, vcancel := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- n.Run(vctx) }()
	defer func() { vcancel(); <-ran }()

	publish(16)
	mu.Lock()
	firstRun := len(got)
	newest := uint64(0)
	for _, q := range got {
		newest = max(newest, q)
	}
	mu.Unlock()
	if firstRun == 0 {
		t.Fatal("the viewer got nothing of the first session")
	}
	waitUntil(t, 5*time.Second, "the idle origin to stop", func() bool { return s.origin("live") == nil })
	publish(24)
	waitUntil(t, 5*time.Second, "chunks of the second session", func() bool {
		mu.Lock()
		defer mu.Unlock()
		later := 0
		for _, q := range got {
			if q > newest {
				later++
			}
		}
		return later >= 8
	})
}

func waitUntil(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
