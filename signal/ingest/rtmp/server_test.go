package rtmp_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"

	"github.com/shoal-live/shoal/signal/cmaf"
	"github.com/shoal-live/shoal/signal/ingest/rtmp"
)

// needTools fails the test when ffmpeg or ffprobe is missing: the ingest is
// proven against a real encoder, so these tests never skip.
func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (%v): run go tool task deps", tool, err)
		}
	}
}

// session records what the server delivered for one stream.
type session struct {
	stream string
	info   rtmp.Info
	mu     sync.Mutex
	inits  [][]byte
	initAt []int // len(frags) at each Init
	mime   string
	frags  []cmaf.Fragment
	ended  chan error // receives End's error
}

func (s *session) Init(mime string, init []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mime, s.inits, s.initAt = mime, append(s.inits, init), append(s.initAt, len(s.frags))
}

func (s *session) Fragment(f cmaf.Fragment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frags = append(s.frags, f)
}

func (s *session) End(err error) { s.ended <- err }

// firstFragment reports whether a fragment arrived.
func (s *session) hasFragments() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.frags) > 0
}

// sink hands out sessions and records them by stream.
type sink struct {
	mu       sync.Mutex
	sessions map[string][]*session
	started  chan *session
}

func newSink() *sink {
	return &sink{sessions: map[string][]*session{}, started: make(chan *session, 16)}
}

func (k *sink) Start(stream string, info rtmp.Info) (rtmp.Session, error) {
	s := &session{stream: stream, info: info, ended: make(chan error, 1)}
	k.mu.Lock()
	k.sessions[stream] = append(k.sessions[stream], s)
	k.mu.Unlock()
	k.started <- s
	return s, nil
}

func (k *sink) count(stream string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.sessions[stream])
}

// logBuffer is a goroutine-safe log destination.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the log lines that mention s.
func (b *logBuffer) lines(s string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, l := range strings.Split(b.buf.String(), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// keys is the test's stream key table: key → stream.
var keys = map[string]string{
	"k-good": "good", "k-good2": "good2", "k-mp3": "mp3", "k-flv1": "flv1", "k-stop": "stop",
	"k-params": "params",
}

// server runs a Server on a loopback port until the test ends.
type server struct {
	addr string
	sink *sink
	logs *logBuffer
	stop func() error // cancels Serve and returns what it returned
}

func startServer(t *testing.T, opts ...func(*rtmp.Config)) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{addr: ln.Addr().String(), sink: newSink(), logs: &logBuffer{}}
	cfg := rtmp.Config{
		Authorize: func(key string) (string, bool) {
			stream, ok := keys[key]
			return stream, ok
		},
		Sink:   s.sink,
		Logger: slog.New(slog.NewTextHandler(s.logs, nil)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := rtmp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	var serveErr error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case serveErr = <-done:
			case <-time.After(10 * time.Second):
				serveErr = errors.New("Serve did not return 10 s after cancel")
			}
		})
		return serveErr
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", strings.Join(s.logs.lines(""), "\n"))
		}
	})
	return s
}

// publish runs ffmpeg pushing seconds of test pattern in real time (-re)
// to rtmp://addr/live/key, with codec arguments replacing the defaults.
func publish(ctx context.Context, addr, key string, seconds int, codecs ...string) (string, error) {
	if codecs == nil {
		codecs = []string{"-c:v", "libx264", "-g", "30", "-bf", "0", "-tune", "zerolatency",
			"-pix_fmt", "yuv420p", "-c:a", "aac"}
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440"}
	args = append(args, codecs...)
	args = append(args, "-t", strconv.Itoa(seconds), "-f", "flv", "rtmp://"+addr+"/live/"+key)
	out, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput()
	return string(out), err
}

// probe returns how many frames ffprobe decodes per stream type from init
// followed by frags, failing on any decoder complaint.
func probe(t *testing.T, init []byte, frags []cmaf.Fragment) map[string]int {
	t.Helper()
	data := bytes.Clone(init)
	for _, f := range frags {
		data = append(data, f.Data...)
	}
	path := filepath.Join(t.TempDir(), "out.mp4")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-count_frames",
		"-show_entries", "stream=codec_type,nb_read_frames", "-of", "csv=p=0", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffprobe: %v\n%s", err, stderr.String())
	}
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		kind, n, _ := strings.Cut(line, ",")
		counts[kind], _ = strconv.Atoi(n)
	}
	return counts
}

