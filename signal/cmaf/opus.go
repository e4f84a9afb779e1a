package cmaf

import (
	"fmt"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
)

// Opus in ISOBMFF, per "Encapsulation of Opus in ISO Base Media File Format"
// (https://opus-codec.org/docs/opus_in_isobmff.html): an "Opus" sample entry
// holding a dOps box, media timescale 48 kHz, one Opus packet per sample.
const (
	opusCodec       = "opus" // RFC 6381 codec string
	opusSampleEntry = "Opus" // sample entry four-character code
	opusTimescale   = 48000  // Opus always decodes at 48 kHz
	// opusFrameSamples is a 20 ms packet, the usual WebRTC packet, used
	// as the duration of a lone last packet before any has been seen.
	opusFrameSamples = 960
	// opusMaxSamples is the longest packet RFC 6716 allows: 120 ms.
	opusMaxSamples = 5760
	// opusMaxFill is the longest gap between packets that fillOpus
	// fills: 2 s. A longer one is a discontinuity left as it is.
	opusMaxFill = 2 * opusTimescale
)

// Opus configures an Opus audio track, the audio of WebRTC (WHIP) ingest.
// Set it in [Config.Opus] instead of [Config.Audio]; a Muxer has at most one
// audio track.
type Opus struct {
	// Channels is the decoder's output channel count, 1 or 2. WebRTC
	// negotiates opus/48000/2, so use 2 there: a decoder upmixes mono
	// packets. Zero means 2.
	Channels int
	// PreSkip is the number of 48 kHz samples the decoder discards at the
	// start of the stream, as in an Ogg OpusHead. RTP carries none, so it
	// is 0 for WebRTC sources.
	PreSkip uint16
}

// opusTrack describes the Opus track.
func opusTrack(id uint32, o *Opus) (Track, error) {
	ch := o.Channels
	if ch == 0 {
		ch = 2
	}
	if ch < 1 || ch > 2 {
		// More channels need channel mapping family 1 in dOps, and
		// WebRTC never sends them.
		return Track{}, fmt.Errorf("%w: Opus with %d channels (want 1 or 2)", ErrUnsupportedCodec, o.Channels)
	}
	return Track{
		ID:         id,
		Kind:       "audio",
		Codec:      opusCodec,
		Timescale:  opusTimescale,
		SampleRate: opusTimescale,
		Channels:   ch,
	}, nil
}

// opusEntry is the Opus sample entry with its dOps box (channel mapping
// family 0: mono or stereo).
func opusEntry(o *Opus, t Track) *mp4.AudioSampleEntryBox {
	dops := &mp4.DopsBox{
		Version:            0,
		OutputChannelCount: byte(t.Channels),
		PreSkip:            o.PreSkip,
		InputSampleRate:    opusTimescale,
	}
	return mp4.CreateAudioSampleEntryBox(opusSampleEntry, uint16(t.Channels), 16, opusTimescale, dops)
}

// audioFrameSamples returns the duration of one audio frame of track t in
// the track's timescale: 1024 for AAC, and for Opus what the packet's TOC
// byte says, or an error if it says nothing valid.
func audioFrameSamples(t *Track, frame []byte) (int64, error) {
	if t.Codec != opusCodec {
		return aacFrameSamples, nil
	}
	n, err := opusSamples(frame)
	return int64(n), err
}

// OpusPacketDuration returns how much audio one Opus packet holds, from its
// TOC byte and frame count (RFC 6716, section 3.1): 2.5 to 120 ms.
func OpusPacketDuration(packet []byte) (time.Duration, error) {
	n, err := opusSamples(packet)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrInvalidFrame, err)
	}
	return time.Duration(n) * time.Second / opusTimescale, nil
}

// opusSamples returns the number of 48 kHz samples in an Opus packet.
func opusSamples(packet []byte) (int, error) {
	if len(packet) == 0 {
		return 0, fmt.Errorf("empty Opus packet")
	}
	toc := packet[0]
	config := int(toc >> 3)
	var frame int // samples per frame at 48 kHz
	switch {
	case config < 12: // SILK-only: 10, 20, 40, 60 ms
		frame = [4]int{480, 960, 1920, 2880}[config%4]
	case config < 16: // Hybrid: 10, 20 ms
		frame = [2]int{480, 960}[config%2]
	default: // CELT-only: 2.5, 5, 10, 20 ms
		frame = [4]int{120, 240, 480, 960}[config%4]
	}
	var frames int
	switch toc & 3 {
	case 0:
		frames = 1
	case 1, 2:
		frames = 2
	case 3:
		if len(packet) < 2 {
			return 0, fmt.Errorf("code 3 Opus packet without a frame count byte")
		}
		frames = int(packet[1] & 0x3f)
		if frames == 0 {
			return 0, fmt.Errorf("code 3 Opus packet with 0 frames")
		}
	}
	if n := frames * frame; n <= opusMaxSamples {
		return n, nil
	}
	return 0, fmt.Errorf("%d frames of %d samples in an Opus packet, over 120 ms", frames, frame)
}

// fillOpus writes empty packets from time from until to (48 kHz ticks), so
// that a gap between packets (discontinuous transmission, a lost packet)
// does not leave a hole in the track's timeline, where MSE would stall.
// Each is a TOC byte alone (code 0, one frame of zero bytes), which a
// decoder conceals as a lost frame; CELT configurations 31 down to 28 give
// 20, 10, 5 and 2.5 ms, and less than 2.5 ms is added to the last one.
func (m *Muxer) fillOpus(from, to int64) error {
	if to-from > opusMaxFill {
		return nil
	}
	for config := byte(31); config >= 28; config-- {
		n := int64(120) << (config - 28)
		for ; to-from >= n; from += n {
			pts := fromTimescale(from, opusTimescale)
			if err := m.WriteAudio(pts, []byte{config << 3}); err != nil {
				return err
			}
		}
	}
	return nil
}
