package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// feedConfig is the one encode that feeds both systems.
type feedConfig struct {
	rtmpURL string        // Shoal's ingest, rtmp://host:port/live/<key>
	hlsDir  string        // where the HLS muxer writes live.m3u8 and its segments; "": RTMP only
	keyint  time.Duration // keyframe interval
	logPath string        // ffmpeg's stderr without the showinfo lines
	// frameOffset numbers this encode's frames from it on (the counter
	// burnt in and the clock): a second encode, started when the restart
	// scenario restarts Shoal (the first one's RTMP output is gone then),
	// counts from far above anything the first reaches, so the two never
	// share a number.
	frameOffset int
}

const (
	fps        = 30
	hlsSegment = 2 // seconds
	hlsList    = "live.m3u8"
)

// ffmpegArgs: a 640×360 30 fps test pattern with the frame counter burnt in
// and a tone, encoded once (x264 veryfast zerolatency, no B-frames, CBR
// 1.5 Mbit/s; AAC 48 kHz) and written twice by the tee muxer: FLV to Shoal's
// RTMP ingest and HLS with 2 s fMP4 segments for hls.js. showinfo, last in
// the filter graph, logs each frame as it leaves the graph: that moment is
// the frame's birth for the latency measure.
func ffmpegArgs(c feedConfig) []string {
	gop := strconv.Itoa(max(1, int(c.keyint.Seconds()*fps+0.5)))
	hls := fmt.Sprintf("[f=hls:hls_time=%d:hls_list_size=6:hls_segment_type=fmp4:hls_fmp4_init_filename=init.mp4:"+
		"hls_segment_filename=%s/seg%%05d.m4s:hls_flags=delete_segments+independent_segments+temp_file]%s/%s",
		hlsSegment, c.hlsDir, c.hlsDir, hlsList)
	flv := "[f=flv:flvflags=no_duration_filesize:onfail=ignore]" + c.rtmpURL
	out := flv + "|" + hls
	if c.hlsDir == "" {
		out = flv
	}
	return []string{"-hide_banner", "-nostats", "-loglevel", "info", "-re",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc=size=%dx%d:rate=%d", frameW, frameH, fps),
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-map", "0:v", "-map", "1:a",
		"-vf", barFilter(c.frameOffset) + ",showinfo=checksum=0",
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-bf", "0",
		"-g", gop, "-keyint_min", gop, "-sc_threshold", "0",
		// nal-hrd=cbr pads with filler as OBS's CBR does: the test pattern
		// alone compresses to ~600 kbit/s, and the swarm should carry 1.5.
		"-b:v", "1500k", "-maxrate", "1500k", "-bufsize", "1500k", "-x264-params", "nal-hrd=cbr", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
		"-flags", "+global_header",
		"-f", "tee", out}
}

// frameClock records when each frame left ffmpeg's filter graph, in epoch
// milliseconds, indexed by frame number.
type frameClock struct {
	mu    sync.Mutex
	times []float64
}

// add records frame n born at ms. Frames arrive in order; a gap (a lost
// log line) leaves zeros, which at() reports as unknown.
func (c *frameClock) add(n int, ms float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.times) < n {
		c.times = append(c.times, 0)
	}
	if n == len(c.times) {
		c.times = append(c.times, ms)
	} else if n < len(c.times) {
		c.times[n] = ms
	}
}

// at is when frame n was made; ok is false for a frame not (yet) seen.
func (c *frameClock) at(n int) (ms float64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n < 0 || n >= len(c.times) || c.times[n] == 0 {
		return 0, false
	}
	return c.times[n], true
}

func (c *frameClock) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.times)
}

// showinfoLine matches showinfo's per-frame line, "[Parsed_showinfo_41 @
// 0x…] n:  12 pts: …".
var showinfoLine = regexp.MustCompile(`Parsed_showinfo_\d+ @ [^\]]*\] n:\s*(\d+) pts:`)

// readShowinfo timestamps every showinfo line of r as it arrives (as frame
// n+offset) and copies every other line to log.
func readShowinfo(r io.Reader, clock *frameClock, offset int, log io.Writer) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			now := float64(time.Now().UnixMicro()) / 1000
			if m := showinfoLine.FindStringSubmatch(line); m != nil {
				if n, err := strconv.Atoi(m[1]); err == nil {
					clock.add(n+offset, now)
				}
			} else if !isShowinfoDetail(line) {
				io.WriteString(log, line)
			}
		}
		if err != nil {
			return
		}
	}
}

// isShowinfoDetail: showinfo's second line per frame (colour information)
// and side data, kept out of the log.
func isShowinfoDetail(line string) bool { return showinfoAny.MatchString(line) }

var showinfoAny = regexp.MustCompile(`Parsed_showinfo_\d+ @`)

// startFeed runs ffmpeg until ctx ends.
func startFeed(ctx context.Context, c feedConfig, clock *frameClock) (*exec.Cmd, error) {
	log, err := os.Create(c.logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "ffmpeg", ffmpegArgs(c)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		log.Close()
		return nil, err
	}
	cmd.Stdout = log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("starting ffmpeg: %w", err)
	}
	go func() {
		readShowinfo(stderr, clock, c.frameOffset, log)
		log.Close()
	}()
	return cmd, nil
}
