package whip_test

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
	"github.com/pion/webrtc/v4"

	"github.com/shoal-live/shoal/shared/loopback"
	"github.com/shoal-live/shoal/signal/cmaf"
	"github.com/shoal-live/shoal/signal/ingest/whip"
	client "github.com/shoal-live/shoal/tools/whipclient/whip"
)

const (
	testStream = "live"
	testKey    = "secret"
)

// sink records the sessions it begins and refuses a second publisher for a
// live stream, as the server does.
type sink struct {
	mu     sync.Mutex
	live   map[string]bool
	all    []*session
	begun  chan *session
	closed bool
}

func newSink() *sink {
	return &sink{live: map[string]bool{}, begun: make(chan *session, 16)}
}

func (k *sink) Begin(stream string) (whip.Session, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.live[stream] {
		return nil, fmt.Errorf("%w: stream %q is live", whip.ErrBusy, stream)
	}
	k.live[stream] = true
	s := &session{sink: k, stream: stream, begun: time.Now(), ended: make(chan struct{})}
	k.all = append(k.all, s)
	k.begun <- s
	return s, nil
}

func (k *sink) sessions() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.all)
}

type initSegment struct {
	mime          string
	data          []byte
	width, height int
	at            time.Time
}

// session records one publish session.
type session struct {
	sink   *sink
	stream string
	begun  time.Time

	mu     sync.Mutex
	inits  []initSegment
	frags  []cmaf.Fragment
	fragAt []time.Time
	err    error
	ends   int
	ended  chan struct{}
}

func (s *session) Init(mime string, init []byte, w, h int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inits = append(s.inits, initSegment{mime, init, w, h, time.Now()})
}

func (s *session) Fragment(f cmaf.Fragment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frags = append(s.frags, f)
	s.fragAt = append(s.fragAt, time.Now())
}

func (s *session) End(err error) {
	s.mu.Lock()
	s.err = err
	s.ends++
	first := s.ends == 1
	s.mu.Unlock()
	s.sink.mu.Lock()
	s.sink.live[s.stream] = false
	s.sink.mu.Unlock()
	if first {
		close(s.ended)
	}
}

// waitEnd returns the error End got.
func (s *session) waitEnd(t *testing.T, ctx context.Context) error {
	t.Helper()
	select {
	case <-s.ended:
	case <-ctx.Done():
		t.Fatal("Session.End not called")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// newServer starts a Handler on an httptest server; both close at the end
// of the test.
func newServer(t *testing.T, cfg whip.Config) (*whip.Handler, *httptest.Server, *sink) {
	t.Helper()
	k := newSink()
	if cfg.Authorize == nil {
		cfg.Authorize = func(stream, key string) bool {
			return stream == testStream && subtle.ConstantTimeCompare([]byte(key), []byte(testKey)) == 1
		}
	}
	if cfg.Sink == nil {
		cfg.Sink = k
	}
	cfg.LoopbackOnly = true
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	h, err := whip.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close)
	return h, srv, k
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// needTools fails the test when ffmpeg or ffprobe is missing: the
// end-to-end test is the proof that the output decodes, so it never skips.
func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (%v): run go tool task deps", tool, err)
		}
	}
}

// encodeMedia makes 6 s of 640x360 30 fps H.264 (baseline, an IDR per
// second, no B-frames) and of 440 Hz Opus, in the publisher's formats.
func encodeMedia(t *testing.T) (video, audio string) {
	t.Helper()
	dir := t.TempDir()
	return encodeH264(t, dir, "640x360", "6"), encodeOpus(t, dir, "6")
}

func encodeH264(t *testing.T, dir, size, seconds string) string {
	t.Helper()
	out := filepath.Join(dir, size+".h264")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size="+size+":rate=30", "-t", seconds, "-c:v", "libx264",
		"-pix_fmt", "yuv420p", "-profile:v", "baseline", "-g", "30", "-bf", "0",
		"-bsf:v", "h264_mp4toannexb", "-f", "h264", out)
	return out
}

