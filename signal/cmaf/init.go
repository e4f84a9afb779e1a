package cmaf

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/avc"
	"github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/mp4"
)

// videoTimescale is the video track's ticks per second, the usual 90 kHz.
const videoTimescale = 90000

// aacFrameSamples is the number of samples per channel in one AAC frame at
// the AudioSpecificConfig's (core) sampling frequency.
const aacFrameSamples = 1024

// H.264 NAL unit types the Muxer looks at.
const (
	naluIDR = 5
	naluSPS = 7
	naluPPS = 8
	naluAUD = 9
)

// H264 configures the video track.
type H264 struct {
	// SPS and PPS are the parameter sets, each a NAL unit without start
	// code. The first SPS gives the codec string and the picture size.
	SPS, PPS [][]byte
}

// AAC configures the audio track.
type AAC struct {
	// Config is the AudioSpecificConfig (ISO/IEC 14496-3), as carried in an
	// RTMP AAC sequence header or an MP4 esds box.
	Config []byte
}

// Track describes one track of the init segment.
type Track struct {
	ID        uint32 // track_ID in moov and in each traf
	Kind      string // "video" or "audio"
	Codec     string // RFC 6381 codec, e.g. "avc1.64001f" or "mp4a.40.2"
	Timescale uint32 // ticks per second of the track's media time

	Width, Height        int // video only: coded picture size from the SPS
	SampleRate, Channels int // audio only
}

func videoTrack(id uint32, h *H264) (Track, error) {
	if len(h.SPS) == 0 || len(h.PPS) == 0 {
		return Track{}, fmt.Errorf("%w: H.264 needs an SPS and a PPS", ErrInvalidConfig)
	}
	for _, s := range h.SPS {
		if len(s) < 4 || s[0]&0x1f != naluSPS {
			return Track{}, fmt.Errorf("%w: SPS is not an SPS NAL unit", ErrInvalidConfig)
		}
	}
	for _, p := range h.PPS {
		if len(p) < 2 || p[0]&0x1f != naluPPS {
			return Track{}, fmt.Errorf("%w: PPS is not a PPS NAL unit", ErrInvalidConfig)
		}
	}
	sps, err := avc.ParseSPSNALUnit(h.SPS[0], false)
	if err != nil {
		return Track{}, fmt.Errorf("%w: parse SPS: %v", ErrInvalidConfig, err)
	}
	return Track{
		ID:        id,
		Kind:      "video",
		Codec:     fmt.Sprintf("avc1.%02x%02x%02x", h.SPS[0][1], h.SPS[0][2], h.SPS[0][3]),
		Timescale: videoTimescale,
		Width:     int(sps.Width),
		Height:    int(sps.Height),
	}, nil
}

func audioTrack(id uint32, a *AAC) (Track, error) {
	if len(a.Config) < 2 {
		return Track{}, fmt.Errorf("%w: AudioSpecificConfig of %d bytes", ErrInvalidConfig, len(a.Config))
	}
	hdr, err := aac.DecodeAudioSpecificConfigHeader(bytes.NewReader(a.Config))
	if err != nil {
		return Track{}, fmt.Errorf("%w: parse AudioSpecificConfig: %v", ErrInvalidConfig, err)
	}
	switch hdr.ObjectType {
	case aac.AAClc, aac.HEAACv1, aac.HEAACv2:
	default:
		return Track{}, fmt.Errorf("%w: AAC object type %d (want 2, 5 or 29)", ErrUnsupportedCodec, hdr.ObjectType)
	}
	if hdr.ChannelConfiguration == 0 || hdr.ChannelConfiguration > 7 {
		return Track{}, fmt.Errorf("%w: AAC channel configuration %d", ErrUnsupportedCodec, hdr.ChannelConfiguration)
	}
	if hdr.SamplingFrequency <= 0 || hdr.SamplingFrequency > 65535 {
		return Track{}, fmt.Errorf("%w: AAC sampling frequency %d", ErrUnsupportedCodec, hdr.SamplingFrequency)
	}
	channels := int(hdr.ChannelConfiguration)
	if channels == 7 {
		channels = 8 // 7.1
	}
	return Track{
		ID:         id,
		Kind:       "audio",
		Codec:      fmt.Sprintf("mp4a.40.%d", hdr.ObjectType),
		Timescale:  uint32(hdr.SamplingFrequency),
		SampleRate: hdr.SamplingFrequency,
		Channels:   channels,
	}, nil
}

// mime is the SourceBuffer type for the tracks.
func mime(tracks []Track) string {
	codecs := make([]string, len(tracks))
	kind := "audio"
	for i, t := range tracks {
		codecs[i] = t.Codec
		if t.Kind == "video" {
			kind = "video"
		}
	}
	return fmt.Sprintf(`%s/mp4; codecs="%s"`, kind, strings.Join(codecs, ","))
}

// buildInit encodes ftyp+moov with a trak and a trex per track.
func buildInit(cfg *Config, tracks []Track) ([]byte, error) {
	init := mp4.CreateEmptyInit()
	for _, t := range tracks {
		trak := init.AddEmptyTrack(t.Timescale, t.Kind, "und")
		switch t.Kind {
		case "video":
			if err := trak.SetAVCDescriptor("avc1", cfg.Video.SPS, cfg.Video.PPS, true); err != nil {
				return nil, fmt.Errorf("%w: avc1 sample entry: %v", ErrInvalidConfig, err)
			}
		case "audio":
			if cfg.Opus != nil {
				trak.Mdia.Minf.Stbl.Stsd.AddChild(opusEntry(cfg.Opus, t))
				continue
			}
			esds := mp4.CreateEsdsBox(cfg.Audio.Config)
			trak.Mdia.Minf.Stbl.Stsd.AddChild(mp4.CreateAudioSampleEntryBox("mp4a",
				uint16(t.Channels), 16, uint16(t.SampleRate), esds))
		}
	}
	sw := bits.NewFixedSliceWriter(int(init.Size()))
	if err := init.EncodeSW(sw); err != nil {
		return nil, fmt.Errorf("cmaf: encode init segment: %w", err)
	}
	return sw.Bytes(), nil
}
