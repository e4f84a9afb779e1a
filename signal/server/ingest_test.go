package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/server"
)

// publish runs ffmpeg pushing seconds of test pattern to url with the given
// audio codec, and returns its error.
func publish(ctx context.Context, url, audioCodec string, seconds int) error {
	args := []string{"-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc=size=320x180:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", fmt.Sprint(seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p",
		"-c:a", audioCodec, "-f", "flv", url}
	out, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

type streamStatus struct {
	Live      bool   `json:"live"`
	NewestSeq uint64 `json:"newestSeq"`
	Ingest    struct {
		Connected bool   `json:"connected"`
		Protocol  string `json:"protocol"`
		MIME      string `json:"mime"`
		Width     int    `json:"width"`
		Error     string `json:"error"`
	} `json:"ingest"`
}

func status(t *testing.T, base, stream string) (streamStatus, int) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/api/streams/" + stream + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st streamStatus
	json.NewDecoder(resp.Body).Decode(&st)
	return st, resp.StatusCode
}

// TestRTMPIngest publishes with real ffmpeg: a good stream goes live with
// its codec and size in the status; a wrong key is refused; an unsupported
// codec is refused with a clear error in the status; and none of that
// disturbs the good stream.
func TestRTMPIngest(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is missing: run `go tool task deps`")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ln := listen(t) // find a free port for RTMP
	rtmpAddr := ln.Addr().String()
	ln.Close()
	base := startServer(t, ctx, server.Config{
		RTMPAddr:   rtmpAddr,
		StreamKeys: map[string]string{"good": "key-good", "bad": "key-bad"},
	})
	rtmp := "rtmp://" + rtmpAddr + "/live/"

	good := make(chan error, 1)
	go func() { good <- publish(ctx, rtmp+"key-good", "aac", 12) }()
	waitFor(t, 10*time.Second, "the good stream to go live", func() bool {
		st, code := status(t, base, "good")
		return code == 200 && st.Live && st.Ingest.Connected
	})

	if err := publish(ctx, rtmp+"wrong-key", "aac", 2); err == nil {
		t.Error("ffmpeg with a wrong key was not refused")
	}
	if err := publish(ctx, rtmp+"key-bad", "libmp3lame", 4); err == nil {
		t.Log("ffmpeg did not notice the refusal of MP3 (it may finish writing first)")
	}
	st, _ := status(t, base, "bad")
	if !strings.Contains(st.Ingest.Error, "unsupported codec") || st.Live {
		t.Errorf("status of the MP3 stream: %+v, want not live with an unsupported-codec error", st)
	}

	st, _ = status(t, base, "good")
	if !st.Live || st.Ingest.Protocol != "rtmp" || st.Ingest.Width != 320 || !strings.Contains(st.Ingest.MIME, "avc1") {
		t.Errorf("good stream after the bad publishers: %+v", st)
	}
	resp, err := http.Get(base + "/api/streams/good/init")
	if err == nil {
		resp.Body.Close() // an unread body keeps the client's connection goroutines
	}
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("X-Shoal-Mime") == "" {
		t.Errorf("good stream's init segment: %v %v", resp, err)
	}
	if err := <-good; err != nil {
		t.Errorf("good publisher: %v", err)
	}
	waitFor(t, 5*time.Second, "the good stream to end", func() bool {
		st, _ := status(t, base, "good")
		return !st.Live && !st.Ingest.Connected
	})
}

// waitChunks waits until stream has published n chunks more than it had
// when first seen with any: the stream's own progress, not the wall
// clock, so a loaded machine only makes the wait longer.
func waitChunks(t *testing.T, base, stream string, n uint64) {
	t.Helper()
	first := uint64(0)
	waitFor(t, 20*time.Second, fmt.Sprintf("%d chunks of %s", n, stream), func() bool {
		st, _ := status(t, base, stream)
		if first == 0 {
			first = st.NewestSeq
		}
		return first != 0 && st.NewestSeq >= first+n
	})
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
