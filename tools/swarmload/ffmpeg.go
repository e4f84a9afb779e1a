package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// The encoder settings are tools/e2e's (video_test.go): a test pattern
// encoded as OBS would, H.264 with a 1 s GOP and no B-frames, AAC audio.
const (
	ffmpegFPS      = 30
	ffmpegAudioBps = 96_000
)

func lookFFmpeg(path string) (string, error) {
	p, err := exec.LookPath(path)
	if err != nil {
		return "", fmt.Errorf("-ffmpeg: %w (install it with `go tool task deps`, or leave -ffmpeg off for the synthetic source)", err)
	}
	return p, nil
}

// encoder is a running ffmpeg.
type encoder struct {
	cmd  *exec.Cmd
	out  lockedBuffer
	done chan struct{}
	err  error
}

func startFFmpeg(ctx context.Context, cfg Config, url string) (*encoder, error) {
	video := max(cfg.Rate-ffmpegAudioBps, 100_000)
	args := []string{"-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc=size=640x360:rate=%d", ffmpegFPS),
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", strconv.Itoa(ffmpegFPS), "-bf", "0",
		"-b:v", strconv.FormatInt(video, 10), "-maxrate", strconv.FormatInt(video, 10), "-bufsize", strconv.FormatInt(video, 10),
		"-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", strconv.Itoa(ffmpegAudioBps),
		"-f", "flv", url}
	e := &encoder{done: make(chan struct{})}
	e.cmd = exec.CommandContext(ctx, cfg.FFmpegPath, args...)
	e.cmd.Stdout, e.cmd.Stderr = &e.out, &e.out
	e.cmd.Cancel = func() error { return e.cmd.Process.Signal(os.Interrupt) }
	e.cmd.WaitDelay = 5 * time.Second
	if err := e.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	go func() {
		e.err = e.cmd.Wait()
		close(e.done)
	}()
	return e, nil
}

func (e *encoder) stop(log *slog.Logger) {
	if e.cmd.Process != nil {
		e.cmd.Process.Signal(os.Interrupt)
	}
	select {
	case <-e.done:
	case <-time.After(5 * time.Second):
		e.cmd.Process.Kill()
		<-e.done
	}
	if out := e.out.String(); out != "" {
		log.Debug("ffmpeg output", "out", out)
	}
}

// waitIngest waits until the server reports the RTMP ingest connected and
// has cut its first chunk.
func (l *load) waitIngest(ctx context.Context, e *encoder) error {
	return poll(ctx, 20*time.Second, func() (bool, error) {
		select {
		case <-e.done:
			return false, fmt.Errorf("ffmpeg exited: %v: %s", e.err, e.out.String())
		default:
		}
		resp, err := l.client.Get(l.base + "/api/streams/" + l.stream + "/status")
		if err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		var st struct {
			Live   bool   `json:"live"`
			Newest uint64 `json:"newestSeq"`
			Ingest struct {
				Connected bool   `json:"connected"`
				Error     string `json:"error"`
			} `json:"ingest"`
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&st) != nil {
			return false, nil
		}
		if st.Ingest.Error != "" {
			return false, fmt.Errorf("the server refused the stream: %s", st.Ingest.Error)
		}
		if !st.Live && !st.Ingest.Connected {
			return false, nil
		}
		c, err := l.client.Get(l.base + "/api/streams/" + l.stream + "/chunks/" + strconv.FormatUint(st.Newest, 10))
		if err != nil {
			return false, nil
		}
		c.Body.Close()
		return c.StatusCode == http.StatusOK, nil
	}, "RTMP ingest")
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b.Len() > 64<<10 {
		return len(p), nil
	}
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
