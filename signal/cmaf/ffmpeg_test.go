package cmaf_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/cmaf"
)

// TestFFmpegRoundTrip repackages an ffmpeg-made 4 s clip (640x360 at 30 fps,
// an IDR every 30 frames, AAC) and checks with ffprobe that init plus all
// fragments decodes completely, and that init plus the fragments from any
// keyframe fragment on decodes too.
func TestFFmpegRoundTrip(t *testing.T) {
	sources := map[bool]*source{
		false: demux(t, encodeSource(t, mediaDir, "640x360", 4)),
		true:  demux(t, encodeSource(t, mediaDir, "640x360", 4, "-bf", "2")),
	}
	for _, src := range sources {
		if src.videoFrames != 120 {
			t.Fatalf("source has %d video frames, want 120", src.videoFrames)
		}
	}
	const frame = time.Second / 30
	cases := []struct {
		name     string
		fragDur  time.Duration
		maxBytes int
		// wantDur is the duration of every fragment, 0 to skip that check.
		wantDur time.Duration
		bframes bool // encode with B-frames (as OBS does by default)
	}{
		{name: "default", wantDur: cmaf.DefaultFragmentDuration},
		{name: "100ms", fragDur: 100 * time.Millisecond, wantDur: 100 * time.Millisecond},
		{name: "250ms", fragDur: 250 * time.Millisecond},
		{name: "whole GOP", fragDur: 10 * time.Second, wantDur: time.Second},
		{name: "8KiB cap", maxBytes: 8 << 10},
		{name: "B-frames", bframes: true, wantDur: cmaf.DefaultFragmentDuration},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := sources[tc.bframes]
			var frags []cmaf.Fragment
			cfg := src.config(&frags)
			cfg.FragmentDuration, cfg.MaxFragmentBytes = tc.fragDur, tc.maxBytes
			m, err := cmaf.NewMuxer(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if want := `video/mp4; codecs="avc1.64001e,mp4a.40.2"`; m.MIME() != want {
				t.Errorf("MIME = %q, want %q", m.MIME(), want)
			}
			src.feed(t, m)
			init := m.Init()
			fragDur := tc.fragDur
			if fragDur == 0 {
				fragDur = cmaf.DefaultFragmentDuration
			}

			var video, audio, keyframes int
			var keyIdx []int
			var nextVideo, nextAudio uint64
			for i, f := range frags {
				p := parseFragment(t, f.Data)
				pv, pa := p.tracks[1], p.tracks[2]
				if f.Seq != uint32(i+1) || p.seq != f.Seq {
					t.Fatalf("fragment %d: Seq %d, mfhd %d", i, f.Seq, p.seq)
				}
				if f.Keyframe != pv.firstSync || pv.syncElsewhere || pv.samples == 0 && f.Keyframe {
					t.Errorf("fragment %d: Keyframe %v, first sample sync %v, later sync %v",
						f.Seq, f.Keyframe, pv.firstSync, pv.syncElsewhere)
				}
				if f.Keyframe {
					keyframes++
					keyIdx = append(keyIdx, i)
				}
				if pv.samples > 0 && (f.Start != ticks(int64(pv.start), 90000) || f.Duration != ticks(int64(pv.dur), 90000)) {
					t.Errorf("fragment %d: Start %v Duration %v, boxes say %d+%d",
						f.Seq, f.Start, f.Duration, pv.start, pv.dur)
				}
				if pv.samples > 0 && pv.start != nextVideo || pa.samples > 0 && pa.start != nextAudio {
					t.Errorf("fragment %d: video at %d (want %d), audio at %d (want %d)",
						f.Seq, pv.start, nextVideo, pa.start, nextAudio)
				}
				if pv.samples > 0 {
					nextVideo = pv.start + pv.dur
				}
				if pa.samples > 0 {
					nextAudio = pa.start + pa.dur
				}
				if pv.samples > 1 && f.Duration-frame >= fragDur {
					t.Errorf("fragment %d lasts %v, over %v by a frame or more", f.Seq, f.Duration, fragDur)
				}
				if tc.wantDur != 0 && f.Duration != tc.wantDur {
					t.Errorf("fragment %d lasts %v, want %v", f.Seq, f.Duration, tc.wantDur)
				}
				if tc.maxBytes != 0 && len(f.Data) > tc.maxBytes && pv.samples+pa.samples > 1 {
					t.Errorf("fragment %d has %d bytes in %d+%d samples, over %d",
						f.Seq, len(f.Data), pv.samples, pa.samples, tc.maxBytes)
				}
				video += pv.samples
				audio += pa.samples
			}
			if video != src.videoFrames || audio != src.audioFrames {
				t.Fatalf("muxed %d video and %d audio samples, source has %d and %d",
					video, audio, src.videoFrames, src.audioFrames)
			}
			if keyframes != 4 || keyIdx[0] != 0 {
				t.Fatalf("keyframe fragments at %v, want 4 starting with the first", keyIdx)
			}

			dir := t.TempDir()
			got := probe(t, dir, "all", init, frags)
			if got["video"] != src.videoFrames || got["audio"] != src.audioFrames {
				t.Errorf("ffprobe decoded %v, want video=%d audio=%d", got, src.videoFrames, src.audioFrames)
			}
			for _, k := range keyIdx[1:] {
				var v, a int
				for _, f := range frags[k:] {
					p := parseFragment(t, f.Data)
					v += p.tracks[1].samples
					a += p.tracks[2].samples
				}
				got := probe(t, dir, fmt.Sprintf("from-%d", k), init, frags[k:])
				if got["video"] != v || got["audio"] != a {
					t.Errorf("joining at fragment %d: ffprobe decoded %v, want video=%d audio=%d",
						frags[k].Seq, got, v, a)
				}
			}
		})
	}
}

