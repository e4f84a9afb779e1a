// Package demo plays a short MP4 clip as if an encoder were streaming it
// live, in a loop: the demo channel that `go tool task run` shows with no
// broadcaster attached. It feeds the clip's samples, in real time, into the
// same CMAF muxer that RTMP and WHIP ingest use.
//
// The embedded clip (clip.mp4: a test pattern with a 440 Hz tone, H.264 +
// AAC, 1 s GOP) is made by `go tool task demo:clip`.
package demo

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/shoal-live/shoal/shared/wire"
	"github.com/shoal-live/shoal/signal/cmaf"
)

// Clip is the embedded demo clip.
//
//go:embed clip.mp4
var Clip []byte

// sample is one video access unit or audio frame of the clip.
type sample struct {
	video    bool
	dts, pts time.Duration
	data     []byte // AVCC (length-prefixed NAL units) for video
}

// Source is a parsed clip ready to loop.
type Source struct {
	video    *cmaf.H264
	audio    *cmaf.AAC
	samples  []sample // in decode order, video and audio interleaved
	duration time.Duration
}

// Parse reads a progressive MP4 with one H.264 and/or one AAC track.
func Parse(data []byte) (*Source, error) {
	f, err := mp4.DecodeFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("demo: parse clip: %w", err)
	}
	if f.Moov == nil || f.Mdat == nil {
		return nil, errors.New("demo: clip is not a progressive MP4")
	}
	s := &Source{}
	for _, trak := range f.Moov.Traks {
		stbl := trak.Mdia.Minf.Stbl
		ts := trak.Mdia.Mdhd.Timescale
		var video bool
		switch {
		case stbl.Stsd.AvcX != nil:
			video = true
			s.video = &cmaf.H264{SPS: stbl.Stsd.AvcX.AvcC.SPSnalus, PPS: stbl.Stsd.AvcX.AvcC.PPSnalus}
		case stbl.Stsd.Mp4a != nil && stbl.Stsd.Mp4a.Esds != nil:
			s.audio = &cmaf.AAC{Config: stbl.Stsd.Mp4a.Esds.DecConfigDescriptor.DecSpecificInfo.DecConfig}
		default:
			continue
		}
		end, err := s.addTrack(f, trak, ts, video)
		if err != nil {
			return nil, err
		}
		s.duration = max(s.duration, end)
	}
	if s.video == nil && s.audio == nil {
		return nil, errors.New("demo: clip has neither H.264 nor AAC")
	}
	slices.SortStableFunc(s.samples, func(a, b sample) int { return int(a.dts - b.dts) })
	return s, nil
}

// addTrack appends a track's samples and returns the track's end time.
func (s *Source) addTrack(f *mp4.File, trak *mp4.TrakBox, ts uint32, video bool) (time.Duration, error) {
	stbl := trak.Mdia.Minf.Stbl
	base := f.Mdat.PayloadAbsoluteOffset()
	toDur := func(v int64) time.Duration { return time.Duration(v) * time.Second / time.Duration(ts) }
	var end time.Duration
	for nr := uint32(1); nr <= stbl.Stsz.GetNrSamples(); nr++ {
		chunk, first, err := stbl.Stsc.ChunkNrFromSampleNr(int(nr))
		if err != nil {
			return 0, fmt.Errorf("demo: sample %d: %w", nr, err)
		}
		var off uint64
		switch {
		case stbl.Stco != nil:
			off = uint64(stbl.Stco.ChunkOffset[chunk-1])
		case stbl.Co64 != nil:
			off = stbl.Co64.ChunkOffset[chunk-1]
		}
		for n := first; n < int(nr); n++ {
			off += uint64(stbl.Stsz.GetSampleSize(n))
		}
		size := uint64(stbl.Stsz.GetSampleSize(int(nr)))
		if off < base || off-base+size > uint64(len(f.Mdat.Data)) {
			return 0, fmt.Errorf("demo: sample %d lies outside mdat", nr)
		}
		dts, dur := stbl.Stts.GetDecodeTime(nr)
		var cto int64
		if stbl.Ctts != nil {
			cto = int64(stbl.Ctts.GetCompositionTimeOffset(nr))
		}
		s.samples = append(s.samples, sample{
			video: video,
			dts:   toDur(int64(dts)),
			pts:   toDur(int64(dts) + cto),
			data:  f.Mdat.Data[off-base : off-base+size],
		})
		end = toDur(int64(dts + uint64(dur)))
	}
	return end, nil
}

// Duration is the length of one pass through the clip.
func (s *Source) Duration() time.Duration { return s.duration }

// Play loops the clip in real time until ctx ends, muxing it into CMAF.
// start receives the init segment and MIME type once, then frag each
// fragment.
func (s *Source) Play(ctx context.Context, fragDur time.Duration, start func(mime string, init []byte), frag func(cmaf.Fragment)) error {
	m, err := cmaf.NewMuxer(cmaf.Config{Video: s.video, Audio: s.audio, FragmentDuration: fragDur,
		MaxFragmentBytes: wire.MaxPayload, OnFragment: frag})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	start(m.MIME(), m.Init())
	// One pass lasts the longest track, rounded up to whole milliseconds,
	// so that no track's timestamps overlap from one pass to the next.
	pass := s.duration.Round(time.Millisecond) + time.Millisecond
	t0 := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for loop := 0; ; loop++ {
		offset := time.Duration(loop) * pass
		for _, smp := range s.samples {
			if wait := time.Until(t0.Add(offset + smp.dts)); wait > 0 {
				timer.Reset(wait)
				select {
				case <-ctx.Done():
					return nil
				case <-timer.C:
				}
			} else if ctx.Err() != nil {
				return nil
			}
			if smp.video {
				err = m.WriteVideo(offset+smp.pts, offset+smp.dts, splitAVCC(smp.data))
			} else {
				err = m.WriteAudio(offset+smp.pts, smp.data)
			}
			if err != nil {
				return fmt.Errorf("demo: mux: %w", err)
			}
		}
	}
}

// splitAVCC splits length-prefixed NAL units.
func splitAVCC(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 4 {
		n := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		b = b[4:]
		if n > len(b) {
			break
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}
