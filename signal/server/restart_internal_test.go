package server

import (
	"context"
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
	waitUntil(t, 5*time.Second, "the server to run", s.streams.Running)
	return s, "http://" + ln.Addr().String()
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
		in, err := s.streams.Begin("live", "rtmp")
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
	waitUntil(t, 5*time.Second, "the idle origin to stop", func() bool { return s.streams.Origin("live") == nil })
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
