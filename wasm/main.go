//go:build js && wasm

// Command wasm is the browser peer: the swarm engine and its driver
// (shared/node) compiled to WebAssembly. It defines globalThis.Shoal:
//
//	const handle = await Shoal.join({
//	  stream: "demo",
//	  signalURL: "wss://example.org/api/signal", // default: this page's server
//	  iceServers: [{urls: "stun:stun.example.org"}],
//	  wantData: false,                            // pass chunk bytes to onChunk
//	  onChunk(info) {},  // {seq, timestamp, size, from: "peer"|"origin", peer, keyframe, discontinuity, data?}
//	  onStats(stats) {}, // every 500 ms, see frontend/viewer.js
//	  onError(message) {},
//	});
//	handle.leave();
package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/webrtc/v4"

	"github.com/shoal-live/shoal/shared/jsbridge"
	"github.com/shoal-live/shoal/shared/node"
	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/wire"
)

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(consoleWriter{}, &slog.HandlerOptions{Level: slog.LevelInfo})))
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
	onChunk := jsbridge.Callback(opts, "onChunk")
	onStats := jsbridge.Callback(opts, "onStats")
	onError := jsbridge.Callback(opts, "onError")
	var ice []webrtc.ICEServer
	jsbridge.Each(opts.Get("iceServers"), func(v jsbridge.Value) {
		ice = append(ice, webrtc.ICEServer{
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
		conn, err := signaling.DialWebSocket(ctx, signalURL)
		if err != nil {
			cancel()
			return nil, err
		}
		n, err := node.New(node.Config{
			Stream:     stream,
			Signal:     conn,
			ICEServers: ice,
			Fetch:      node.HTTPFetcher(origin, nil),
			OnDeliver: func(d node.Delivery) {
				info := map[string]any{
					"seq":           float64(d.Chunk.Seq),
					"timestamp":     float64(d.Chunk.Timestamp),
					"size":          len(d.Chunk.Payload),
					"from":          map[bool]string{true: "origin", false: "peer"}[d.FromOrigin],
					"peer":          d.From,
					"keyframe":      d.Chunk.Flags&wire.FlagKeyframe != 0,
					"discontinuity": d.Chunk.Flags&wire.FlagDiscontinuity != 0,
				}
				if wantData {
					info["data"] = jsbridge.Bytes(d.Chunk.Payload)
				}
				onChunk(info)
			},
			OnStats: func(s node.Stats) { onStats(statsObject(s)) },
		})
		if err != nil {
			cancel()
			conn.Close("bad options")
			return nil, err
		}
		go func() {
			defer cancel()
			if err := n.Run(ctx); err != nil {
				onError(err.Error())
			}
		}()
		handle := jsbridge.Global().Get("Object").New()
		handle.Set("leave", jsbridge.Func(func([]jsbridge.Value) any { cancel(); return nil }))
		return handle, nil
	})
}

func statsObject(s node.Stats) map[string]any {
	return map[string]any{
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
