package cmaf_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/shoal-live/shoal/signal/cmaf"
)

// needTools fails the test when ffmpeg or ffprobe is missing: these tests
// are the proof that browsers can decode the output, so they never skip.
func needTools(tb testing.TB) {
	tb.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Fatalf("%s not found (%v): run go tool task deps", tool, err)
		}
	}
}

// encodeSource makes an MP4 of the given length with ffmpeg's test pattern
// and a 440 Hz tone, H.264 without B-frames and AAC, the shape of a live
// encoder's output. extra replaces the default rate control arguments.
func encodeSource(tb testing.TB, dir, size string, seconds int, extra ...string) string {
	tb.Helper()
	needTools(tb)
	encodeMu.Lock()
	defer encodeMu.Unlock()
	out := filepath.Join(dir, fmt.Sprintf("src-%s-%ds-%s.mp4", size, seconds, strings.Join(extra, "")))
	if _, err := os.Stat(out); err == nil {
		return out
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=" + size + ":rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440",
		"-c:v", "libx264", "-g", "30", "-bf", "0", "-tune", "zerolatency", "-pix_fmt", "yuv420p"}
	args = append(args, extra...)
	args = append(args, "-c:a", "aac", "-t", strconv.Itoa(seconds), out)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput(); err != nil {
		tb.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

// encodeMu serializes encodeSource so parallel tests share one file.
var encodeMu sync.Mutex

// unit is one access unit or audio frame read back from the source MP4.
type unit struct {
	video    bool
	pts, dts time.Duration
	nalus    [][]byte // video
	frame    []byte   // audio
	key      bool
}

// source is a demuxed MP4: codec configuration and units in decode order,
// video and audio interleaved by decode time as an RTMP publisher sends them.
type source struct {
	sps, pps    [][]byte
	asc         []byte
	units       []unit
	videoFrames int
	audioFrames int
	payload     int // bytes of sample data
}

func demux(tb testing.TB, path string) *source {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := mp4.DecodeFile(bytes.NewReader(raw))
	if err != nil {
		tb.Fatalf("decode %s: %v", path, err)
	}
	src := &source{}
	var video, audio []unit
	for _, trak := range f.Moov.Traks {
		stsd := trak.Mdia.Minf.Stbl.Stsd
		ts := trak.Mdia.Mdhd.Timescale
		isVideo := stsd.AvcX != nil
		switch {
		case isVideo:
			src.sps = stsd.AvcX.AvcC.SPSnalus
			src.pps = stsd.AvcX.AvcC.PPSnalus
		case stsd.Mp4a != nil:
			src.asc = stsd.Mp4a.Esds.DecConfigDescriptor.DecSpecificInfo.DecConfig
		default:
			tb.Fatalf("unexpected track in %s", path)
		}
		n := trak.GetNrSamples()
		samples, err := trak.GetSampleData(1, n)
		if err != nil {
			tb.Fatal(err)
		}
		var t uint64
		for i, s := range samples {
			ranges, err := trak.GetRangesForSampleInterval(uint32(i+1), uint32(i+1))
			if err != nil || len(ranges) != 1 {
				tb.Fatalf("sample %d ranges %v: %v", i+1, ranges, err)
			}
			data := raw[ranges[0].Offset : ranges[0].Offset+ranges[0].Size]
			dts := ticks(int64(t), ts)
			u := unit{video: isVideo, dts: dts, pts: ticks(int64(t)+int64(s.CompositionTimeOffset), ts)}
			if isVideo {
				u.nalus = splitAVCC(tb, data)
				u.key = s.IsSync()
				video = append(video, u)
			} else {
				u.frame = data
				audio = append(audio, u)
			}
			src.payload += len(data)
			t += uint64(s.Dur)
		}
	}
	src.videoFrames, src.audioFrames = len(video), len(audio)
	for len(video) > 0 || len(audio) > 0 {
		if len(audio) == 0 || (len(video) > 0 && video[0].dts <= audio[0].dts) {
			src.units, video = append(src.units, video[0]), video[1:]
		} else {
			src.units, audio = append(src.units, audio[0]), audio[1:]
		}
	}
	return src
}

func ticks(v int64, ts uint32) time.Duration {
	return time.Duration(v) * time.Second / time.Duration(ts)
}

func splitAVCC(tb testing.TB, b []byte) [][]byte {
	tb.Helper()
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			tb.Fatalf("truncated AVCC length")
		}
		n := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if n > len(b)-4 {
			tb.Fatalf("AVCC NAL unit of %d bytes in %d", n, len(b)-4)
		}
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out
}

// config returns a muxer Config for src collecting fragments into *frags.
func (src *source) config(frags *[]cmaf.Fragment) cmaf.Config {
	return cmaf.Config{
		Video:      &cmaf.H264{SPS: src.sps, PPS: src.pps},
		Audio:      &cmaf.AAC{Config: src.asc},
		OnFragment: func(f cmaf.Fragment) { *frags = append(*frags, f) },
	}
}

// feed writes every unit to m and flushes.
func (src *source) feed(tb testing.TB, m *cmaf.Muxer) {
	tb.Helper()
	for _, u := range src.units {
		var err error
		if u.video {
			err = m.WriteVideo(u.pts, u.dts, u.nalus)
		} else {
			err = m.WriteAudio(u.pts, u.frame)
		}
		if err != nil {
			tb.Fatalf("write at %v: %v", u.dts, err)
		}
	}
	if err := m.Flush(); err != nil {
		tb.Fatal(err)
	}
}

// probe writes init and fragments to a file and returns the number of
// frames ffprobe decodes per stream type, failing on any decoder error.
func probe(tb testing.TB, dir, name string, init []byte, frags []cmaf.Fragment) map[string]int {
	tb.Helper()
	needTools(tb)
	buf := bytes.NewBuffer(bytes.Clone(init))
	for _, f := range frags {
		buf.Write(f.Data)
	}
	path := filepath.Join(dir, name+".mp4")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-count_frames",
		"-show_entries", "stream=codec_type,nb_read_frames", "-of", "csv=p=0", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		tb.Fatalf("ffprobe %s: %v\n%s", path, err, stderr.String())
	}
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		kind, n, ok := strings.Cut(line, ",")
		if !ok {
			tb.Fatalf("ffprobe line %q", line)
		}
		if counts[kind], err = strconv.Atoi(n); err != nil {
			tb.Fatalf("ffprobe line %q: %v", line, err)
		}
	}
	return counts
}

