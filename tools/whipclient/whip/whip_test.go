package whip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/shoal-live/shoal/signal/cmaf"
	server "github.com/shoal-live/shoal/signal/ingest/whip"
)

// TestMain fails the run if a client or pion goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// encode makes the publisher's inputs with ffmpeg: 640x360 30 fps H.264
// without B-frames, an IDR per second, and 440 Hz Opus with pageArgs (one
// packet per page unless told otherwise).
func encode(t *testing.T, seconds string, pageArgs ...string) (video, audio string) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatalf("ffmpeg not found (%v): run go tool task deps", err)
	}
	if pageArgs == nil {
		pageArgs = []string{"-page_duration", "20000"}
	}
	dir := t.TempDir()
	video, audio = filepath.Join(dir, "in.h264"), filepath.Join(dir, "in.ogg")
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", "testsrc=size=640x360:rate=30", "-t", seconds, "-c:v", "libx264", "-pix_fmt", "yuv420p",
			"-profile:v", "baseline", "-g", "30", "-bf", "0", "-bsf:v", "h264_mp4toannexb", "-f", "h264", video},
		append([]string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", seconds,
			"-c:a", "libopus", "-b:a", "64k"}, append(pageArgs, audio)...),
	} {
		args = append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return video, audio
}

// TestReaders checks the access units and Opus packets read from the files.
func TestReaders(t *testing.T) {
	video, audio := encode(t, "2")
	if p, err := profileLevelID(video); err != nil || p != "42c01e" {
		t.Errorf("profile-level-id %q, %v; want 42c01e", p, err)
	}
	r, err := openH264(video)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var idrs []int
	n := 0
	for ; ; n++ {
		au, idr, err := r.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(au), "\x00\x00\x00\x01") {
			t.Fatalf("access unit %d does not start with a start code", n)
		}
		if idr {
			idrs = append(idrs, n)
		}
	}
	if n != 60 || fmt.Sprint(idrs) != "[0 30]" {
		t.Errorf("%d access units, IDRs at %v; want 60, [0 30]", n, idrs)
	}

	o, err := openOgg(audio)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	var total time.Duration
	packets := 0
	for {
		_, d, err := o.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		total += d
		packets++
	}
	if packets < 100 || total != time.Duration(packets)*20*time.Millisecond {
		t.Errorf("%d packets lasting %v; want at least 100 of 20 ms", packets, total)
	}

	_, pages := encode(t, "1", "-page_duration", "1000000")
	o2, err := openOgg(pages)
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	if _, _, err := o2.next(); err == nil || !strings.Contains(err.Error(), "-page_duration 20000") {
		t.Errorf("pages of several packets: %v, want an error naming -page_duration", err)
	}
}

// sink records fragments of one stream at a time.
type sink struct {
	mu    sync.Mutex
	inits int
	frags []cmaf.Fragment
	ended chan error
}

func (k *sink) Begin(string) (server.Session, error) { return k, nil }
func (k *sink) Init(string, []byte, int, int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.inits++
}

func (k *sink) Fragment(f cmaf.Fragment) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.frags = append(k.frags, f)
}
func (k *sink) End(err error) { k.ended <- err }

func newServer(t *testing.T, k *sink) *httptest.Server {
	t.Helper()
	h, err := server.New(server.Config{
		Authorize:    func(stream, key string) bool { return stream == "live" && key == "secret" },
		Sink:         k,
		LoopbackOnly: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	return srv
}

// TestPublishLoop loops 1 s files for 2.5 s: the timestamps must continue
// across the restarts, so the server muxes the whole time in one init.
func TestPublishLoop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	video, audio := encode(t, "1")
	k := &sink{ended: make(chan error, 1)}
	srv := newServer(t, k)
	err := Publish(ctx, Options{
		URL: srv.URL + "/api/whip/live", Token: "secret", Video: video, Audio: audio,
		Loop: true, Duration: 2500 * time.Millisecond, LoopbackOnly: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-k.ended; err != nil {
		t.Errorf("End(%v), want nil after DELETE", err)
	}
	var total time.Duration
	keys := 0
	for _, f := range k.frags {
		total += f.Duration
		if f.Keyframe {
			keys++
		}
	}
	if k.inits != 1 || total < 2200*time.Millisecond || keys < 3 {
		t.Errorf("%d inits, %v in %d fragments, %d keyframe fragments; want 1, at least 2.2 s, 3",
			k.inits, total, len(k.frags), keys)
	}
}

// TestPublishErrors checks that Publish reports refusals and bad input.
func TestPublishErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	video, audio := encode(t, "1")
	k := &sink{ended: make(chan error, 1)}
	srv := newServer(t, k)
	url := srv.URL + "/api/whip/live"

	err := Publish(ctx, Options{URL: url, Token: "wrong", Video: video, Audio: audio, LoopbackOnly: true})
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong key: %v, want an HTTPError 401", err)
	}
	if err := Publish(ctx, Options{URL: url, Video: filepath.Join(t.TempDir(), "none.h264")}); err == nil ||
		!strings.Contains(err.Error(), "open video") {
		t.Errorf("missing file: %v", err)
	}
	if err := Publish(ctx, Options{Video: video}); err == nil {
		t.Error("no URL: no error")
	}
	// Canceled before it starts: a clean end, nothing sent.
	canceled, stop := context.WithCancel(ctx)
	stop()
	if err := Publish(canceled, Options{URL: url, Token: "secret", Video: video, LoopbackOnly: true}); err != nil {
		t.Errorf("canceled: %v", err)
	}
}
