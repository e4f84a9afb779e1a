package cmaf_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"github.com/shoal-live/shoal/signal/cmaf"
)

// An Opus packet's TOC byte says how much audio it holds.
func ExampleOpusPacketDuration() {
	d, err := cmaf.OpusPacketDuration([]byte{0xfc, 0xff, 0xfe}) // CELT fullband stereo, one frame
	fmt.Println(d, err)
	// Output: 20ms <nil>
}

// TestOpusPacketDuration checks the TOC byte table of RFC 6716, section 3.1.
func TestOpusPacketDuration(t *testing.T) {
	const ms = time.Millisecond
	cases := []struct {
		name   string
		packet []byte
		want   time.Duration // 0: an error
	}{
		{"SILK 10 ms", []byte{0 << 3}, 10 * ms},
		{"SILK 20 ms", []byte{1 << 3}, 20 * ms},
		{"SILK 40 ms", []byte{2 << 3}, 40 * ms},
		{"SILK 60 ms", []byte{11 << 3}, 60 * ms},
		{"Hybrid 10 ms", []byte{12 << 3}, 10 * ms},
		{"Hybrid 20 ms", []byte{15 << 3}, 20 * ms},
		{"CELT 2.5 ms", []byte{16 << 3}, 2500 * time.Microsecond},
		{"CELT 5 ms", []byte{17 << 3}, 5 * ms},
		{"CELT 20 ms stereo", []byte{31<<3 | 1<<2}, 20 * ms},
		{"two equal frames", []byte{1<<3 | 1}, 40 * ms},
		{"two frames", []byte{1<<3 | 2, 0}, 40 * ms},
		{"code 3, 3 frames", []byte{1<<3 | 3, 3}, 60 * ms},
		{"code 3, 6 x 20 ms", []byte{1<<3 | 3, 6}, 120 * ms},
		{"code 3, 48 x 2.5 ms", []byte{16<<3 | 3, 48}, 120 * ms},
		{"code 3, over 120 ms", []byte{1<<3 | 3, 7}, 0},
		{"code 3, no count", []byte{1<<3 | 3}, 0},
		{"code 3, 0 frames", []byte{1<<3 | 3, 0x80}, 0},
		{"empty", nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cmaf.OpusPacketDuration(tc.packet)
			if tc.want == 0 {
				if !errors.Is(err, cmaf.ErrInvalidFrame) {
					t.Fatalf("got %v, %v; want ErrInvalidFrame", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestOpusInit checks the Opus sample entry and dOps box of the init
// segment, and the configurations and packets the Muxer refuses.
func TestOpusInit(t *testing.T) {
	m, err := cmaf.NewMuxer(cmaf.Config{
		Video:      &cmaf.H264{SPS: [][]byte{testSPS}, PPS: [][]byte{testPPS}},
		Opus:       &cmaf.Opus{PreSkip: 312},
		OnFragment: func(cmaf.Fragment) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := `video/mp4; codecs="avc1.640020,opus"`; m.MIME() != want {
		t.Errorf("MIME = %q, want %q", m.MIME(), want)
	}
	f, err := mp4.DecodeFile(bytes.NewReader(m.Init()))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Moov.Traks) != 2 {
		t.Fatalf("%d tracks", len(f.Moov.Traks))
	}
	trak := f.Moov.Traks[1]
	if ts := trak.Mdia.Mdhd.Timescale; ts != 48000 {
		t.Errorf("audio timescale %d", ts)
	}
	entry, ok := trak.Mdia.Minf.Stbl.Stsd.Children[0].(*mp4.AudioSampleEntryBox)
	if !ok || entry.Type() != "Opus" || entry.Dops == nil {
		t.Fatalf("audio sample entry %T %v", trak.Mdia.Minf.Stbl.Stsd.Children[0], ok)
	}
	if entry.ChannelCount != 2 || entry.SampleRate != 48000 {
		t.Errorf("sample entry: %d channels at %d Hz", entry.ChannelCount, entry.SampleRate)
	}
	d := entry.Dops
	if d.Version != 0 || d.OutputChannelCount != 2 || d.PreSkip != 312 || d.InputSampleRate != 48000 ||
		d.OutputGain != 0 || d.ChannelMappingFamily != 0 {
		t.Errorf("dOps %+v", *d)
	}
	if err := m.WriteAudio(0, []byte{1<<3 | 3}); err != nil {
		t.Errorf("audio before the first IDR: %v, want it dropped silently", err)
	}

	audioOnly, err := cmaf.NewMuxer(cmaf.Config{Opus: &cmaf.Opus{Channels: 1}, OnFragment: func(cmaf.Fragment) {}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `audio/mp4; codecs="opus"`; audioOnly.MIME() != want {
		t.Errorf("MIME = %q, want %q", audioOnly.MIME(), want)
	}
	if err := audioOnly.WriteAudio(0, []byte{1<<3 | 3}); !errors.Is(err, cmaf.ErrInvalidFrame) {
		t.Errorf("malformed packet: %v, want ErrInvalidFrame", err)
	}
	if err := audioOnly.WriteAudio(0, []byte{1 << 3, 0xff}); err != nil {
		t.Errorf("the packet after a malformed one: %v", err)
	}

	for _, tc := range []struct {
		name string
		cfg  cmaf.Config
		want error
	}{
		{"AAC and Opus", cmaf.Config{Audio: &cmaf.AAC{Config: []byte{0x12, 0x10}}, Opus: &cmaf.Opus{}}, cmaf.ErrInvalidConfig},
		{"6 channels", cmaf.Config{Opus: &cmaf.Opus{Channels: 6}}, cmaf.ErrUnsupportedCodec},
	} {
		tc.cfg.OnFragment = func(cmaf.Fragment) {}
		if _, err := cmaf.NewMuxer(tc.cfg); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestOpusFFmpeg muxes libopus packets read from an Ogg file, alone and
// with H.264 video, and checks with ffprobe that every packet decodes and
// that the audio timeline matches the packets' timestamps and has no hole,
// across a gap such as discontinuous transmission or a lost packet leaves.
func TestOpusFFmpeg(t *testing.T) {
	head, packets := encodeOpus(t, mediaDir, 4)
	if head.Channels != 1 || head.PreSkip == 0 {
		t.Fatalf("OpusHead: %d channels, pre-skip %d", head.Channels, head.PreSkip)
	}
	video := demux(t, encodeSource(t, mediaDir, "640x360", 4))
	const frame = 20 * time.Millisecond
	cases := []struct {
		name  string
		video bool
		gap   [2]int // drop packets gap[0] to gap[1]-1
	}{
		{name: "audio only"},
		{name: "with video", video: true},
		{name: "gap", video: true, gap: [2]int{50, 60}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var frags []cmaf.Fragment
			cfg := cmaf.Config{
				Opus:       &cmaf.Opus{Channels: int(head.Channels), PreSkip: head.PreSkip},
				OnFragment: func(f cmaf.Fragment) { frags = append(frags, f) },
			}
			if tc.video {
				cfg.Video = &cmaf.H264{SPS: video.sps, PPS: video.pps}
			}
			m, err := cmaf.NewMuxer(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var units []unit
			if tc.video {
				for _, u := range video.units {
					if u.video {
						units = append(units, u)
					}
				}
			}
			sent, last := 0, time.Duration(0)
			vi := 0
			for i, p := range packets {
				pts := time.Duration(i) * frame
				for vi < len(units) && units[vi].dts <= pts {
					u := units[vi]
					if err := m.WriteVideo(u.pts, u.dts, u.nalus); err != nil {
						t.Fatal(err)
					}
					vi++
				}
				if i >= tc.gap[0] && i < tc.gap[1] {
					continue
				}
				if err := m.WriteAudio(pts, p); err != nil {
					t.Fatal(err)
				}
				sent, last = sent+1, pts
			}
			for _, u := range units[vi:] {
				if err := m.WriteVideo(u.pts, u.dts, u.nalus); err != nil {
					t.Fatal(err)
				}
			}
			if err := m.Flush(); err != nil {
				t.Fatal(err)
			}

			var audio int
			var next uint64
			for i, f := range frags {
				a := parseFragment(t, f.Data).tracks[uint32(len(m.Tracks()))]
				if a.samples > 0 && a.start != next {
					t.Errorf("fragment %d: audio at %d, want %d", f.Seq, a.start, next)
				}
				if !tc.video && i < len(frags)-1 && f.Duration != cmaf.DefaultFragmentDuration {
					t.Errorf("fragment %d lasts %v", f.Seq, f.Duration)
				}
				if a.samples > 0 {
					audio += a.samples
					next = a.start + a.dur
				}
			}
			if want := uint64((last + frame) * 48000 / time.Second); next != want {
				t.Errorf("audio ends at %d, want %d", next, want)
			}
			// The gap is filled with as many empty packets.
			if want := sent + tc.gap[1] - tc.gap[0]; audio != want {
				t.Errorf("muxed %d packets, want %d", audio, want)
			}
			if want := (time.Duration(sent)*frame + cmaf.DefaultFragmentDuration - 1) / cmaf.DefaultFragmentDuration; !tc.video && len(frags) != int(want) {
				t.Errorf("%d fragments, want %d", len(frags), want)
			}
			got := probe(t, t.TempDir(), "opus", m.Init(), frags)
			if got["audio"] != audio || tc.video && got["video"] != video.videoFrames {
				t.Errorf("ffprobe decoded %v, want audio=%d video=%d", got, audio, video.videoFrames)
			}
		})
	}
}

// encodeOpus makes an Ogg Opus file of a 440 Hz tone with ffmpeg, one
// 20 ms packet per page as WebRTC sends them, and returns its OpusHead and
// packets.
func encodeOpus(tb testing.TB, dir string, seconds int) (*oggreader.OggHeader, [][]byte) {
	tb.Helper()
	needTools(tb)
	encodeMu.Lock()
	defer encodeMu.Unlock()
	path := filepath.Join(dir, "tone-"+strconv.Itoa(seconds)+"s.ogg")
	if _, err := os.Stat(path); err != nil {
		args := []string{"-hide_banner", "-loglevel", "error", "-y",
			"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
			"-t", strconv.Itoa(seconds), "-c:a", "libopus", "-b:a", "64k",
			"-frame_duration", "20", "-page_duration", "20000", path}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if b, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput(); err != nil {
			tb.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r, head, err := oggreader.NewWith(f)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	var packets [][]byte
	var granule uint64
	for {
		payload, page, err := r.ParseNextPage()
		if err != nil {
			break
		}
		if bytes.HasPrefix(payload, []byte("OpusTags")) {
			continue
		}
		d, err := cmaf.OpusPacketDuration(payload)
		if err != nil {
			tb.Fatalf("packet %d: %v", len(packets), err)
		}
		granule += uint64(d * 48000 / time.Second)
		if page.GranulePosition > granule {
			tb.Fatalf("page %d holds more than one packet", len(packets))
		}
		packets = append(packets, payload)
	}
	if len(packets) < seconds*50 {
		tb.Fatalf("%d packets in %d s", len(packets), seconds)
	}
	return head, packets
}
