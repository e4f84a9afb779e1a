package cmaf

import (
	"bytes"
	"fmt"
	"time"

	"github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/mp4"
)

const (
	// DefaultFragmentDuration is the fragment length when Config leaves it
	// zero. 200 ms keeps the wait before the first byte of a fragment can
	// leave the origin short (a fragment is relayed only once complete),
	// costs about 0.1–0.3% in moof overhead at 1–3 Mbit/s, and is a whole
	// number of frames at 25, 30, 50 and 60 fps, so 1 s and 2 s GOPs split
	// into equal fragments with no runt before the next IDR.
	DefaultFragmentDuration = 200 * time.Millisecond
	// DefaultMaxFragmentBytes is the soft size limit when Config leaves it
	// zero. It only bounds memory; set the transport's limit instead.
	DefaultMaxFragmentBytes = 1 << 20
)

// Box sizes used to bound a fragment's encoded size before encoding it: moof
// header and mfhd, per traf its header, tfhd (no optional fields), tfdt
// (version 1 at most) and trun (data offset, no first-sample flags), per
// sample a trun entry (duration, size, flags, composition offset), and the
// mdat header.
const (
	moofOverhead   = 8 + 16
	trafOverhead   = 8 + 16 + 20 + 20
	sampleOverhead = 16
	mdatOverhead   = 8
)

// Config configures a Muxer. At least one of Video, Audio and Opus is set,
// and at most one of Audio and Opus.
type Config struct {
	Video *H264 // nil: no video track
	Audio *AAC  // nil: no AAC audio track
	Opus  *Opus // nil: no Opus audio track

	// FragmentDuration is the media duration after which a fragment is
	// cut at the next video sample (or audio frame, without video). Zero
	// means DefaultFragmentDuration.
	FragmentDuration time.Duration
	// MaxFragmentBytes is a soft limit on an encoded fragment: a fragment
	// is cut before a sample that would take it over, so only a fragment
	// holding a single sample can be larger. Zero means
	// DefaultMaxFragmentBytes.
	MaxFragmentBytes int

	// OnFragment receives each fragment, in order. Required.
	OnFragment func(Fragment)
}

// Fragment is one moof+mdat.
type Fragment struct {
	// Seq is the moof sequence number: 1 for the first fragment of a
	// Muxer, then increasing by one.
	Seq uint32
	// Start is the decode time of the fragment's first video sample
	// (first audio frame without video) on the source's timeline.
	Start time.Duration
	// Duration spans from Start to the decode time of the next fragment's
	// first sample of the same track.
	Duration time.Duration
	// Keyframe reports that the fragment starts with an IDR, so a viewer
	// can start with the init segment and this fragment. Always true
	// without a video track.
	Keyframe bool
	// Data is the encoded moof+mdat. The receiver owns it.
	Data []byte
}

// Muxer repackages one stream. Create it with NewMuxer.
type Muxer struct {
	onFragment func(Fragment)
	fragDur    time.Duration
	maxBytes   int
	sps, pps   [][]byte

	tracks []Track
	init   []byte
	mime   string

	video   *trackBuf // nil without a video track
	audio   *trackBuf // nil without an audio track
	started bool      // an IDR was written (or there is no video track)
	seq     uint32
}

// trackBuf holds one track's samples that are not yet in a fragment.
type trackBuf struct {
	Track
	samples []sample
	data    []byte // the samples' payloads, back to back
	last    int64  // decode time of the last accepted sample
	has     bool   // a sample was accepted
	dur     int64  // video: the last emitted sample's duration; audio: the last frame's length
}

type sample struct {
	dts  int64 // in the track's timescale
	cto  int32 // presentation minus decode time
	size uint32
	sync bool
}

