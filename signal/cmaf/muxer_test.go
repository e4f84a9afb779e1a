package cmaf_test

import (
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/cmaf"
)

// A 1280x720 High profile SPS and its PPS, and an AAC-LC 44.1 kHz stereo
// AudioSpecificConfig.
var (
	testSPS = mustHex("67640020accac05005bb0169e0000003002000000c9c4c000432380008647c12401cb1c31380")
	testPPS = mustHex("68b5df20")
	testASC = []byte{0x12, 0x10}
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// Synthetic access units: an IDR slice and a non-IDR slice of 100 bytes.
func idr() []byte    { return append([]byte{0x65}, make([]byte, 99)...) }
func pslice() []byte { return append([]byte{0x41}, make([]byte, 99)...) }

// op is one write in a synthetic stream.
type op struct {
	audio bool
	at    time.Duration // dts (video) or pts (audio)
	au    [][]byte      // video
	key   bool          // video: an IDR slice instead of au
}

// frames makes n video ops every step from start, an IDR every gop frames.
func frames(start, step time.Duration, n, gop int) []op {
	ops := make([]op, n)
	for i := range ops {
		ops[i] = op{at: start + time.Duration(i)*step, key: i%gop == 0}
	}
	return ops
}

// run writes ops and flushes, returning the fragments and the first error.
func run(t *testing.T, cfg cmaf.Config, ops []op) ([]cmaf.Fragment, error) {
	t.Helper()
	var frags []cmaf.Fragment
	cfg.OnFragment = func(f cmaf.Fragment) { frags = append(frags, f) }
	m, err := cmaf.NewMuxer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range ops {
		switch {
		case o.audio:
			err = m.WriteAudio(o.at, make([]byte, 200))
		case o.au != nil:
			err = m.WriteVideo(o.at, o.at, o.au)
		case o.key:
			err = m.WriteVideo(o.at, o.at, [][]byte{idr()})
		default:
			err = m.WriteVideo(o.at, o.at, [][]byte{pslice()})
		}
		if err != nil {
			return frags, err
		}
	}
	return frags, m.Flush()
}

// TestCutting checks where fragments are cut, on synthetic streams.
func TestCutting(t *testing.T) {
	const ms = time.Millisecond
	video := &cmaf.H264{SPS: [][]byte{testSPS}, PPS: [][]byte{testPPS}}
	audio := &cmaf.AAC{Config: testASC}
	aacFrame := time.Second * 1024 / 44100
	type frag struct {
		start, dur time.Duration
		key        bool
	}
	cases := []struct {
		name    string
		cfg     cmaf.Config
		ops     []op
		want    []frag
		samples []int // per fragment, summed over tracks; nil to skip
	}{{
		name: "drops until the first IDR",
		cfg:  cmaf.Config{Video: video},
		ops:  append([]op{{at: 0}, {at: 40 * ms}}, frames(80*ms, 40*ms, 3, 100)...),
		want: []frag{{80 * ms, 120 * ms, true}},
	}, {
		name: "every IDR starts a fragment",
		cfg:  cmaf.Config{Video: video},
		ops:  frames(0, 40*ms, 6, 2),
		want: []frag{{0, 80 * ms, true}, {80 * ms, 80 * ms, true}, {160 * ms, 80 * ms, true}},
	}, {
		name: "cut at FragmentDuration",
		cfg:  cmaf.Config{Video: video, FragmentDuration: 100 * ms},
		ops:  frames(0, 40*ms, 7, 25),
		want: []frag{{0, 120 * ms, true}, {120 * ms, 120 * ms, false}, {240 * ms, 40 * ms, false}},
	}, {
		name: "default duration at 30 fps",
		cfg:  cmaf.Config{Video: video},
		ops:  frames(0, time.Second/30, 12, 30),
		want: []frag{{0, 200 * ms, true}, {200 * ms, 200 * ms, false}},
	}, {
		name:    "size cap",
		cfg:     cmaf.Config{Video: video, MaxFragmentBytes: 500},
		ops:     frames(0, 40*ms, 5, 25),
		want:    []frag{{0, 120 * ms, true}, {120 * ms, 80 * ms, false}},
		samples: []int{3, 2},
	}, {
		name: "in-band parameter sets and delimiters are dropped",
		cfg:  cmaf.Config{Video: video},
		ops: []op{
			{au: [][]byte{{0x09, 0xf0}, testSPS, testPPS, idr()}},
			{at: 40 * ms, au: [][]byte{testSPS, testPPS}}, // a bare RTMP sequence header
			{at: 80 * ms, au: [][]byte{{0x09, 0xf0}, pslice()}},
		},
		want:    []frag{{0, 160 * ms, true}},
		samples: []int{2},
	}, {
		name: "audio before the first IDR is dropped, audio after the cut waits",
		cfg:  cmaf.Config{Video: video, Audio: audio},
		ops: []op{
			{audio: true, at: 0}, {at: 0, key: true}, {audio: true, at: 30 * ms},
			{at: 40 * ms}, {audio: true, at: 50 * ms}, {audio: true, at: 90 * ms},
			{at: 80 * ms, key: true}, {at: 120 * ms},
		},
		want:    []frag{{0, 80 * ms, true}, {80 * ms, 80 * ms, true}},
		samples: []int{2 + 2, 2 + 1},
	}, {
		name:    "audio only: cut by duration, all keyframes",
		cfg:     cmaf.Config{Audio: audio},
		ops:     audioOps(0, 20),
		want:    []frag{{0, 9 * aacFrame, true}, {9 * aacFrame, 9 * aacFrame, true}, {18 * aacFrame, 2 * aacFrame, true}},
		samples: []int{9, 9, 2},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			frags, err := run(t, tc.cfg, tc.ops)
			if err != nil {
				t.Fatal(err)
			}
			if len(frags) != len(tc.want) {
				t.Fatalf("got %d fragments, want %d", len(frags), len(tc.want))
			}
			for i, f := range frags {
				w := tc.want[i]
				if d := f.Start - w.start; d < -ms || d > ms || f.Keyframe != w.key {
					t.Errorf("fragment %d: start %v key %v, want %v %v", i, f.Start, f.Keyframe, w.start, w.key)
				}
				if d := f.Duration - w.dur; d < -ms || d > ms {
					t.Errorf("fragment %d: duration %v, want %v", i, f.Duration, w.dur)
				}
				if f.Seq != uint32(i+1) {
					t.Errorf("fragment %d: Seq %d", i, f.Seq)
				}
				if limit := tc.cfg.MaxFragmentBytes; limit > 0 && len(f.Data) > limit {
					t.Errorf("fragment %d: %d bytes, over %d", i, len(f.Data), limit)
				}
				if tc.samples != nil {
					n := 0
					for _, tr := range parseFragment(t, f.Data).tracks {
						n += tr.samples
					}
					if n != tc.samples[i] {
						t.Errorf("fragment %d: %d samples, want %d", i, n, tc.samples[i])
					}
				}
			}
		})
	}
}