// checkGood waits for a clean 5 s publish session on stream and checks that
// its init segment and fragments decode with every frame.
func checkGood(t *testing.T, ctx context.Context, s *server, stream string) {
	t.Helper()
	var sess *session
	s.sink.mu.Lock()
	if l := s.sink.sessions[stream]; len(l) == 1 {
		sess = l[0]
	}
	s.sink.mu.Unlock()
	if sess == nil {
		t.Fatalf("stream %q: %d sessions, want 1", stream, s.sink.count(stream))
	}
	select {
	case err := <-sess.ended:
		if err != nil {
			t.Fatalf("End(%v), want nil", err)
		}
	case <-ctx.Done():
		t.Fatal("session did not end")
	}
	v := sess.info.Tracks[0]
	if len(sess.info.Tracks) != 2 || v.Kind != "video" || v.Width != 640 || v.Height != 360 ||
		sess.info.Tracks[1].Codec != "mp4a.40.2" {
		t.Errorf("Info.Tracks = %+v", sess.info.Tracks)
	}
	if len(sess.inits) != 1 || sess.mime != sess.info.MIME || !strings.HasPrefix(sess.mime, `video/mp4; codecs="avc1.`) {
		t.Fatalf("%d inits, MIME %q", len(sess.inits), sess.mime)
	}
	if len(sess.frags) == 0 || !sess.frags[0].Keyframe {
		t.Fatalf("%d fragments, first keyframe: %v", len(sess.frags), len(sess.frags) > 0 && sess.frags[0].Keyframe)
	}
	keyframes, largest := 0, 0
	for i, f := range sess.frags {
		if f.Seq != uint32(i+1) {
			t.Errorf("fragment %d has Seq %d", i, f.Seq)
		}
		if f.Keyframe {
			keyframes++
		}
		largest = max(largest, len(f.Data))
	}
	got := probe(t, sess.inits[0], sess.frags)
	// 5 s at 30 fps; AAC at 44.1 kHz is 215.3 frames in 5 s, plus the
	// encoder's priming frame, less any before the first IDR.
	if got["video"] != 150 || got["audio"] < 213 || got["audio"] > 218 {
		t.Errorf("ffprobe decoded %v, want video=150 audio≈216", got)
	}
	if keyframes != 5 {
		t.Errorf("%d keyframe fragments, want 5", keyframes)
	}
	t.Logf("%s: %d fragments, %d keyframe, largest %d B; decoded %v", stream, len(sess.frags), keyframes, largest, got)
}

// TestPublish pushes real ffmpeg streams at one server: a good one and
// refused or unsupported ones at the same time, then a second good one.
func TestPublish(t *testing.T) {
	needTools(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	s := startServer(t)

	cases := []struct {
		name    string
		key     string
		codecs  []string // nil: H.264 + AAC
		stream  string   // the stream the key maps to, if any
		wantOK  bool     // ffmpeg exits 0 and the session decodes
		wantLog string   // a log line that must mention this, for failures
	}{
		{name: "H.264 and AAC", key: "k-good", stream: "good", wantOK: true},
		{name: "wrong key", key: "k-wrong", wantLog: `msg="rtmp: publish refused" remote=127.0.0.1`},
		{name: "MP3 audio", key: "k-mp3", stream: "mp3",
			codecs:  []string{"-c:v", "libx264", "-g", "30", "-bf", "0", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-c:a", "libmp3lame"},
			wantLog: "unsupported codec: MPEG-1/2 audio (MP3)"},
		{name: "Sorenson video", key: "k-flv1", stream: "flv1",
			codecs: []string{"-c:v", "flv", "-c:a", "aac"}, wantLog: "unsupported video codec"},
	}
	t.Run("group", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				out, err := publish(ctx, s.addr, tc.key, 5, tc.codecs...)
				if tc.wantOK {
					if err != nil {
						t.Fatalf("ffmpeg: %v\n%s", err, out)
					}
					checkGood(t, ctx, s, tc.stream)
					return
				}
				if err == nil {
					t.Errorf("ffmpeg exited 0, want a refused publish")
				}
				if tc.stream != "" && s.sink.count(tc.stream) != 0 {
					t.Errorf("sink started %q", tc.stream)
				}
				l := s.logs.lines(tc.wantLog)
				if len(l) != 1 {
					t.Fatalf("log lines mentioning %q: %q", tc.wantLog, l)
				}
				t.Log(l[0])
			})
		}
	})
	if t.Failed() {
		return
	}
	s.sink.mu.Lock()
	started := len(s.sink.sessions)
	s.sink.mu.Unlock()
	if started != 1 {
		t.Errorf("sink started %d streams, want only the good one", started)
	}
	for _, l := range s.logs.lines("") {
		if strings.Contains(l, "k-wrong") || strings.Contains(l, "k-good") {
			t.Errorf("a stream key was logged: %s", l)
		}
	}
	t.Run("good after failures", func(t *testing.T) {
		if out, err := publish(ctx, s.addr, "k-good2", 5); err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, out)
		}
		checkGood(t, ctx, s, "good2")
	})
}

