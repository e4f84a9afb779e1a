//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	videoTabs     = 3
	videoFPS      = 30
	videoDuration = 58 // seconds the browsers watch
	encoderStopAt = 36 // the encoder disconnects here (tabs on a busy 2-core machine take ~10 s to a first frame: this leaves ≥ 10 s of steady playback)…
	encoderBackAt = 39 // …and reconnects here
)

// ffmpegArgs pushes a live test pattern with a burnt-in clock and a tone
// over RTMP, encoded as OBS would: H.264 with a keyframe every gop frames,
// no B-frames, AAC.
func ffmpegArgs(url string, gop int) []string {
	vf := "drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:text='%{localtime\\:%T}':fontsize=48:fontcolor=white:box=1:boxcolor=black@0.6:x=20:y=20"
	if _, err := os.Stat("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"); err != nil {
		vf = "null" // testsrc still burns in its own frame counter
	}
	return []string{"-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc=size=640x360:rate=%d", videoFPS),
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-vf", vf,
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", strconv.Itoa(gop), "-bf", "0",
		"-b:v", "800k", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "96k",
		"-f", "flv", url}
}

// encoder runs ffmpeg until stop is called.
type encoder struct {
	cmd *exec.Cmd
	out syncBuffer
}

func startEncoder(ctx context.Context, t testing.TB, url string) *encoder {
	t.Helper()
	return startEncoderGOP(ctx, t, url, videoFPS)
}

// startEncoderGOP is startEncoder with a keyframe every gop frames.
func startEncoderGOP(ctx context.Context, t testing.TB, url string, gop int) *encoder {
	t.Helper()
	e := &encoder{}
	e.cmd = exec.CommandContext(ctx, "ffmpeg", ffmpegArgs(url, gop)...)
	e.cmd.Stdout, e.cmd.Stderr = &e.out, &e.out
	e.cmd.Cancel = func() error { return e.cmd.Process.Signal(os.Interrupt) }
	e.cmd.WaitDelay = 5 * time.Second
	if err := e.cmd.Start(); err != nil {
		t.Fatalf("starting ffmpeg: %v", err)
	}
	return e
}

func (e *encoder) stop() string {
	e.cmd.Process.Kill() // the encoder dies, as a crashed OBS would
	e.cmd.Wait()
	return e.out.String()
}

// TestVideoPlayback: ffmpeg streams to the server over RTMP like OBS; three
// headless Chromium tabs watch. Each must play the video near live with
// (almost) every frame decoded and no stall over a second; when the encoder
// drops and comes back, every tab must resume on its own, without a reload.
func TestVideoPlayback(t *testing.T) {
	bin := requireTools(t)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()

	addr, rtmpAddr := freeAddr(t), freeAddr(t)
	const key = "e2e-secret-key-0123"
	startServer(ctx, t, bin, addr, "-demo", "", "-rtmp-addr", rtmpAddr, "-stream-keys", "live="+key)
	url := "rtmp://" + rtmpAddr + "/live/" + key

	enc := startEncoder(ctx, t, url)
	waitLive(ctx, t, addr, "live")
	// Times below count from now, within a second or two of the harness's
	// own clock (it starts once Chromium is up).
	go func() {
		select {
		case <-time.After(encoderStopAt * time.Second):
		case <-ctx.Done():
			return
		}
		if out := enc.stop(); out != "" {
			t.Logf("ffmpeg (first run) said:\n%s", out)
		}
		select {
		case <-time.After((encoderBackAt - encoderStopAt) * time.Second):
		case <-ctx.Done():
			return
		}
		enc = startEncoder(ctx, t, url)
	}()
	t.Cleanup(func() { enc.stop() })

	shot := filepath.Join(artifactsDir(t), "video.png")
	r := runBrowser(ctx, t,
		"--url", "http://"+addr+"/watch/live",
		"--tabs", strconv.Itoa(videoTabs),
		"--duration", strconv.Itoa(videoDuration),
		"--screenshot", shot,
	)
	t.Logf("screenshot of tab 0: %s", shot)
	if len(r.Tabs) != videoTabs {
		t.Fatalf("%d tabs reported, want %d", len(r.Tabs), videoTabs)
	}
	for _, tb := range r.Tabs {
		problems, summary := checkVideo(tb)
		t.Logf("tab %d: %s", tb.Index, summary)
		for _, p := range problems {
			t.Errorf("tab %d: %s", tb.Index, p)
		}
	}
}