// audioOps makes n AAC frames from start with millisecond-rounded
// timestamps, as RTMP carries them.
func audioOps(start time.Duration, n int) []op {
	ops := make([]op, n)
	for i := range ops {
		t := start + time.Duration(i)*time.Second*1024/44100
		ops[i] = op{audio: true, at: t.Round(time.Millisecond)}
	}
	return ops
}

// TestAudioTimeline checks that millisecond-rounded AAC timestamps become
// back-to-back frames, and that across a real gap the last frame before it
// lasts until the next, so the timeline has no hole.
func TestAudioTimeline(t *testing.T) {
	ops := append(audioOps(0, 30), audioOps(2*time.Second, 30)...)
	frags, err := run(t, cmaf.Config{Audio: &cmaf.AAC{Config: testASC}}, ops)
	if err != nil {
		t.Fatal(err)
	}
	var next uint64
	atGap, stretched := false, 0
	for _, f := range frags {
		tr := parseFragment(t, f.Data).tracks[1]
		if tr.start != next {
			t.Errorf("fragment %d starts at %d, want %d", f.Seq, tr.start, next)
		}
		atGap = atGap || tr.start == 2*44100
		if tr.dur%1024 != 0 {
			stretched++
		}
		next = tr.start + tr.dur
	}
	if !atGap || stretched != 1 {
		t.Errorf("fragment at 2 s: %v; fragments not made of whole frames: %d, want 1", atGap, stretched)
	}
}