// TestFragmentSizes encodes 720p30 at 1, 2 and 3 Mbit/s and reports fragment
// sizes with the default duration, checking that the whole stream decodes.
// Run with -v to see the numbers.
func TestFragmentSizes(t *testing.T) {
	for _, rate := range []string{"1M", "2M", "3M"} {
		t.Run(rate, func(t *testing.T) {
			path := encodeSource(t, mediaDir, "1280x720", 4,
				"-b:v", rate, "-maxrate", rate, "-bufsize", rate)
			src := demux(t, path)
			var frags []cmaf.Fragment
			m, err := cmaf.NewMuxer(src.config(&frags))
			if err != nil {
				t.Fatal(err)
			}
			src.feed(t, m)
			var total, maxAll, maxKey, maxDelta int
			for _, f := range frags {
				n := len(f.Data)
				total += n
				maxAll = max(maxAll, n)
				if f.Keyframe {
					maxKey = max(maxKey, n)
				} else {
					maxDelta = max(maxDelta, n)
				}
			}
			mbps := float64(src.payload*8) / 4 / 1e6
			t.Logf("%s: %.2f Mbit/s muxed, %d fragments, mean %d B, largest keyframe fragment %d B, largest other %d B",
				rate, mbps, len(frags), total/len(frags), maxKey, maxDelta)
			got := probe(t, t.TempDir(), "all", m.Init(), frags)
			if got["video"] != src.videoFrames || got["audio"] != src.audioFrames {
				t.Errorf("ffprobe decoded %v, want video=%d audio=%d", got, src.videoFrames, src.audioFrames)
			}
		})
	}
}

// BenchmarkMuxer measures repackaging throughput over the 640x360 clip, in
// bytes of sample data per second.
func BenchmarkMuxer(b *testing.B) {
	src := demux(b, encodeSource(b, mediaDir, "640x360", 4))
	var frags []cmaf.Fragment
	cfg := src.config(&frags)
	cfg.OnFragment = func(cmaf.Fragment) {}
	b.SetBytes(int64(src.payload))
	b.ReportAllocs()
	for b.Loop() {
		m, err := cmaf.NewMuxer(cfg)
		if err != nil {
			b.Fatal(err)
		}
		src.feed(b, m)
	}
}
