//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// studioRun is what studio.mjs saw.
type studioRun struct {
	Error              string `json:"error"`
	RedirectedTo       string `json:"redirectedTo"`
	WrongPasswordError string `json:"wrongPasswordError"`
	HiddenKey          string `json:"hiddenKey"`
	Key                string `json:"key"`
	RTMPServer         string `json:"rtmpServer"`
	WHIPURL            string `json:"whipUrl"`
	SignedIn           bool   `json:"signedIn"`
	Listed             bool   `json:"listed"`
	Status             *struct {
		Live   bool `json:"live"`
		Ingest struct {
			Connected bool   `json:"connected"`
			Protocol  string `json:"protocol"`
			Width     int    `json:"width"`
			Height    int    `json:"height"`
		} `json:"ingest"`
		Codecs              string  `json:"codecs"`
		BitrateKbps         float64 `json:"bitrateKbps"`
		KeyframeIntervalSec float64 `json:"keyframeIntervalSec"`
		Viewers             int     `json:"viewers"`
	} `json:"status"`
	Preview *struct {
		CurrentTime float64  `json:"currentTime"`
		Latency     *float64 `json:"latency"`
		State       string   `json:"state"`
	} `json:"preview"`
	PreviewAdvanced bool           `json:"previewAdvanced"`
	ShownStatus     map[string]any `json:"shownStatus"`
	PreviewNote     string         `json:"previewNote"`
	WatchStartMs    float64        `json:"watchStartMs"`
	Ended           *struct {
		Disconnected bool   `json:"disconnected"`
		Note         string `json:"note"`
	} `json:"ended"`
	BrowserLive         string `json:"browserLive"`
	BrowserState        string `json:"browserState"`
	BrowserLiveAfterEnd string `json:"browserLiveAfterEnd"`
	Watch               struct {
		Times []float64
		Hook  any
		Note  *string
	} `json:"watch"`
}

