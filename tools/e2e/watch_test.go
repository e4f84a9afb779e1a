//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"
)

// What a viewer lives with, judged from the video element (browser.mjs
// samples it every 0.5 s): the picture moves, video.buffered has no hole,
// the first frame comes soon. These run for a minute or more: the
// periodic hole of issue #11 began only after 40 s.

// maxFrozen is the share of samples in which the picture may stand still
// in these guards. The stalls they catch froze 7-99% of samples; a shared
// 2-core CI machine freezes a busy tab now and then. The benchmark
// (go tool task bench:browser) measures the real figure.
const maxFrozen = 0.05

// watchQuality is one tab's playback in a window of its timeline.
type watchQuality struct {
	samples   int
	frozen    int     // samples in which currentTime did not move although playing was due
	maxRanges int     // most ranges in video.buffered at once: over 1 is a hole
	restarts  int     // failed players replaced by the page
	played    float64 // seconds of media played
	span      float64 // seconds of wall time
	latencies []float64
}

func (q watchQuality) frozenRatio() float64 {
	if q.samples == 0 {
		return 1
	}
	return float64(q.frozen) / float64(q.samples)
}

func (q watchQuality) String() string {
	lat := "-"
	if len(q.latencies) > 0 {
		s := slices.Clone(q.latencies)
		slices.Sort(s)
		lat = fmt.Sprintf("%.2f s", s[len(s)/2])
	}
	return fmt.Sprintf("%d samples over %.0f s: played %.1f s of media, frozen %d (%.1f%%), most buffered ranges %d, player restarts %d, latency p50 %s",
		q.samples, q.span, q.played, q.frozen, 100*q.frozenRatio(), q.maxRanges, q.restarts, lat)
}

// judge fails t if the stream had a hole or the picture stood still too
// often.
func (q watchQuality) judge(t *testing.T) {
	t.Helper()
	if q.maxRanges > 1 {
		t.Errorf("video.buffered had %d ranges: a hole in the stream", q.maxRanges)
	}
	if q.frozenRatio() > maxFrozen {
		t.Errorf("picture frozen in %.1f%% of samples, want ≤ %.0f%%", 100*q.frozenRatio(), 100*maxFrozen)
	}
}

// quality judges the samples taken between from and to seconds after the
// first tab opened, once the tab shows a first frame. A sample is frozen
// when the playhead moved less than 0.1 s since the one before (0.5 s of
// wall time): a stall, whatever the player thinks of it.
func quality(tr tabReport, from, to float64) watchQuality {
	var q watchQuality
	var prev *sample
	for i := range tr.Timeline {
		s := &tr.Timeline[i]
		if s.T < from || s.T > to || s.Video == nil || s.Player == nil || s.Player.FirstFrameAt == nil {
			continue
		}
		q.maxRanges = max(q.maxRanges, s.Video.Ranges)
		q.restarts = max(q.restarts, s.Video.Restarts)
		if s.Player.Latency != nil {
			q.latencies = append(q.latencies, *s.Player.Latency)
		}
		if prev != nil {
			q.samples++
			moved := s.Video.CurrentTime - prev.Video.CurrentTime
			if moved < 0.1 {
				q.frozen++
			}
			if moved > 0 {
				q.played += moved
			}
			q.span += s.T - prev.T
		}
		prev = s
	}
	return q
}

// TestLongWatch: one viewer of the demo stream for 65 s must see the
// picture move all the time, with never a hole in video.buffered (once
// 40 s had played the player's trim of old media used to make one every
// 10 s).
func TestLongWatch(t *testing.T) {
	bin := requireTools(t)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	addr := freeAddr(t)
	startServer(ctx, t, bin, addr, "-rtmp-addr", "")

	const duration = 65
	r := runBrowser(ctx, t, "--url", "http://"+addr+"/watch/demo", "--tabs", "1", "--duration", strconv.Itoa(duration))
	tr := r.Tabs[0]
	if tr.FirstFrameMs == nil {
		t.Fatalf("no first frame in %d s", duration)
	}
	q := quality(tr, *tr.FirstFrameMs/1000+5, duration)
	t.Logf("first frame %.0f ms; %v", *tr.FirstFrameMs, q)
	if q.played < duration-30 {
		t.Errorf("played %.1f s of media, want ≥ %d", q.played, duration-30)
	}
	q.judge(t)
	if q.restarts > 0 {
		t.Errorf("the player failed and was replaced %d times", q.restarts)
	}
}