func TestErrors(t *testing.T) {
	video := &cmaf.H264{SPS: [][]byte{testSPS}, PPS: [][]byte{testPPS}}
	otherSPS := append([]byte(nil), testSPS...)
	otherSPS[3]++ // another level
	cases := []struct {
		name string
		cfg  cmaf.Config
		ops  []op
		want error
	}{
		{"new SPS", cmaf.Config{Video: video}, []op{{key: true}, {at: time.Second, au: [][]byte{otherSPS, testPPS, idr()}}}, cmaf.ErrParamsChanged},
		{"new PPS", cmaf.Config{Video: video}, []op{{au: [][]byte{{0x68, 0xee}}}}, cmaf.ErrParamsChanged},
		{"video DTS repeats", cmaf.Config{Video: video}, []op{{key: true}, {}}, cmaf.ErrTimestamp},
		{"negative video DTS", cmaf.Config{Video: video}, []op{{at: -time.Second, key: true}}, cmaf.ErrTimestamp},
		{"audio goes back", cmaf.Config{Audio: &cmaf.AAC{Config: testASC}}, []op{{audio: true, at: time.Second}, {audio: true, at: 0}}, cmaf.ErrTimestamp},
		{"audio to a video-only muxer", cmaf.Config{Video: video}, []op{{audio: true}}, cmaf.ErrNoTrack},
		{"video to an audio-only muxer", cmaf.Config{Audio: &cmaf.AAC{Config: testASC}}, []op{{key: true}}, cmaf.ErrNoTrack},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := run(t, tc.cfg, tc.ops); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNewMuxer(t *testing.T) {
	noop := func(cmaf.Fragment) {}
	video := &cmaf.H264{SPS: [][]byte{testSPS}, PPS: [][]byte{testPPS}}
	cases := []struct {
		name     string
		cfg      cmaf.Config
		want     error
		wantMIME string
	}{
		{"video and audio", cmaf.Config{Video: video, Audio: &cmaf.AAC{Config: testASC}, OnFragment: noop}, nil,
			`video/mp4; codecs="avc1.640020,mp4a.40.2"`},
		{"video only", cmaf.Config{Video: video, OnFragment: noop}, nil, `video/mp4; codecs="avc1.640020"`},
		{"audio only", cmaf.Config{Audio: &cmaf.AAC{Config: testASC}, OnFragment: noop}, nil, `audio/mp4; codecs="mp4a.40.2"`},
		{"HE-AAC", cmaf.Config{Audio: &cmaf.AAC{Config: []byte{0x2b, 0x92, 0x08, 0x00}}, OnFragment: noop}, nil, `audio/mp4; codecs="mp4a.40.5"`},
		{"no track", cmaf.Config{OnFragment: noop}, cmaf.ErrInvalidConfig, ""},
		{"no OnFragment", cmaf.Config{Video: video}, cmaf.ErrInvalidConfig, ""},
		{"no PPS", cmaf.Config{Video: &cmaf.H264{SPS: [][]byte{testSPS}}, OnFragment: noop}, cmaf.ErrInvalidConfig, ""},
		{"PPS as SPS", cmaf.Config{Video: &cmaf.H264{SPS: [][]byte{testPPS}, PPS: [][]byte{testPPS}}, OnFragment: noop}, cmaf.ErrInvalidConfig, ""},
		{"truncated SPS", cmaf.Config{Video: &cmaf.H264{SPS: [][]byte{testSPS[:5]}, PPS: [][]byte{testPPS}}, OnFragment: noop}, cmaf.ErrInvalidConfig, ""},
		{"AAC Main", cmaf.Config{Audio: &cmaf.AAC{Config: []byte{0x0a, 0x10}}, OnFragment: noop}, cmaf.ErrUnsupportedCodec, ""},
		{"AAC with a PCE", cmaf.Config{Audio: &cmaf.AAC{Config: []byte{0x12, 0x00}}, OnFragment: noop}, cmaf.ErrUnsupportedCodec, ""},
		{"short ASC", cmaf.Config{Audio: &cmaf.AAC{Config: []byte{0x12}}, OnFragment: noop}, cmaf.ErrInvalidConfig, ""},
		{"negative duration", cmaf.Config{Video: video, FragmentDuration: -1, OnFragment: noop}, cmaf.ErrInvalidConfig, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := cmaf.NewMuxer(tc.cfg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			if m.MIME() != tc.wantMIME {
				t.Errorf("MIME = %q, want %q", m.MIME(), tc.wantMIME)
			}
			if len(m.Init()) == 0 || len(m.Tracks()) == 0 {
				t.Errorf("empty init segment or tracks")
			}
		})
	}
}