// NewMuxer checks cfg and builds the init segment.
func NewMuxer(cfg Config) (*Muxer, error) {
	if cfg.Video == nil && cfg.Audio == nil && cfg.Opus == nil {
		return nil, fmt.Errorf("%w: no video and no audio track", ErrInvalidConfig)
	}
	if cfg.Audio != nil && cfg.Opus != nil {
		return nil, fmt.Errorf("%w: both AAC and Opus audio", ErrInvalidConfig)
	}
	if cfg.OnFragment == nil {
		return nil, fmt.Errorf("%w: OnFragment is nil", ErrInvalidConfig)
	}
	if cfg.FragmentDuration < 0 || cfg.MaxFragmentBytes < 0 {
		return nil, fmt.Errorf("%w: negative FragmentDuration or MaxFragmentBytes", ErrInvalidConfig)
	}
	m := &Muxer{
		onFragment: cfg.OnFragment,
		fragDur:    cfg.FragmentDuration,
		maxBytes:   cfg.MaxFragmentBytes,
		started:    cfg.Video == nil,
		seq:        1,
	}
	if m.fragDur == 0 {
		m.fragDur = DefaultFragmentDuration
	}
	if m.maxBytes == 0 {
		m.maxBytes = DefaultMaxFragmentBytes
	}
	if cfg.Video != nil {
		t, err := videoTrack(uint32(len(m.tracks)+1), cfg.Video)
		if err != nil {
			return nil, err
		}
		m.tracks = append(m.tracks, t)
		m.video = &trackBuf{Track: t, dur: videoTimescale / 30}
		m.sps, m.pps = cloneAll(cfg.Video.SPS), cloneAll(cfg.Video.PPS)
	}
	if cfg.Audio != nil {
		t, err := audioTrack(uint32(len(m.tracks)+1), cfg.Audio)
		if err != nil {
			return nil, err
		}
		m.tracks = append(m.tracks, t)
		m.audio = &trackBuf{Track: t, dur: aacFrameSamples}
	}
	if cfg.Opus != nil {
		t, err := opusTrack(uint32(len(m.tracks)+1), cfg.Opus)
		if err != nil {
			return nil, err
		}
		m.tracks = append(m.tracks, t)
		m.audio = &trackBuf{Track: t, dur: opusFrameSamples}
	}
	init, err := buildInit(&cfg, m.tracks)
	if err != nil {
		return nil, err
	}
	m.init = init
	m.mime = mime(m.tracks)
	return m, nil
}

// Init returns a copy of the init segment (ftyp+moov).
func (m *Muxer) Init() []byte { return bytes.Clone(m.init) }

// MIME returns the SourceBuffer type, e.g.
// `video/mp4; codecs="avc1.64001f,mp4a.40.2"`.
func (m *Muxer) MIME() string { return m.mime }

// Tracks describes the tracks, video first.
func (m *Muxer) Tracks() []Track { return append([]Track(nil), m.tracks...) }