// TestFallbackWithoutWebRTC: the server cannot reach the tab over WebRTC
// (no loopback candidates in this namespace without -ice-loopback: as for
// a viewer whose network blocks UDP), and the tab has no other neighbour:
// it must play on from HTTP, without stalls.
func TestFallbackWithoutWebRTC(t *testing.T) {
	bin := requireTools(t)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	addr := freeAddr(t)
	startServer(ctx, t, bin, addr, "-rtmp-addr", "", "-ice-loopback=false")

	const duration = 42
	r := runBrowser(ctx, t, "--url", "http://"+addr+"/watch/demo", "--tabs", "1", "--duration", strconv.Itoa(duration))
	tr := r.Tabs[0]
	if tr.FirstFrameMs == nil {
		t.Fatalf("no first frame in %d s", duration)
	}
	q := quality(tr, *tr.FirstFrameMs/1000+10, duration)
	tb, _ := decodeTab(tr)
	t.Logf("first frame %.0f ms; %v; %s", *tr.FirstFrameMs, q, tb.summary())
	if tb.fromPeers > 0 {
		t.Errorf("%d chunks came from peers although no data channel can open", tb.fromPeers)
	}
	if q.played < duration-20 {
		t.Errorf("played %.1f s of media, want ≥ %d", q.played, duration-20)
	}
	q.judge(t)
}

// resumedAt is when, at or after from, the playhead began to move in each
// of 4 samples on end (2 s), seconds after the first tab opened; -1: never.
func resumedAt(tr tabReport, from float64) float64 {
	run := 0
	for i := 1; i < len(tr.Timeline); i++ {
		s, p := tr.Timeline[i], tr.Timeline[i-1]
		if s.T < from || s.Video == nil || p.Video == nil {
			continue
		}
		if s.Video.CurrentTime-p.Video.CurrentTime >= 0.1 {
			run++
		} else {
			run = 0
		}
		if run == 4 {
			return tr.Timeline[i-3].T
		}
	}
	return -1
}