// checkVideo returns what a viewer of this tab would have noticed, and a
// line of figures.
func checkVideo(tb tabReport) (problems []string, summary string) {
	if tb.Error != nil {
		problems = append(problems, "page error: "+*tb.Error)
	}
	var tl []sample
	for _, s := range tb.Timeline {
		if s.Player != nil && s.Video != nil {
			tl = append(tl, s)
		}
	}
	if len(tl) == 0 {
		return append(problems, "the player never started"), "no player samples"
	}
	if e := tl[len(tl)-1].Player.Error; e != nil {
		problems = append(problems, "player error: "+*e)
	}
	// Steady state: from 3 s after the first frame and the swarm's join
	// (the page plays from HTTP first; the wasm peer's start on a busy
	// 2-core machine may stall it, which the browser benchmark measures)
	// to 3 s before the encoder's drop (the harness clock starts up to ~2 s
	// late).
	start := -1.0
	for _, s := range tl {
		if s.Player.FirstFrameAt != nil && s.Video.Decoded > 0 && s.Joined {
			start = s.T + 3
			break
		}
	}
	if start < 0 {
		return append(problems, "no frame was ever decoded"), "no frames"
	}
	at := func(t float64) sample {
		i, _ := slices.BinarySearchFunc(tl, t, func(s sample, t float64) int {
			switch {
			case s.T < t:
				return -1
			case s.T > t:
				return 1
			}
			return 0
		})
		return tl[min(i, len(tl)-1)]
	}
	a, b := at(start), at(encoderStopAt-3)
	if span := b.T - a.T; span < 10 {
		problems = append(problems, fmt.Sprintf("only %.1f s of steady playback before the encoder dropped", span))
	} else {
		want := 0.9 * videoFPS * span
		if got := b.Video.Decoded - a.Video.Decoded; got < want {
			problems = append(problems, fmt.Sprintf("decoded %.0f frames in %.1f s, want at least %.0f (90%%)", got, span, want))
		}
		if adv := b.Video.CurrentTime - a.Video.CurrentTime; adv < 0.9*span {
			problems = append(problems, fmt.Sprintf("currentTime advanced %.1f s in %.1f s", adv, span))
		}
		if d := b.Player.StalledMs - a.Player.StalledMs; d > 1000 {
			problems = append(problems, fmt.Sprintf("stalled for %.0f ms in the steady window before the encoder dropped", d))
		}
	}
	// Resumed after the encoder came back (RTMP needs ~2 s to identify the
	// tracks), in the same page.
	back, end := at(encoderBackAt+8), tl[len(tl)-1]
	if adv := end.Video.CurrentTime - back.Video.CurrentTime; adv < 0.8*(end.T-back.T) {
		problems = append(problems, fmt.Sprintf("after the encoder reconnected, currentTime advanced only %.1f s in %.1f s", adv, end.T-back.T))
	}
	var lat []float64
	for _, s := range tl {
		if s.T >= start && s.T < encoderStopAt-3 && s.Player.Latency != nil {
			lat = append(lat, *s.Player.Latency)
		}
	}
	slices.Sort(lat)
	var sb strings.Builder
	if len(lat) > 0 {
		fmt.Fprintf(&sb, "latency behind live p50 %.2f s, p95 %.2f s; ", lat[len(lat)/2], lat[len(lat)*95/100])
	}
	if tb.FirstFrameMs != nil {
		fmt.Fprintf(&sb, "page open to first frame %.0f ms; ", *tb.FirstFrameMs)
	}
	fmt.Fprintf(&sb, "decoded %.0f frames, dropped %.0f, skipped %.0f chunks, stalls %.0f (longest %.0f ms)",
		end.Video.Decoded, end.Video.Dropped, end.Player.Skipped, end.Player.Stalls, end.Player.MaxStallMs)
	return problems, sb.String()
}
