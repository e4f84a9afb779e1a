//go:build js && wasm

// Command wasm is the browser peer: the swarm engine and its driver
// (shared/node) compiled to WebAssembly. It defines globalThis.Shoal:
//
//	const handle = await Shoal.join({
//	  stream: "demo",
//	  signalURL: "wss://example.org/api/signal", // default: this page's server
//	  iceServers: [{urls: "stun:stun.example.org"}],
//	  wantData: false,                            // pass chunk bytes to onChunk
//	  startSeq: 0,       // the first chunk the page still needs (it played the rest from HTTP); 0: the live edge
//	  debug: false,      // log every link, subscription and fetch to the console
//	  onChunk(info) {},  // {seq, timestamp, size, from: "peer"|"origin", peer, keyframe, discontinuity, data?}
//	  onStats(stats) {}, // every 500 ms, see frontend/viewer.js
//	  onState(s) {},     // {state: "connecting"|"joined"|"reconnecting", detail}: the peer joins again by itself
//	});
//	handle.cover(seq); // the page's player has every chunk before seq (from HTTP): the swarm need not bring them
//	handle.leave();
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/shoal-live/shoal/shared/jsbridge"
	"github.com/shoal-live/shoal/shared/node"
	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/swarm"
	"github.com/shoal-live/shoal/shared/wire"
)

// logLevel is Info unless a join asks for debug logs (the watch page's
// ?debug): every link, subscription and fetch then goes to the console.
var logLevel slog.LevelVar

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(consoleWriter{}, &slog.HandlerOptions{Level: &logLevel})))
	api := jsbridge.Global().Get("Object").New()
	api.Set("join", jsbridge.Func(func(args []jsbridge.Value) any {
		if len(args) == 0 {
			return jsbridge.Promise(func() (any, error) { return nil, fmt.Errorf("Shoal.join: options required") })
		}
		return join(args[0])
	}))
	api.Set("version", signaling.Version)
	jsbridge.Global().Set("Shoal", api)
	select {} // serve callbacks for the life of the page
}

