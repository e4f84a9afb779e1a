//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// makeWHIPMedia encodes what a WHIP publisher sends: Annex-B H.264
// (baseline, 1 s GOP, no B-frames) and Ogg Opus, 10 s each.
func makeWHIPMedia(ctx context.Context, t *testing.T) (video, audio string) {
	t.Helper()
	dir := t.TempDir()
	video, audio = filepath.Join(dir, "in.h264"), filepath.Join(dir, "in.ogg")
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", "testsrc=size=640x360:rate=30", "-t", "10", "-c:v", "libx264", "-profile:v", "baseline",
			"-pix_fmt", "yuv420p", "-g", "30", "-bf", "0", "-bsf:v", "h264_mp4toannexb", "-f", "h264", video},
		{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "10", "-c:a", "libopus", "-b:a", "64k",
			"-page_duration", "20000", audio},
	} {
		out, err := exec.CommandContext(ctx, "ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return video, audio
}

// TestWHIPPlayback: a WHIP publisher (tools/whipclient, pion) sends H.264 and
// Opus as OBS's WHIP output would; two tabs play it, sound track and all.
func TestWHIPPlayback(t *testing.T) {
	bin := requireTools(t)
	client, err := filepath.Abs(filepath.Join(filepath.Dir(bin), "whipclient"))
	if err == nil {
		_, err = os.Stat(client)
	}
	if err != nil {
		t.Fatalf("bin/whipclient missing (%v): run go tool task build", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	video, audio := makeWHIPMedia(ctx, t)

	addr := freeAddr(t)
	const key = "whip-e2e-key-0123"
	startServer(ctx, t, bin, addr, "-demo", "", "-rtmp-addr", "", "-stream-keys", "live="+key)

	// A wrong token is refused before any media flows.
	bad := exec.CommandContext(ctx, client, "-url", "http://"+addr+"/api/whip/live", "-token", "nope",
		"-video", video, "-audio", audio, "-loopback", "-duration", "2s")
	if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), "401") {
		t.Fatalf("publishing with a wrong token: %v\n%s", err, out)
	}

	pub := exec.CommandContext(ctx, client, "-url", "http://"+addr+"/api/whip/live", "-token", key,
		"-video", video, "-audio", audio, "-loop", "-loopback")
	var out syncBuffer
	pub.Stdout, pub.Stderr = &out, &out
	pub.Cancel = func() error { return pub.Process.Signal(os.Interrupt) } // DELETEs the session
	pub.WaitDelay = 5 * time.Second
	if err := pub.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pub.Process.Signal(os.Interrupt)
		pub.Wait()
		if t.Failed() {
			t.Logf("whipclient said:\n%s", out.String())
		}
	})
	waitStatus(ctx, t, addr, "live", "live over WHIP with H.264 and Opus", func(st streamStatus) bool {
		return st.Live && st.Ingest.Protocol == "whip" && strings.Contains(st.Ingest.MIME, "opus") && strings.Contains(st.Ingest.MIME, "avc1")
	})

	// The controls wait until 22 s so that 8 s of playback come before
	// them even when the tabs take 10 s or more to load on a busy machine.
	const controlsAt = 22
	r := runBrowser(ctx, t, "--url", "http://"+addr+"/watch/live", "--tabs", "2", "--duration", "29",
		"--controls-at", strconv.Itoa(controlsAt), "--screenshot", filepath.Join(artifactsDir(t), "whip.png"))
	for _, tb := range r.Tabs {
		var tl []sample
		for _, s := range tb.Timeline {
			if s.Player != nil && s.Video != nil && s.Player.FirstFrameAt != nil && s.T < controlsAt-1 {
				tl = append(tl, s)
			}
		}
		if tb.Error != nil || len(tl) < 2 {
			t.Errorf("tab %d never played (error %v)", tb.Index, tb.Error)
			continue
		}
		a, b := tl[0], tl[len(tl)-1]
		span := b.T - a.T
		if got, want := b.Video.Decoded-a.Video.Decoded, 0.9*videoFPS*span; got < want || span < 8 {
			t.Errorf("tab %d: decoded %.0f frames in %.1f s, want at least %.0f", tb.Index, got, span, want)
		}
		if e := b.Player.Error; e != nil {
			t.Errorf("tab %d: player error %s", tb.Index, *e)
		}
		t.Logf("tab %d: %.0f frames decoded in %.1f s, latency %v s", tb.Index, b.Video.Decoded-a.Video.Decoded, span, deref(b.Player.Latency))
	}
	for _, p := range checkControls(r.Tabs[0].Controls) {
		t.Errorf("tab 0 controls: %s", p)
	}
}

// checkControls: what a person using the player's buttons expects.
func checkControls(c *controlsReport) (problems []string) {
	switch {
	case c == nil:
		return []string{"the controls were not exercised"}
	case c.Error != "":
		return []string{"using the controls: " + c.Error}
	}
	if !c.AfterPause.Paused || c.PausedStill.CurrentTime-c.AfterPause.CurrentTime > 0.05 {
		problems = append(problems, fmt.Sprintf("pause did not stop the video: %+v then %+v", c.AfterPause, c.PausedStill))
	}
	if c.AfterPlay.Paused || c.AfterPlay.CurrentTime <= c.PausedStill.CurrentTime {
		problems = append(problems, fmt.Sprintf("play did not resume the video: %+v", c.AfterPlay))
	}
	if c.AfterUnmute.Muted || c.AfterUnmute.Paused {
		problems = append(problems, fmt.Sprintf("unmute left it muted or paused: %+v", c.AfterUnmute))
	}
	if v := c.AfterVolume.Volume; v < 0.29 || v > 0.31 {
		problems = append(problems, fmt.Sprintf("volume slider at 0.3 gave volume %.2f", v))
	}
	if !strings.Contains(c.LiveBadge, "LIVE") || !strings.Contains(c.LiveBadge, "s") {
		problems = append(problems, fmt.Sprintf("LIVE badge reads %q, want LIVE with seconds behind", c.LiveBadge))
	}
	return problems
}

func deref(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}