// WriteVideo adds one H.264 access unit given as NAL units without start
// codes or length prefixes. pts and dts are its presentation and decode
// times. It may emit the fragment that the access unit closes.
func (m *Muxer) WriteVideo(pts, dts time.Duration, au [][]byte) error {
	v := m.video
	if v == nil {
		return fmt.Errorf("%w: write video: muxer has no video track", ErrNoTrack)
	}
	if dts < 0 {
		return fmt.Errorf("%w: video decode time %v is negative", ErrTimestamp, dts)
	}
	key := false
	size := 0
	for _, nalu := range au {
		if len(nalu) == 0 {
			continue
		}
		switch nalu[0] & 0x1f {
		case naluSPS:
			if !containsEqual(m.sps, nalu) {
				return fmt.Errorf("%w: new SPS at %v", ErrParamsChanged, dts)
			}
			continue
		case naluPPS:
			if !containsEqual(m.pps, nalu) {
				return fmt.Errorf("%w: new PPS at %v", ErrParamsChanged, dts)
			}
			continue
		case naluAUD:
			continue
		case naluIDR:
			key = true
		}
		size += 4 + len(nalu)
	}
	if size == 0 {
		return nil // only parameter sets or delimiters
	}
	d := toTimescale(dts, videoTimescale)
	if v.has && d <= v.last {
		return fmt.Errorf("%w: video decode time %v is not after %v", ErrTimestamp, dts,
			fromTimescale(v.last, videoTimescale))
	}
	if !m.started {
		if !key {
			return nil // nothing can be decoded before the first IDR
		}
		m.started = true
	}
	cto := toTimescale(pts, videoTimescale) - d
	if len(v.samples) > 0 {
		elapsed := fromTimescale(d-v.samples[0].dts, videoTimescale)
		if key || elapsed >= m.fragDur || m.pendingBytes(v, size) > m.maxBytes {
			if err := m.flush(d, -1, false); err != nil {
				return err
			}
		}
	}
	v.samples = append(v.samples, sample{dts: d, cto: int32(cto), size: uint32(size), sync: key})
	for _, nalu := range au {
		if len(nalu) == 0 {
			continue
		}
		switch nalu[0] & 0x1f {
		case naluSPS, naluPPS, naluAUD:
			continue
		}
		n := len(nalu)
		v.data = append(v.data, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		v.data = append(v.data, nalu...)
	}
	v.last, v.has = d, true
	return nil
}

// WriteAudio adds one raw AAC frame or Opus packet presented at pts. It may
// emit a fragment.
func (m *Muxer) WriteAudio(pts time.Duration, frame []byte) error {
	a := m.audio
	if a == nil {
		return fmt.Errorf("%w: write audio: muxer has no audio track", ErrNoTrack)
	}
	if pts < 0 {
		return fmt.Errorf("%w: audio time %v is negative", ErrTimestamp, pts)
	}
	if len(frame) == 0 || !m.started {
		return nil
	}
	n, err := audioFrameSamples(&a.Track, frame)
	if err != nil {
		return fmt.Errorf("%w at %v: %v", ErrInvalidFrame, pts, err)
	}
	d := toTimescale(pts, a.Timescale)
	if a.has {
		if d <= a.last {
			return fmt.Errorf("%w: audio time %v is not after %v", ErrTimestamp, pts,
				fromTimescale(a.last, a.Timescale))
		}
		// Lay frames end to end unless the source jumped by more
		// than half a frame.
		if next := a.last + a.dur; abs(d-next) <= a.dur/2 {
			d = next
		} else if a.Codec == opusCodec && d > next {
			if err := m.fillOpus(next, d); err != nil {
				return err
			}
		}
	}
	if len(a.samples) > 0 || (m.video != nil && len(m.video.samples) > 0) {
		over := m.pendingBytes(a, len(frame)) > m.maxBytes
		var err error
		switch {
		case m.video == nil:
			elapsed := fromTimescale(d-a.samples[0].dts, a.Timescale)
			if over || elapsed >= m.fragDur {
				err = m.flush(-1, d, false)
			}
		case over:
			err = m.flush(-1, -1, true)
		}
		if err != nil {
			return err
		}
	}
	a.samples = append(a.samples, sample{dts: d, size: uint32(len(frame)), sync: true})
	a.data = append(a.data, frame...)
	a.last, a.has, a.dur = d, true, n
	return nil
}

// Flush emits everything buffered as a last fragment, guessing the duration
// of each track's last sample from the one before. Call it at the end of
// the stream; writing after it starts a fragment with the next sample.
func (m *Muxer) Flush() error {
	return m.flush(-1, -1, false)
}

// pendingBytes bounds the encoded size of the buffered samples plus one more
// sample of size n on track t.
func (m *Muxer) pendingBytes(t *trackBuf, n int) int {
	total := moofOverhead + mdatOverhead + sampleOverhead + n
	for _, b := range []*trackBuf{m.video, m.audio} {
		if b == nil {
			continue
		}
		if len(b.samples) > 0 || b == t {
			total += trafOverhead
		}
		total += len(b.samples)*sampleOverhead + len(b.data)
	}
	return total
}

// flush emits buffered samples as one fragment. nextVideo and nextAudio are
// the decode times of the samples that will follow on each track, or -1
// when unknown. holdVideo keeps the last video sample back for the next
// fragment so that its duration is known when it is emitted, unless that
// would leave nothing to emit. With a video track and a known nextVideo,
// audio frames from nextVideo on are kept too.
func (m *Muxer) flush(nextVideo, nextAudio int64, holdVideo bool) error {
	var vn, an int // samples emitted per track
	if v := m.video; v != nil {
		vn = len(v.samples)
		if holdVideo && vn > 0 {
			vn--
			nextVideo = v.samples[vn].dts
		}
	}
	if a := m.audio; a != nil {
		an = len(a.samples)
		if m.video != nil && nextVideo >= 0 {
			cut := rescale(nextVideo, videoTimescale, a.Timescale)
			for an > 0 && a.samples[an-1].dts >= cut {
				an--
			}
		}
		if an < len(a.samples) {
			nextAudio = a.samples[an].dts
		}
	}
	if vn == 0 && an == 0 {
		if holdVideo {
			return m.flush(-1, -1, false)
		}
		return nil
	}

	var ids []uint32
	for _, p := range []struct {
		b *trackBuf
		n int
	}{{m.video, vn}, {m.audio, an}} {
		if p.n > 0 {
			ids = append(ids, p.b.ID)
		}
	}
	frag, err := mp4.CreateMultiTrackFragment(m.seq, ids)
	if err != nil {
		return fmt.Errorf("cmaf: create fragment %d: %w", m.seq, err)
	}
	f := Fragment{Seq: m.seq, Keyframe: m.video == nil}
	var payload []byte
	if vn > 0 {
		v := m.video
		start, end, nbytes, err := addSamples(frag, v, vn, nextVideo)
		if err != nil {
			return err
		}
		f.Start = fromTimescale(start, v.Timescale)
		f.Duration = fromTimescale(end-start, v.Timescale)
		f.Keyframe = v.samples[0].sync
		payload = append(payload, v.data[:nbytes]...)
		v.consume(vn, nbytes)
	}
	if an > 0 {
		a := m.audio
		start, end, nbytes, err := addSamples(frag, a, an, nextAudio)
		if err != nil {
			return err
		}
		if vn == 0 {
			f.Start = fromTimescale(start, a.Timescale)
			f.Duration = fromTimescale(end-start, a.Timescale)
		}
		payload = append(payload, a.data[:nbytes]...)
		a.consume(an, nbytes)
	}
	frag.Mdat.SetData(payload)
	sw := bits.NewFixedSliceWriter(int(frag.Size()))
	if err := frag.EncodeSW(sw); err != nil {
		return fmt.Errorf("cmaf: encode fragment %d: %w", m.seq, err)
	}
	f.Data = sw.Bytes()
	m.seq++
	m.onFragment(f)
	return nil
}

// addSamples adds t's first n samples to frag, the last one lasting until
// next (or as long as the one before when next is -1). It returns the first
// decode time, the decode time after the last sample and the payload bytes.
func addSamples(frag *mp4.Fragment, t *trackBuf, n int, next int64) (start, end int64, nbytes int, err error) {
	start = t.samples[0].dts
	for i := range n {
		s := t.samples[i]
		var dur int64
		switch {
		case i+1 < n:
			dur = t.samples[i+1].dts - s.dts
		case next > s.dts:
			dur = next - s.dts
		default:
			dur = t.dur
		}
		if t.Kind == "video" {
			t.dur = dur // audio: the last frame's own length, set by WriteAudio
		}
		flags := mp4.NonSyncSampleFlags | mp4.SampleDependsOn1
		if s.sync {
			flags = mp4.SyncSampleFlags
		}
		err = frag.AddSampleToTrack(mp4.Sample{
			Flags:                 flags,
			Dur:                   uint32(dur),
			Size:                  s.size,
			CompositionTimeOffset: s.cto,
		}, t.ID, uint64(start))
		if err != nil {
			return 0, 0, 0, fmt.Errorf("cmaf: add %s sample: %w", t.Kind, err)
		}
		nbytes += int(s.size)
		end = s.dts + dur
	}
	return start, end, nbytes, nil
}

// consume drops the first n samples and their nbytes of payload.
func (t *trackBuf) consume(n, nbytes int) {
	t.samples = append(t.samples[:0], t.samples[n:]...)
	t.data = append(t.data[:0], t.data[nbytes:]...)
}

// toTimescale converts d to ticks of ts per second, rounding to nearest,
// without overflowing for any time.Duration.
func toTimescale(d time.Duration, ts uint32) int64 {
	if d < 0 {
		return -toTimescale(-d, ts)
	}
	sec, frac := int64(d/time.Second), int64(d%time.Second)
	return sec*int64(ts) + (frac*int64(ts)+int64(time.Second)/2)/int64(time.Second)
}

// fromTimescale converts v ticks of ts per second to a duration.
func fromTimescale(v int64, ts uint32) time.Duration {
	sec, rem := v/int64(ts), v%int64(ts)
	return time.Duration(sec)*time.Second + time.Duration(rem)*time.Second/time.Duration(ts)
}

// rescale converts v ticks from one timescale to another, rounding down.
func rescale(v int64, from, to uint32) int64 {
	sec, rem := v/int64(from), v%int64(from)
	return sec*int64(to) + rem*int64(to)/int64(from)
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func containsEqual(set [][]byte, b []byte) bool {
	for _, s := range set {
		if bytes.Equal(s, b) {
			return true
		}
	}
	return false
}

func cloneAll(in [][]byte) [][]byte {
	out := make([][]byte, len(in))
	for i, b := range in {
		out[i] = bytes.Clone(b)
	}
	return out
}