func join(opts jsbridge.Value) jsbridge.Value {
	loc := jsbridge.Global().Get("location")
	origin := loc.Get("origin").String()
	wsBase := "ws://"
	if loc.Get("protocol").String() == "https:" {
		wsBase = "wss://"
	}
	stream := jsbridge.String(opts, "stream", "")
	signalURL := jsbridge.String(opts, "signalURL", wsBase+loc.Get("host").String()+"/api/signal")
	wantData := jsbridge.Bool(opts, "wantData", false)
	startSeq := jsbridge.Int(opts, "startSeq", 0)
	if jsbridge.Bool(opts, "debug", false) {
		logLevel.Set(slog.LevelDebug)
	}
	p := &peer{
		stream:    stream,
		signalURL: signalURL,
		fetch:     node.HTTPFetcher(origin, nil),
		wantData:  wantData,
		onChunk:   jsbridge.Callback(opts, "onChunk"),
		onStats:   jsbridge.Callback(opts, "onStats"),
		onState:   jsbridge.Callback(opts, "onState"),
	}
	if startSeq > 0 {
		p.startAt = uint64(startSeq)
	}
	jsbridge.Each(opts.Get("iceServers"), func(v jsbridge.Value) {
		p.ice = append(p.ice, webrtc.ICEServer{
			URLs:       jsbridge.Strings(v.Get("urls")),
			Username:   jsbridge.String(v, "username", ""),
			Credential: jsbridge.String(v, "credential", ""),
		})
	})

	return jsbridge.Promise(func() (any, error) {
		if !signaling.ValidStream(stream) {
			return nil, fmt.Errorf("Shoal.join: invalid stream name %q", stream)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go p.run(ctx)
		handle := jsbridge.Global().Get("Object").New()
		handle.Set("leave", jsbridge.Func(func([]jsbridge.Value) any { cancel(); return nil }))
		handle.Set("cover", jsbridge.Func(func(args []jsbridge.Value) any {
			if len(args) > 0 && jsbridge.IsNumber(args[0]) {
				if f := args[0].Float(); f > 0 && f < 1<<53 {
					p.cover(uint64(f))
				}
			}
			return nil
		}))
		return handle, nil
	})
}

// peer is one page's membership of a swarm: it joins, and joins again
// with backoff whenever the signaling connection is lost (the server
// restarted, the network dropped), until the page leaves.
type peer struct {
	stream, signalURL string
	ice               []webrtc.ICEServer
	fetch             node.FetchFunc
	wantData          bool
	startAt           uint64                    // the first chunk the page still needs, 0: from the live edge
	node              atomic.Pointer[node.Node] // this session's, nil between sessions
	onChunk           func(any)
	onStats           func(any)
	onState           func(any)
}

// Reconnection backoff: the first retry after retryMin, doubling up to
// retryMax, each wait a random 50-100% of that ("equal jitter"), so that a
// restarted server is not met by every viewer at the same instant. A
// connection that lasted stableAfter starts the backoff over.
const (
	retryMin    = 500 * time.Millisecond
	retryMax    = 10 * time.Second
	stableAfter = 30 * time.Second
)

// run joins and re-joins until ctx ends. It reports each change to the
// page: "connecting", "joined", and "reconnecting" with why.
func (p *peer) run(ctx context.Context) {
	backoff := retryMin
	for attempt := 0; ; attempt++ {
		if attempt == 0 {
			p.state("connecting", "")
		}
		began := time.Now()
		err := p.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > stableAfter {
			backoff = retryMin
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, retryMax)
		if qe := (*node.QuarantineError)(nil); errors.As(err, &qe) {
			// Reported by two neighbours (wrongly, if this page is
			// honest): join again, as a new peer, once the tracker's
			// wait is over; the page plays over HTTP meanwhile.
			wait = qe.Wait + rand.N(qe.Wait/4+1)
		}
		slog.Info("signaling lost; joining again", "err", err, "in", wait.Round(time.Millisecond))
		p.state("reconnecting", err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// session is one connection to the tracker, from dial to loss.
func (p *peer) session(ctx context.Context) error {
	conn, err := signaling.DialWebSocket(ctx, p.signalURL)
	if err != nil {
		return err
	}
	var n *node.Node
	n, err = node.New(node.Config{
		Stream:     p.stream,
		Signal:     conn,
		ICEServers: p.ice,
		Fetch:      p.fetch,
		// The page's HTTP feed (frontend/lib/start.js) brings each chunk
		// as it is cut, and covers it here, until a data channel delivers
		// or for 6 s after the peer joined: until then a peer without
		// parents need not fetch every chunk as it is due itself. On a busy machine the
		// data channels take seconds to open, and a peer that went lonely
		// meanwhile fetched what its neighbours were about to push.
		Engine:   swarm.Config{LonelyAfter: 6 * time.Second},
		StartAt:  p.startAt,
		OnJoined: func() { p.state("joined", "") },
		OnDeliver: func(d node.Delivery) {
			// A later session starts where this one got to.
			p.startAt = max(p.startAt, d.Chunk.Seq+1)
			info := map[string]any{
				"seq":           float64(d.Chunk.Seq),
				"timestamp":     float64(d.Chunk.Timestamp),
				"size":          len(d.Chunk.Payload),
				"from":          map[bool]string{true: "origin", false: "peer"}[d.FromOrigin],
				"peer":          d.From,
				"keyframe":      d.Chunk.Flags&wire.FlagKeyframe != 0,
				"discontinuity": d.Chunk.Flags&wire.FlagDiscontinuity != 0,
			}
			if p.wantData {
				info["data"] = jsbridge.Bytes(d.Chunk.Payload)
			}
			p.onChunk(info)
		},
		OnStats: func(s node.Stats) { p.onStats(statsObject(s)) },
	})
	if err != nil {
		conn.Close("bad options")
		return err
	}
	p.node.Store(n)
	defer p.node.Store(nil)
	err = n.Run(ctx)
	if err == nil && ctx.Err() == nil {
		err = errors.New("the swarm ended")
	}
	return err
}

// cover takes the page's word that its player has every chunk before
// before (from its HTTP feed): the swarm need not bring them, and a later
// session starts after them.
func (p *peer) cover(before uint64) {
	p.startAt = max(p.startAt, before)
	if n := p.node.Load(); n != nil {
		n.Cover(before)
	}
}

func (p *peer) state(s, detail string) {
	p.onState(map[string]any{"state": s, "detail": detail})
}

// memEvery: statsObject reads the Go runtime's memory figures at every
// memEvery-th report (every 5 s). Read at each report (every 500 ms),
// ReadMemStats and the start-the-world after it ran hot enough that V8's
// optimizing tier recompiled them (~160 ms of a starting tab's CPU;
// tools/browserbench/trace.mjs --compile-log), for figures that change
// over minutes.
const memEvery = 10

var (
	mem     runtime.MemStats
	memRead int
)

func statsObject(s node.Stats) map[string]any {
	// What the Go runtime holds: everything it mapped (in wasm, the linear
	// memory it grew) and the heap's objects. ReadMemStats stops the world
	// (in wasm's one thread, microseconds) and needs less code than
	// runtime/metrics.
	if memRead%memEvery == 0 {
		runtime.ReadMemStats(&mem)
	}
	memRead++
	return map[string]any{
		"memoryBytes":      float64(mem.Sys),
		"goHeapBytes":      float64(mem.HeapAlloc),
		"id":               s.ID,
		"peers":            s.Peers,
		"chunks":           s.Chunks,
		"bytesFromPeers":   float64(s.BytesFromPeers),
		"bytesFromOrigin":  float64(s.BytesFromOrigin),
		"chunksFromPeers":  s.ChunksFromPeers,
		"chunksFromOrigin": s.ChunksFromOrigin,
		"duplicates":       s.Duplicates,
		"uploadedBytes":    float64(s.Uploaded),
		"requests":         s.Requests,
		"fetches":          s.Fetches,
		"missed":           s.Missed,
		"behindLiveMs":     float64(s.BehindLiveMs),
		"newestSeq":        float64(s.Newest),
		"clockOffsetMs":    float64(s.ClockOffsetMs),
		"badMessages":      s.BadMessages,
		"verifyFailures":   s.VerifyFailures,
		"verified":         s.Verified,
		"verifiedWeb":      s.VerifiedWeb,
		"verifyMicros":     float64(s.VerifyMicros),
		"staleChunks":      s.StaleChunks,
		"floods":           s.Floods,
		"deliveredBad":     s.DeliveredBad,
		"forwardedBad":     s.ForwardedBad,
	}
}

// consoleWriter sends log lines to the browser console.
type consoleWriter struct{}

func (consoleWriter) Write(p []byte) (int, error) {
	jsbridge.Global().Get("console").Call("log", string(p))
	return len(p), nil
}