// TestShutdown cancels Serve while a publisher is live: the session ends
// with ErrServerClosed after its buffered media, ffmpeg is disconnected and
// Serve returns nil (TestMain checks no goroutine is left).
func TestShutdown(t *testing.T) {
	needTools(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	s := startServer(t)
	ffmpegDone := make(chan error, 1)
	go func() {
		_, err := publish(ctx, s.addr, "k-stop", 30)
		ffmpegDone <- err
	}()
	var sess *session
	select {
	case sess = <-s.sink.started:
	case <-ctx.Done():
		t.Fatal("publisher never started")
	}
	for !sess.hasFragments() {
		select {
		case <-ctx.Done():
			t.Fatal("no fragment")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := s.stop(); err != nil {
		t.Fatalf("Serve returned %v, want nil", err)
	}
	select {
	case err := <-sess.ended:
		if !errors.Is(err, rtmp.ErrServerClosed) {
			t.Errorf("End(%v), want ErrServerClosed", err)
		}
	default:
		t.Error("Serve returned before the session ended")
	}
	select {
	case err := <-ffmpegDone:
		if err == nil {
			t.Error("ffmpeg exited 0 after the server went away")
		}
	case <-ctx.Done():
		t.Error("ffmpeg still running after shutdown")
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if got := probe(t, sess.inits[0], sess.frags); got["video"] == 0 {
		t.Errorf("what was delivered before shutdown does not decode: %v", got)
	}
}

// TestParameterChange publishes synthetic H.264 with gortmplib's client and
// switches to a new SPS after 3 s: the session gets a second init segment,
// and the fragments after it restart at Seq 1 with a keyframe.
func TestParameterChange(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s := startServer(t)
	sps1 := mustHex(t, "67640020accac05005bb0169e0000003002000000c9c4c000432380008647c12401cb1c31380")
	sps2 := bytes.Clone(sps1)
	sps2[3] = 0x28 // level 4.0 instead of 3.2
	pps := mustHex(t, "68b5df20")

	u, err := url.Parse("rtmp://" + s.addr + "/live#k-params")
	if err != nil {
		t.Fatal(err)
	}
	c := &gortmplib.Client{URL: u, Publish: true}
	if err := c.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.NetConn().SetDeadline(time.Now().Add(20 * time.Second))
	track := &gortmplib.Track{Codec: &codecs.H264{SPS: sps1, PPS: pps}}
	w := &gortmplib.Writer{Conn: c, Tracks: []*gortmplib.Track{track}}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	for i := range 150 { // 5 s at 30 fps, an IDR each second
		ts := time.Duration(i) * time.Second / 30
		slice := []byte{0x41, 0x9a, 0, 0}
		if i%30 == 0 {
			slice = []byte{0x65, 0x88, 0, 0}
		}
		au := [][]byte{slice}
		if i == 90 {
			au = [][]byte{sps2, pps, slice}
		}
		if err := w.WriteH264(track, ts, ts, au); err != nil {
			t.Fatalf("write frame %d: %v", i, err)
		}
	}
	c.Close()

	var sess *session
	select {
	case sess = <-s.sink.started:
	case <-ctx.Done():
		t.Fatal("not started")
	}
	select {
	case err := <-sess.ended:
		if err != nil {
			t.Fatalf("End(%v)", err)
		}
	case <-ctx.Done():
		t.Fatal("not ended")
	}
	if len(sess.inits) != 2 || sess.info.MIME != `video/mp4; codecs="avc1.640020"` || sess.mime != `video/mp4; codecs="avc1.640028"` {
		t.Fatalf("%d inits, first MIME %q, last %q", len(sess.inits), sess.info.MIME, sess.mime)
	}
	at := sess.initAt[1]
	if at == 0 || at >= len(sess.frags) {
		t.Fatalf("second init after %d of %d fragments", at, len(sess.frags))
	}
	before, after := sess.frags[at-1], sess.frags[at]
	// The last frame before the change is flushed with a guessed
	// duration, within RTMP's millisecond rounding of the truth.
	if gap := after.Start - (before.Start + before.Duration); after.Seq != 1 || !after.Keyframe ||
		after.Start != 3*time.Second || gap < -2*time.Millisecond || gap > 2*time.Millisecond {
		t.Errorf("around the change: seq %d at %v+%v, then seq %d keyframe %v at %v",
			before.Seq, before.Start, before.Duration, after.Seq, after.Keyframe, after.Start)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNew(t *testing.T) {
	auth := func(string) (string, bool) { return "", false }
	cases := []struct {
		name string
		cfg  rtmp.Config
		want error
	}{
		{"ok", rtmp.Config{Authorize: auth, Sink: newSink()}, nil},
		{"no Authorize", rtmp.Config{Sink: newSink()}, rtmp.ErrInvalidConfig},
		{"no Sink", rtmp.Config{Authorize: auth}, rtmp.ErrInvalidConfig},
		{"negative timeout", rtmp.Config{Authorize: auth, Sink: newSink(), ReadTimeout: -time.Second}, rtmp.ErrInvalidConfig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := rtmp.New(tc.cfg); !errors.Is(err, tc.want) {
				t.Errorf("New: %v, want %v", err, tc.want)
			}
		})
	}
}