// TestServerRestart: the server stops and starts again on the same data
// directory while a tab watches a stream that ffmpeg sends over RTMP; the
// encoder connects again once the server is back (as OBS retries), and the
// tab must play again within 10 s of the server being back, by itself: the
// page is not reloaded. The tab rejoins the new run of the stream at its
// newest keyframe, after the chunk flagged as the run's first: with the
// demo clip, which starts with the server, it used to get that chunk,
// and so missed the 27 s freeze a real broadcaster's restart caused.
func TestServerRestart(t *testing.T) {
	bin := requireTools(t)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	addr, rtmpAddr, dir := freeAddr(t), freeAddr(t), t.TempDir()
	const key = "e2e-restart-key-0123"
	args := []string{"-rtmp-addr", rtmpAddr, "-data-dir", dir, "-demo", "", "-stream-keys", "live=" + key}
	srv := launchServer(ctx, t, bin, addr, args...)
	ingest := "rtmp://" + rtmpAddr + "/live/" + key
	enc := startEncoder(ctx, t, ingest)
	waitLive(ctx, t, addr, "live")
	var encoders []*encoder
	defer func() {
		enc.stop()
		for _, e := range encoders {
			e.stop()
		}
	}()

	const (
		duration = 42
		stopAt   = 16 // seconds after the tab opens
		downFor  = 2 * time.Second
		within   = 10 // seconds to play again
	)
	restarted := make(chan float64, 1) // when the new server was healthy, seconds after the browser started
	restartErr := make(chan error, 1)
	began := time.Now()
	go func() {
		time.Sleep(stopAt * time.Second)
		srv.stop()
		time.Sleep(downFor)
		cmd := exec.Command(bin, append([]string{"-addr", addr, "-ice-loopback"}, args...)...)
		out := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			restartErr <- err
			return
		}
		srv.cmd, srv.out = cmd, out // for the cleanup
		for deadline := time.Now().Add(healthzTimeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if resp, err := httpGet("http://" + addr + "/healthz"); err == nil && resp == 200 {
				up := time.Since(began).Seconds()
				// The broadcaster's encoder connects again.
				again := exec.CommandContext(ctx, "ffmpeg", ffmpegArgs(ingest, videoFPS)...)
				e := &encoder{cmd: again}
				again.Stdout, again.Stderr = &e.out, &e.out
				if err := again.Start(); err != nil {
					restartErr <- fmt.Errorf("starting ffmpeg again: %w", err)
					return
				}
				encoders = append(encoders, e) // read after restarted is received
				restarted <- up
				return
			}
		}
		restartErr <- fmt.Errorf("restarted server not healthy within %v:\n%s", healthzTimeout, out.String())
	}()

	r := runBrowser(ctx, t, "--url", "http://"+addr+"/watch/live", "--tabs", "1", "--duration", strconv.Itoa(duration))
	var back float64
	select {
	case back = <-restarted:
	case err := <-restartErr:
		t.Fatal(err)
	}
	tr := r.Tabs[0]
	if tr.FirstFrameMs == nil {
		t.Fatal("no first frame")
	}
	before := quality(tr, *tr.FirstFrameMs/1000+3, stopAt)
	resumed := resumedAt(tr, back)
	after := quality(tr, back+within, duration)
	t.Logf("server healthy again at %.1f s, the picture moving again at %.1f s; before the stop: %v; from %d s after it was back: %v",
		back, resumed, before, within, after)
	if before.played < 5 {
		t.Fatalf("played only %.1f s before the restart", before.played)
	}
	if resumed < 0 || resumed > back+within {
		t.Errorf("the picture did not move for 2 s on end within %d s of the server being back (at %.1f s)", within, back)
	}
	if after.samples < 10 || after.played < 0.8*after.span {
		t.Errorf("not playing on after the restart: %v", after)
	}
	if tr.Reconnects < 1 {
		t.Errorf("the page never rejoined (reconnects %d): reloaded, or never noticed", tr.Reconnects)
	}
}

// TestLongKeyframeInterval: a broadcaster with OBS's "auto" keyframe
// interval (about 8 s). A viewer who opens the page mid-GOP starts at the
// newest keyframe and catches up: a first frame within 10 s, then no stall.
func TestLongKeyframeInterval(t *testing.T) {
	bin := requireTools(t)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	addr, rtmpAddr := freeAddr(t), freeAddr(t)
	const key = "e2e-long-gop-key"
	startServer(ctx, t, bin, addr, "-demo", "", "-rtmp-addr", rtmpAddr, "-stream-keys", "live="+key)
	enc := startEncoderGOP(ctx, t, "rtmp://"+rtmpAddr+"/live/"+key, 8*videoFPS)
	defer enc.stop()
	time.Sleep(13 * time.Second) // the tab opens 5 s into the second GOP

	const duration = 45
	r := runBrowser(ctx, t, "--url", "http://"+addr+"/watch/live", "--tabs", "1", "--duration", strconv.Itoa(duration))
	tr := r.Tabs[0]
	if tr.FirstFrameMs == nil {
		t.Fatalf("no first frame in %d s", duration)
	}
	first := *tr.FirstFrameMs / 1000
	q := quality(tr, first+10, duration)
	t.Logf("first frame %.0f ms; %v", *tr.FirstFrameMs, q)
	if first > 10 {
		t.Errorf("first frame after %.1f s, want ≤ 10 s", first)
	}
	q.judge(t)
}

func httpGet(url string) (int, error) {
	resp, err := (&http.Client{Timeout: time.Second}).Get(url)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
