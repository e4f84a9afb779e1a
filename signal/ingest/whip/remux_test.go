package whip

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/cmaf"
)

// Parameter sets from libx264 (baseline, ffmpeg's testsrc) at two sizes.
var (
	sps360 = mustHex("6742c01ed900a02ff970110000030001000003003c0f162e48")
	sps180 = mustHex("6742c00dd901419f9f0110000003001000000303c0f142a480")
	pps    = mustHex("68cb83cb20")
	idr    = []byte{0x65, 0x88, 0x84, 0x00}
	slice  = []byte{0x41, 0x9a, 0x02, 0x00}
	opus20 = []byte{0xfc, 0xff, 0xfe} // CELT 20 ms
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestRTPClock(t *testing.T) {
	const ms = time.Millisecond
	cases := []struct {
		name   string
		rate   int64
		first  uint32
		ts     []uint32
		want   []time.Duration
		anchor time.Duration
	}{
		{"video", 90000, 1000, []uint32{1000, 4000, 7000, 97000}, []time.Duration{0, 33333333, 66666666, 1066666666}, 0},
		{"anchored", 48000, 5, []uint32{5, 965}, []time.Duration{250 * ms, 270 * ms}, 250 * ms},
		{"wraparound", 48000, 0xffffff00, []uint32{0xffffff00, 0x00000100, 0x000002c0}, []time.Duration{0, 10666666, 20 * ms}, 0},
		{"reordered", 90000, 9000, []uint32{9000, 15000, 12000, 18000}, []time.Duration{0, 66666666, 33333333, 100 * ms}, 0},
		{"before the first", 90000, 9000, []uint32{6000, 9000}, []time.Duration{-33333333, 0}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newRTPClock(tc.rate, tc.anchor, tc.first)
			for i, ts := range tc.ts {
				if got := c.pts(ts); got != tc.want[i] {
					t.Errorf("pts(%#x) = %v, want %v", ts, got, tc.want[i])
				}
			}
		})
	}
}

// recorder is a Session that keeps what it is given.
type recorder struct {
	inits []string // "mime WxH"
	frags []cmaf.Fragment
	ended bool
}

func (r *recorder) Init(mime string, _ []byte, w, h int) {
	r.inits = append(r.inits, fmt.Sprintf("%s %dx%d", mime, w, h))
}
func (r *recorder) Fragment(f cmaf.Fragment) { r.frags = append(r.frags, f) }
func (r *recorder) End(error)                { r.ended = true }

// TestRemuxer walks a stream through the start at the first IDR, a change
// of resolution and a change of parameter sets without an IDR.
func TestRemuxer(t *testing.T) {
	const frame = time.Second / 30
	rec := &recorder{}
	r := &remuxer{sess: rec, audio: true}
	type step struct {
		at      time.Duration
		au      [][]byte // nil: an Opus packet
		needKey bool
	}
	steps := []step{
		{at: 0, au: [][]byte{slice}, needKey: true},   // no IDR yet
		{at: frame, au: [][]byte{idr}, needKey: true}, // no parameter sets yet
		{at: 2 * frame}, // audio before the muxer: dropped
		{at: 3 * frame, au: [][]byte{sps360, pps, idr}},                  // starts 640x360
		{at: 4 * frame, au: [][]byte{slice}},                             //
		{at: 4*frame + time.Millisecond},                                 // audio
		{at: 5 * frame, au: [][]byte{sps360, pps, slice}},                // same parameter sets
		{at: 6 * frame, au: [][]byte{sps180, pps, idr}},                  // new size: new init
		{at: 7 * frame, au: [][]byte{slice}},                             //
		{at: 8 * frame, au: [][]byte{sps360, pps, slice}, needKey: true}, // changed without an IDR
		{at: 9 * frame, au: [][]byte{slice}, needKey: true},              //
		{at: 10 * frame, au: [][]byte{idr}},                              // the IDR after it: 640x360 again
		{at: 11 * frame, au: [][]byte{slice}},
	}
	for i, s := range steps {
		if s.au == nil {
			if err := r.audioPacket(s.at, opus20); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			continue
		}
		needKey, err := r.video(s.at, s.au)
		if err != nil || needKey != s.needKey {
			t.Fatalf("step %d: needKey %v, err %v; want needKey %v", i, needKey, err, s.needKey)
		}
	}
	if err := r.flush(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`video/mp4; codecs="avc1.42c01e,opus" 640x360`,
		`video/mp4; codecs="avc1.42c00d,opus" 320x180`,
		`video/mp4; codecs="avc1.42c01e,opus" 640x360`,
	}
	if strings.Join(rec.inits, "\n") != strings.Join(want, "\n") {
		t.Errorf("inits:\n%s\nwant:\n%s", strings.Join(rec.inits, "\n"), strings.Join(want, "\n"))
	}
	// Each muxer emits one fragment, starting at its IDR.
	var got []string
	for _, f := range rec.frags {
		got = append(got, fmt.Sprintf("%v seq %d key %v", f.Start, f.Seq, f.Keyframe))
	}
	wantFrags := []string{"100ms seq 1 key true", "200ms seq 1 key true", "333.333333ms seq 1 key true"}
	if strings.Join(got, ", ") != strings.Join(wantFrags, ", ") {
		t.Errorf("fragments %v, want %v", got, wantFrags)
	}
	if r.inits != 3 || r.waiting != 4 || r.fragments != 3 {
		t.Errorf("inits %d, waiting %d, fragments %d", r.inits, r.waiting, r.fragments)
	}
}