// parsed is what a fragment's boxes say.
type parsed struct {
	seq    uint32
	tracks map[uint32]traf // by track ID
}

// traf is what one track fragment says.
type traf struct {
	start, dur    uint64 // tfdt and the sum of sample durations
	samples       int
	firstSync     bool
	syncElsewhere bool // a sync sample after the first
}

func parseFragment(tb testing.TB, data []byte) parsed {
	tb.Helper()
	f, err := mp4.DecodeFile(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("decode fragment: %v", err)
	}
	if len(f.Segments) != 1 || len(f.Segments[0].Fragments) != 1 {
		tb.Fatalf("want one moof+mdat, got %d segments", len(f.Segments))
	}
	moof := f.Segments[0].Fragments[0].Moof
	p := parsed{seq: moof.Mfhd.SequenceNumber, tracks: map[uint32]traf{}}
	for _, tf := range moof.Trafs {
		tr := traf{start: tf.Tfdt.BaseMediaDecodeTime()}
		for _, trun := range tf.Truns {
			for _, s := range trun.Samples {
				tr.dur += uint64(s.Dur)
				sync := mp4.IsSyncSampleFlags(s.Flags)
				if tr.samples == 0 {
					tr.firstSync = sync
				} else if sync {
					tr.syncElsewhere = true
				}
				tr.samples++
			}
		}
		p.tracks[tf.Tfhd.TrackID] = tr
	}
	return p
}