func encodeOpus(t *testing.T, dir, seconds string) string {
	t.Helper()
	out := filepath.Join(dir, "in.ogg")
	ffmpeg(t, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", seconds,
		"-c:a", "libopus", "-b:a", "64k", "-page_duration", "20000", out)
	return out
}

func ffmpeg(t *testing.T, args ...string) {
	t.Helper()
	needTools(t)
	args = append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestPublish publishes 5 s of the ffmpeg-made files with the WHIP client
// over loopback and checks what the Sink got: one init segment for H.264 and
// Opus, fragments that ffprobe decodes whole, keyframe flags that match the
// IDRs; that a second publisher for the live stream gets the Sink's 409;
// and that after the client's DELETE ended the session, the stream can be
// published again.
func TestPublish(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	video, audio := encodeMedia(t)
	_, srv, k := newServer(t, whip.Config{})
	opts := client.Options{
		URL:          srv.URL + "/api/whip/" + testStream,
		Token:        testKey,
		Video:        video,
		Audio:        audio,
		Duration:     5 * time.Second,
		LoopbackOnly: true,
		Logger:       slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	}
	published := make(chan error, 1)
	go func() { published <- client.Publish(ctx, opts) }()

	var s *session
	select {
	case s = <-k.begun:
	case <-ctx.Done():
		t.Fatal("Sink.Begin not called")
	}
	second := opts
	second.Duration = time.Second
	err := client.Publish(ctx, second)
	var he *client.HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusConflict || !strings.Contains(he.Message, "is live") {
		t.Errorf("second publisher: %v, want 409 with the Sink's message", err)
	}

	if err := <-published; err != nil {
		t.Fatalf("publish: %v", err)
	}
	select {
	case <-s.ended: // DELETE returns once End was called
	default:
		t.Fatal("Session.End not called when DELETE returned")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil || s.ends != 1 {
		t.Errorf("End called %d times, last with %v; want once with nil", s.ends, s.err)
	}
	if len(s.inits) != 1 {
		t.Fatalf("%d init segments, want 1", len(s.inits))
	}
	in := s.inits[0]
	if want := `video/mp4; codecs="avc1.42c01e,opus"`; in.mime != want || in.width != 640 || in.height != 360 {
		t.Errorf("Init(%q, %dx%d), want %q 640x360", in.mime, in.width, in.height, want)
	}
	if len(s.frags) == 0 {
		t.Fatal("no fragments")
	}
	checkKeyframes(t, in.data, s.frags)

	got := probe(t, in.data, s.frags)
	const wantVideo, wantAudio = 150, 250 // 5 s of 30 fps and of 20 ms packets
	if got["video"] < wantVideo*9/10 || got["audio"] < wantAudio*9/10 {
		t.Errorf("ffprobe decoded %v, want at least 90%% of video=%d audio=%d", got, wantVideo, wantAudio)
	}

	var total, largest, largestKey int
	for _, f := range s.frags {
		total += len(f.Data)
		largest = max(largest, len(f.Data))
		if f.Keyframe {
			largestKey = max(largestKey, len(f.Data))
		}
	}
	t.Logf("POST to init %v, to first fragment %v; %d fragments, mean %d B, largest %d B, largest keyframe fragment %d B; decoded %v",
		in.at.Sub(s.begun).Round(time.Millisecond), s.fragAt[0].Sub(s.begun).Round(time.Millisecond),
		len(s.frags), total/len(s.frags), largest, largestKey, got)

	again := opts
	again.Duration = time.Second
	if err := client.Publish(ctx, again); err != nil {
		t.Fatalf("publishing again after DELETE: %v", err)
	}
	if n := k.sessions(); n != 2 {
		t.Errorf("%d sessions begun, want 2", n)
	}
}

// TestResolutionChange publishes video only, 1 s at 640x360 then 1 s at
// 320x180 in one stream (new SPS and PPS at the IDR): the Sink gets a second
// init segment, and each init with its fragments decodes.
func TestResolutionChange(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	var both []byte
	for _, size := range []string{"640x360", "320x180"} {
		b, err := os.ReadFile(encodeH264(t, dir, size, "1"))
		if err != nil {
			t.Fatal(err)
		}
		both = append(both, b...)
	}
	video := filepath.Join(dir, "both.h264")
	if err := os.WriteFile(video, both, 0o644); err != nil {
		t.Fatal(err)
	}
	_, srv, k := newServer(t, whip.Config{})
	err := client.Publish(ctx, client.Options{
		URL: srv.URL + "/api/whip/" + testStream, Token: testKey, Video: video, LoopbackOnly: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := <-k.begun
	if err := s.waitEnd(t, ctx); err != nil {
		t.Fatalf("End(%v)", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var sizes []string
	for _, in := range s.inits {
		sizes = append(sizes, fmt.Sprintf("%s %dx%d", in.mime, in.width, in.height))
	}
	want := `video/mp4; codecs="avc1.42c01e" 640x360, video/mp4; codecs="avc1.42c00d" 320x180`
	if strings.Join(sizes, ", ") != want {
		t.Fatalf("inits %q, want %q", sizes, want)
	}
	// Seq restarts at 1 with the second init.
	second := 0
	for i, f := range s.frags {
		if i > 0 && f.Seq == 1 {
			second = i
		}
	}
	if second == 0 || !s.frags[second].Keyframe {
		t.Fatalf("no keyframe fragment with Seq 1 after the first")
	}
	for i, part := range [][]cmaf.Fragment{s.frags[:second], s.frags[second:]} {
		checkKeyframes(t, s.inits[i].data, part)
		if got := probe(t, s.inits[i].data, part); got["video"] < 27 {
			t.Errorf("part %d: ffprobe decoded %v, want about 30 video frames", i, got)
		}
	}
}

// checkKeyframes checks Seq and that exactly the fragments whose first video
// sample holds an IDR are flagged as keyframes, the first among them.
func checkKeyframes(t *testing.T, init []byte, frags []cmaf.Fragment) {
	t.Helper()
	f, err := mp4.DecodeFile(bytes.NewReader(init))
	if err != nil {
		t.Fatal(err)
	}
	trex, ok := f.Init.Moov.Mvex.GetTrex(1)
	if !ok {
		t.Fatal("no trex for track 1")
	}
	keyframes := 0
	for i, fr := range frags {
		if fr.Seq != uint32(i+1) {
			t.Errorf("fragment %d has Seq %d", i, fr.Seq)
		}
		ff, err := mp4.DecodeFile(bytes.NewReader(fr.Data))
		if err != nil {
			t.Fatalf("fragment %d: %v", fr.Seq, err)
		}
		samples, err := ff.Segments[0].Fragments[0].GetFullSamples(trex)
		if err != nil {
			t.Fatalf("fragment %d: %v", fr.Seq, err)
		}
		if len(samples) == 0 {
			continue // audio only, at the end
		}
		idr := false
		for b := samples[0].Data; len(b) > 4; {
			n := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
			if n == 0 || n > len(b)-4 {
				t.Fatalf("fragment %d: bad NAL unit length %d", fr.Seq, n)
			}
			idr = idr || b[4]&0x1f == 5
			b = b[4+n:]
		}
		if fr.Keyframe != idr {
			t.Errorf("fragment %d: Keyframe %v, first sample has IDR %v", fr.Seq, fr.Keyframe, idr)
		}
		if fr.Keyframe {
			keyframes++
		}
		if i == 0 && !fr.Keyframe {
			t.Errorf("first fragment is not a keyframe fragment")
		}
	}
	if want := len(frags) / 5 * 4 / 5; keyframes < want {
		t.Errorf("%d keyframe fragments, want an IDR per second (%d)", keyframes, want)
	}
}

// probe writes init and fragments to a file and returns the number of
// frames ffprobe decodes per stream type, failing on any decoder error.
func probe(t *testing.T, init []byte, frags []cmaf.Fragment) map[string]int {
	t.Helper()
	buf := bytes.NewBuffer(bytes.Clone(init))
	for _, f := range frags {
		buf.Write(f.Data)
	}
	path := filepath.Join(t.TempDir(), "out.mp4")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-count_frames",
		"-show_entries", "stream=codec_type,nb_read_frames", "-of", "csv=p=0", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, stderr.String())
	}
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		kind, n, _ := strings.Cut(line, ",")
		if counts[kind], err = strconv.Atoi(n); err != nil {
			t.Fatalf("ffprobe line %q: %v", line, err)
		}
	}
	return counts
}

// TestPostErrors checks the answers to requests that start no session.
func TestPostErrors(t *testing.T) {
	_, srv, k := newServer(t, whip.Config{AllowedOrigins: []string{"https://studio.example"}})
	const vp8 = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n"
	endpoint := "/api/whip/" + testStream
	cases := []struct {
		name, method, path string
		header             map[string]string
		body               string
		code               int
		wantHeader         map[string]string
		wantBody           string
	}{
		{name: "no key", method: "POST", path: endpoint, body: "v=0",
			header: map[string]string{"Content-Type": "application/sdp"},
			code:   401, wantHeader: map[string]string{"WWW-Authenticate": "Bearer"}},
		{name: "wrong key", method: "POST", path: endpoint, body: "v=0",
			header: map[string]string{"Content-Type": "application/sdp", "Authorization": "Bearer nope"},
			code:   401, wantHeader: map[string]string{"WWW-Authenticate": "Bearer"}},
		{name: "key of another stream", method: "POST", path: "/api/whip/other", body: "v=0",
			header: map[string]string{"Content-Type": "application/sdp", "Authorization": "Bearer " + testKey},
			code:   401},
		{name: "basic auth", method: "POST", path: endpoint, body: "v=0",
			header: map[string]string{"Content-Type": "application/sdp", "Authorization": "Basic " + testKey},
			code:   401},
		{name: "content type", method: "POST", path: endpoint, body: "v=0",
			header: map[string]string{"Content-Type": "text/plain", "Authorization": "Bearer " + testKey},
			code:   415},
		{name: "garbage", method: "POST", path: endpoint, body: "this is not SDP",
			header: map[string]string{"Content-Type": "application/sdp", "Authorization": "Bearer " + testKey},
			code:   400, wantBody: "bad SDP offer"},
		{name: "too large", method: "POST", path: endpoint, body: "v=0\r\n" + strings.Repeat("a=x\r\n", 14000),
			header: map[string]string{"Content-Type": "application/sdp", "Authorization": "Bearer " + testKey},
			code:   413},
		{name: "no H.264", method: "POST", path: endpoint, body: vp8,
			header: map[string]string{"Content-Type": "application/sdp; charset=utf-8", "Authorization": "bearer " + testKey},
			code:   406, wantBody: "offered: VP8"},
		{name: "get", method: "GET", path: endpoint, code: 405, wantHeader: map[string]string{"Allow": "OPTIONS, POST"}},
		{name: "patch", method: "PATCH", path: endpoint + "/abc", code: 405},
		{name: "delete unknown", method: "DELETE", path: endpoint + "/abc", code: 404},
		{name: "other path", method: "POST", path: "/api/whipx/live", code: 404},
		{name: "too deep", method: "POST", path: endpoint + "/a/b", code: 404},
		{name: "no stream", method: "POST", path: "/api/whip/", code: 404},
		{name: "options", method: "OPTIONS", path: endpoint, code: 204,
			wantHeader: map[string]string{"Accept-Post": "application/sdp", "Access-Control-Allow-Origin": ""}},
		{name: "preflight", method: "OPTIONS", path: endpoint, code: 204,
			header: map[string]string{"Origin": "https://studio.example", "Access-Control-Request-Method": "POST"},
			wantHeader: map[string]string{"Access-Control-Allow-Origin": "https://studio.example",
				"Access-Control-Allow-Methods": "POST, PATCH, DELETE, OPTIONS", "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
				"Access-Control-Expose-Headers": "Location, Link, ETag"}},
		{name: "preflight of a session", method: "OPTIONS", path: endpoint + "/abc", code: 204,
			header: map[string]string{"Origin": "https://studio.example", "Access-Control-Request-Method": "DELETE"},
			wantHeader: map[string]string{"Access-Control-Allow-Origin": "https://studio.example",
				"Access-Control-Allow-Methods": "POST, PATCH, DELETE, OPTIONS", "Allow": "OPTIONS, DELETE"}},
		{name: "refusal readable cross-origin", method: "POST", path: endpoint, body: "v=0",
			header:     map[string]string{"Origin": "https://studio.example", "Content-Type": "application/sdp"},
			code:       401,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": "https://studio.example"}},
		{name: "preflight from elsewhere", method: "OPTIONS", path: endpoint, code: 204,
			header:     map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
			wantHeader: map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code || !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("%d %q, want %d containing %q", resp.StatusCode, body, tc.code, tc.wantBody)
			}
			for k, v := range tc.wantHeader {
				if got := resp.Header.Get(k); !strings.HasPrefix(got, v) || v == "" && got != "" {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
	if n := k.sessions(); n != 0 {
		t.Errorf("Sink.Begin called %d times", n)
	}
}

// TestSessionEnds checks that a session whose publisher never connects
// ends after MediaTimeout, and that Close ends the live sessions and
// refuses new ones.
func TestSessionEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, srv, k := newServer(t, whip.Config{MediaTimeout: 300 * time.Millisecond})
	h2, srv2, k2 := newServer(t, whip.Config{})
	offer := offerSDP(t)

	location := post(t, srv.URL, offer, http.StatusCreated)
	if !strings.HasPrefix(location, "/api/whip/"+testStream+"/") {
		t.Errorf("Location %q", location)
	}
	s := <-k.begun
	if err := s.waitEnd(t, ctx); !errors.Is(err, whip.ErrMediaTimeout) {
		t.Errorf("End(%v), want ErrMediaTimeout", err)
	}
	h.Close()
	// The session is gone: its DELETE gets 404.
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+location, nil)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close() // an unread body keeps the client's connection goroutines
	}
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE after the timeout: %v %v, want 404", resp, err)
	}

	post(t, srv2.URL, offer, http.StatusCreated)
	s2 := <-k2.begun
	h2.Close()
	if err := s2.waitEnd(t, ctx); !errors.Is(err, whip.ErrServerClosed) {
		t.Errorf("End(%v), want ErrServerClosed", err)
	}
	post(t, srv2.URL, offer, http.StatusServiceUnavailable)
}

// post POSTs an offer with the test key and returns the Location.
func post(t *testing.T, base, offer string, want int) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/api/whip/"+testStream, strings.NewReader(offer))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("POST: %s %s, want %d", resp.Status, body, want)
	}
	if want == http.StatusCreated && resp.Header.Get("Content-Type") != "application/sdp" {
		t.Errorf("answer Content-Type %q", resp.Header.Get("Content-Type"))
	}
	return resp.Header.Get("Location")
}

// offerSDP returns a pion offer to send H.264 and Opus, from a
// PeerConnection that never gets the answer.
func offerSDP(t *testing.T) string {
	t.Helper()
	var se webrtc.SettingEngine
	loopback.Only(&se)
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return pc.LocalDescription().SDP
}