func TestRemuxerErrors(t *testing.T) {
	rec := &recorder{}
	r := &remuxer{sess: rec, audio: true}
	if _, err := r.video(0, [][]byte{{0x67, 0x42}, pps, idr}); !errors.Is(err, cmaf.ErrInvalidConfig) {
		t.Errorf("truncated SPS: %v, want ErrInvalidConfig", err)
	}
	r = &remuxer{sess: rec, audio: true}
	if _, err := r.video(time.Second, [][]byte{sps360, pps, idr}); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Duration{time.Second, 0} {
		if _, err := r.video(at, [][]byte{slice}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.audioPacket(time.Second, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.audioPacket(time.Second, []byte{0x0b}); err != nil { // code 3 without a count
		t.Fatal(err)
	}
	if r.badTimestamps != 2 || r.badFrames != 1 {
		t.Errorf("bad timestamps %d, bad frames %d; want 2, 1", r.badTimestamps, r.badFrames)
	}
}

// sdpOffer builds an offer from media sections.
func sdpOffer(media ...string) string {
	return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" + strings.Join(media, "")
}

func mediaSection(kind, dir, pts string, attrs ...string) string {
	s := "m=" + kind + " 9 UDP/TLS/RTP/SAVPF " + pts + "\r\nc=IN IP4 0.0.0.0\r\na=" + dir + "\r\n"
	for _, a := range attrs {
		s += "a=" + a + "\r\n"
	}
	return s
}

func TestParseOffer(t *testing.T) {
	h264 := func(pt, fmtp string) []string {
		return []string{"rtpmap:" + pt + " H264/90000", "fmtp:" + pt + " " + fmtp}
	}
	pm1 := "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
	high := "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f"
	pm0 := "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f"
	opus := mediaSection("audio", "sendonly", "111", "rtpmap:111 opus/48000/2", "fmtp:111 minptime=10;useinbandfec=1")
	cases := []struct {
		name       string
		offer      string
		h264, opus int
		err        error
		msg        string // in the error
	}{
		{name: "garbage", offer: "hello", err: ErrBadOffer},
		{name: "no media", offer: sdpOffer(), err: ErrBadOffer},
		{name: "H.264 and Opus", offer: sdpOffer(mediaSection("video", "sendonly", "96", h264("96", pm1)...), opus), h264: 1, opus: 1},
		{name: "profiles", offer: sdpOffer(mediaSection("video", "sendrecv", "96 97 98 100",
			append(append(h264("96", pm0), h264("97", pm1)...), append(h264("98", high),
				"rtpmap:100 rtx/90000", "fmtp:100 apt=97")...)...)), h264: 2},
		{name: "no direction", offer: sdpOffer(mediaSection("video", "mid:0", "96", h264("96", pm1)...)), h264: 1},
		{name: "VP8", offer: sdpOffer(mediaSection("video", "sendonly", "96", "rtpmap:96 VP8/90000"), opus),
			err: ErrNoH264, msg: "offered: VP8"},
		{name: "mode 0", offer: sdpOffer(mediaSection("video", "sendonly", "96", h264("96", pm0)...)),
			err: ErrNoH264, msg: "packetization-mode=0"},
		{name: "no profile", offer: sdpOffer(mediaSection("video", "sendonly", "96", h264("96", "packetization-mode=1")...)),
			err: ErrNoH264},
		{name: "receive only", offer: sdpOffer(mediaSection("video", "recvonly", "96", h264("96", pm1)...)),
			err: ErrNoH264, msg: "no video is offered for sending"},
		{name: "audio only", offer: sdpOffer(opus), err: ErrNoH264},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseOffer([]byte(tc.offer))
			if tc.err != nil {
				if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err %v, want %v containing %q", err, tc.err, tc.msg)
				}
				return
			}
			if err != nil || len(o.h264) != tc.h264 || len(o.opus) != tc.opus {
				t.Fatalf("%d H.264, %d Opus, err %v; want %d, %d", len(o.h264), len(o.opus), err, tc.h264, tc.opus)
			}
		})
	}
}
