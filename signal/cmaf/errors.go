package cmaf

import "errors"

// Sentinel errors, wrapped with details; test them with [errors.Is].
var (
	// ErrInvalidConfig reports a Config that cannot describe a stream: no
	// track, no OnFragment, or parameter sets or an AudioSpecificConfig that
	// do not parse.
	ErrInvalidConfig = errors.New("cmaf: invalid config")
	// ErrUnsupportedCodec reports a codec variant a browser cannot be
	// given in this packaging, such as an AAC object type other than
	// AAC-LC, HE-AAC or HE-AACv2.
	ErrUnsupportedCodec = errors.New("cmaf: unsupported codec")
	// ErrNoTrack reports a write to a track the Muxer was not configured
	// with.
	ErrNoTrack = errors.New("cmaf: no such track")
	// ErrTimestamp reports a negative or non-increasing decode time. The
	// sample is dropped and the Muxer stays usable.
	ErrTimestamp = errors.New("cmaf: bad timestamp")
	// ErrParamsChanged reports an in-band SPS or PPS that differs from the
	// configured one. The access unit is not written; start a new Muxer
	// with the new parameter sets.
	ErrParamsChanged = errors.New("cmaf: H.264 parameter sets changed")
	// ErrInvalidFrame reports an audio frame whose duration cannot be
	// read, such as an Opus packet with a malformed TOC. The frame is
	// dropped and the Muxer stays usable.
	ErrInvalidFrame = errors.New("cmaf: invalid audio frame")
)