// runStudio runs studio.mjs and decodes its report.
func runStudio(ctx context.Context, t *testing.T, args ...string) studioRun {
	t.Helper()
	var stdout, stderr syncBuffer
	cmd := exec.CommandContext(ctx, "node", append([]string{"studio.mjs"}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	if stderr.String() != "" {
		t.Logf("studio.mjs %s stderr:\n%s", args[1], stderr.String())
	}
	if err != nil {
		t.Fatalf("studio.mjs %s: %v\n%s", args[1], err, stdout.String())
	}
	var r studioRun
	if err := json.Unmarshal(bytes.TrimSpace([]byte(stdout.String())), &r); err != nil {
		t.Fatalf("decoding studio.mjs's report: %v\n%s", err, stdout.String())
	}
	if r.Error != "" {
		t.Fatalf("studio.mjs %s: %s", args[1], r.Error)
	}
	return r
}

// server is a shoal process the test can stop and start again.
type server struct {
	cmd *exec.Cmd
	out *syncBuffer
}

func launchServer(ctx context.Context, t *testing.T, bin, addr string, args ...string) *server {
	t.Helper()
	s := &server{out: &syncBuffer{}}
	s.cmd = exec.Command(bin, append([]string{"-addr", addr, "-ice-loopback"}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("server log:\n%s", s.out.String())
		}
	})
	deadline := time.Now().Add(healthzTimeout)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("server not healthy: %v\n%s", err, s.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop interrupts the server and waits for it to exit.
func (s *server) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// TestStudio: a broadcaster made with -create-account signs in (after a
// wrong password is refused), creates a stream in the studio, reveals its
// key, and pushes ffmpeg over RTMP with it; the studio's status goes live
// and its preview plays, and a viewer's /watch page plays. Then the server
// restarts on the same data directory: the session, the stream and its key
// are still there, and ingest with the same key works again. Screenshots of
// the studio at desktop and phone widths go to SHOAL_ARTIFACTS. Finally "End
// stream" disconnects ffmpeg, and "Go live from the browser" publishes
// Chromium's fake camera over WHIP until "End stream" stops it.
func TestStudio(t *testing.T) {
	bin := requireTools(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	const user, password, stream = "broadcaster", "e2e-password-123", "e2e-studio"
	dataDir := t.TempDir()
	shots := artifactsDir(t)
	state := filepath.Join(t.TempDir(), "cookies.json")

	create := exec.CommandContext(ctx, bin, "-data-dir", dataDir, "-create-account", user)
	create.Env = append(os.Environ(), "SHOAL_ADMIN_PASSWORD="+password)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("-create-account: %v\n%s", err, out)
	}

	addr, rtmpAddr := freeAddr(t), freeAddr(t)
	base := "http://" + addr
	args := []string{"-demo", "", "-rtmp-addr", rtmpAddr, "-data-dir", dataDir}
	srv := launchServer(ctx, t, bin, addr, args...)

	setup := runStudio(ctx, t, "--mode", "setup", "--base", base, "--user", user, "--password", password,
		"--stream", stream, "--state", state, "--shots", shots)
	t.Logf("setup: redirected to %s, wrong password said %q, key %d chars, rtmp %s, whip %s",
		setup.RedirectedTo, setup.WrongPasswordError, len(setup.Key), setup.RTMPServer, setup.WHIPURL)
	if setup.RedirectedTo != "/login" {
		t.Errorf("/studio without a session went to %q, want /login", setup.RedirectedTo)
	}
	if !strings.Contains(setup.WrongPasswordError, "Wrong username or password") {
		t.Errorf("a wrong password showed %q", setup.WrongPasswordError)
	}
	if len(setup.Key) != 26 || strings.Contains(setup.HiddenKey, setup.Key) {
		t.Fatalf("key %q (shown before Show: %q)", setup.Key, setup.HiddenKey)
	}
	if want := "rtmp://127.0.0.1:" + strings.Split(rtmpAddr, ":")[1] + "/live"; setup.RTMPServer != want {
		t.Errorf("RTMP server %q, want %q", setup.RTMPServer, want)
	}
	if setup.WHIPURL != base+"/api/whip/"+stream {
		t.Errorf("WHIP URL %q", setup.WHIPURL)
	}

	checkLive := func(tag string, extra ...string) studioRun {
		t.Helper()
		enc := startEncoder(ctx, t, setup.RTMPServer+"/"+setup.Key)
		defer func() {
			if out := enc.stop(); t.Failed() && out != "" {
				t.Logf("ffmpeg (%s):\n%s", tag, out)
			}
		}()
		r := runStudio(ctx, t, append([]string{"--mode", "live", "--base", base, "--stream", stream, "--state", state, "--shots", shots, "--tag", tag}, extra...)...)
		t.Logf("%s: shown %v; preview %+v (%q); viewer played after %.1f s, then times %v",
			tag, r.ShownStatus, r.Preview, r.PreviewNote, r.WatchStartMs/1000, r.Watch.Times)
		if len(r.Watch.Times) > 0 && r.Watch.Times[len(r.Watch.Times)-1] == 0 {
			t.Logf("%s: viewer page: %+v, note %v", tag, r.Watch.Hook, r.Watch.Note)
		}
		if !r.SignedIn || !r.Listed {
			t.Fatalf("%s: signed in %v, stream listed %v", tag, r.SignedIn, r.Listed)
		}
		if r.Key != setup.Key {
			t.Errorf("%s: the studio shows key %q, want %q", tag, r.Key, setup.Key)
		}
		st := r.Status
		switch {
		case st == nil:
			t.Errorf("%s: no status", tag)
		case !st.Live || !st.Ingest.Connected || st.Ingest.Protocol != "rtmp":
			t.Errorf("%s: status not live over RTMP: %+v", tag, st)
		case st.Ingest.Width != 640 || st.Ingest.Height != 360 || !strings.Contains(st.Codecs, "avc1"):
			t.Errorf("%s: picture %dx%d codecs %q, want 640x360 avc1", tag, st.Ingest.Width, st.Ingest.Height, st.Codecs)
		case st.BitrateKbps < 100 || st.BitrateKbps > 3000:
			t.Errorf("%s: bitrate %.0f kbit/s for an 800k encode", tag, st.BitrateKbps)
		case st.KeyframeIntervalSec < 0.9 || st.KeyframeIntervalSec > 1.1:
			t.Errorf("%s: keyframe interval %.2f s for -g 30 at 30 fps", tag, st.KeyframeIntervalSec)
		case st.Viewers < 1:
			t.Errorf("%s: %d viewers with the preview open", tag, st.Viewers)
		}
		if !r.PreviewAdvanced {
			t.Errorf("%s: the preview did not play: %+v", tag, r.Preview)
		}
		times := r.Watch.Times
		if len(times) < 10 || times[len(times)-1]-times[0] < 3 {
			t.Errorf("%s: the viewer's video did not advance: %v", tag, times)
		}
		return r
	}
	checkLive("live")
	for _, name := range []string{"studio-live-desktop.png", "studio-live-phone.png"} {
		if _, err := os.Stat(filepath.Join(shots, name)); err != nil {
			t.Errorf("screenshot: %v", err)
		}
	}

	// Restart on the same data directory.
	srv.stop()
	srv = launchServer(ctx, t, bin, addr, args...)
	r := checkLive("restarted", "--end")
	if r.Ended == nil || !r.Ended.Disconnected {
		t.Errorf("End stream did not disconnect the RTMP publisher: %+v", r.Ended)
	}

	// Go live from the browser: Chromium's fake camera over WHIP, then End stream.
	b := runStudio(ctx, t, "--mode", "browser", "--base", base, "--stream", stream, "--state", state, "--shots", shots)
	t.Logf("browser: %q (%q), status %+v, ended %+v, then %q", b.BrowserLive, b.BrowserState, b.Status, b.Ended, b.BrowserLiveAfterEnd)
	switch st := b.Status; {
	case st == nil || !st.Live || st.Ingest.Protocol != "whip" || st.BitrateKbps <= 0:
		t.Errorf("going live from the browser: the status never showed a WHIP feed: %+v (%s)", st, b.BrowserState)
	case !strings.Contains(st.Codecs, "avc1") || !strings.Contains(st.Codecs, "opus"):
		t.Errorf("browser feed codecs %q, want H.264 + Opus", st.Codecs)
	case st.KeyframeIntervalSec < 1 || st.KeyframeIntervalSec > 2.6:
		t.Errorf("browser feed keyframe interval %.2f s, want about 2 s (the server's keyframe requests)", st.KeyframeIntervalSec)
	}
	if b.Preview == nil || b.Preview.State != "playing" || b.Preview.CurrentTime < 3 {
		t.Errorf("the preview did not play the browser's feed: %+v (%q)", b.Preview, b.PreviewNote)
	}
	if b.Ended == nil || !b.Ended.Disconnected || b.BrowserLiveAfterEnd != "idle" {
		t.Errorf("End stream did not stop the browser broadcast: %+v, page state %q", b.Ended, b.BrowserLiveAfterEnd)
	}
	_ = srv
	if t.Failed() {
		t.Log(fmt.Sprintf("screenshots in %s", shots))
	}
}
