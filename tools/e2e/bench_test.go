//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// BenchmarkPlayback measures what viewers get from a live RTMP stream on
// loopback: latency behind live at the playhead (p50/p95 over every sample
// of every tab after start-up), page open to first frame, and the share of
// bytes that came from peers. Run with
//
//	go tool task bench:e2e   (SHOAL_BENCH_SECONDS=180, SHOAL_BENCH_TABS=4 by default)
//
// It runs once whatever -benchtime says: the figures are per run.
func BenchmarkPlayback(b *testing.B) {
	secs := 180
	if v, err := strconv.Atoi(os.Getenv("SHOAL_BENCH_SECONDS")); err == nil && v >= 20 {
		secs = v
	}
	tabs := 4
	if v, err := strconv.Atoi(os.Getenv("SHOAL_BENCH_TABS")); err == nil && v >= 1 {
		tabs = v
	}
	bin := requireTools(b)
	ctx, cancel := context.WithTimeout(b.Context(), time.Duration(secs)*time.Second+2*time.Minute)
	defer cancel()
	addr, rtmpAddr := freeAddr(b), freeAddr(b)
	const key = "bench-key-0123456789"
	startServer(ctx, b, bin, addr, "-demo", "", "-rtmp-addr", rtmpAddr, "-stream-keys", "live="+key)
	enc := startEncoder(ctx, b, "rtmp://"+rtmpAddr+"/live/"+key)
	defer enc.stop()
	waitLive(ctx, b, addr, "live")

	b.ResetTimer()
	r := runBrowser(ctx, b, "--url", "http://"+addr+"/watch/live", "--tabs", strconv.Itoa(tabs), "--duration", strconv.Itoa(secs))
	b.StopTimer()
	if raw, err := json.Marshal(r); err == nil {
		os.WriteFile(filepath.Join(artifactsDir(b), "bench-playback.json"), raw, 0o644)
	}

	var lat, firstFrame []float64
	var peerBytes, allBytes, stalled, watched float64
	for _, tb := range r.Tabs {
		if tb.FirstFrameMs != nil {
			firstFrame = append(firstFrame, *tb.FirstFrameMs)
		}
		if s := tb.Stats; s != nil {
			peerBytes += s.BytesFromPeers
			allBytes += s.BytesFromPeers + s.BytesFromOrigin
		}
		var start float64 = -1
		var last sample
		for _, s := range tb.Timeline {
			if s.Player == nil || s.Video == nil || s.Player.FirstFrameAt == nil {
				continue
			}
			if start < 0 {
				start = s.T
			}
			last = s
			if s.T >= start+3 && s.Player.Latency != nil {
				lat = append(lat, *s.Player.Latency)
			}
		}
		if start >= 0 && last.Player != nil {
			watched += last.T - start
			stalled += last.Player.StalledMs / 1000 // waits after the first frame
		}
	}
	if len(lat) == 0 {
		b.Fatal("no latency samples: did any tab play?")
	}
	slices.Sort(lat)
	slices.Sort(firstFrame)
	b.ReportMetric(lat[len(lat)/2], "latency-p50-s")
	b.ReportMetric(lat[len(lat)*95/100], "latency-p95-s")
	if len(firstFrame) > 0 {
		b.ReportMetric(firstFrame[len(firstFrame)/2], "first-frame-p50-ms")
	}
	if allBytes > 0 {
		b.ReportMetric(100*peerBytes/allBytes, "p2p-%")
	}
	if watched > 0 {
		b.ReportMetric(100*stalled/watched, "rebuffer-%")
	}
	b.Logf("%d tabs, %d s, %d latency samples; watched %.0f tab-seconds", tabs, secs, len(lat), watched)
}
