// Package cmaf repackages elementary streams into CMAF (fragmented MP4) for
// Media Source Extensions, without transcoding.
//
// A [Muxer] takes H.264 access units and AAC frames or Opus packets with
// their timestamps and produces one init segment (ftyp+moov, both tracks in
// one moov, so a browser needs a single SourceBuffer of type [Muxer.MIME])
// and then a sequence of fragments (moof+mdat, both tracks in each
// fragment).
//
//	m, err := cmaf.NewMuxer(cmaf.Config{
//		Video: &cmaf.H264{SPS: [][]byte{sps}, PPS: [][]byte{pps}},
//		Audio: &cmaf.AAC{Config: asc},
//		OnFragment: func(f cmaf.Fragment) { publish(f) },
//	})
//	if err != nil { ... }
//	announce(m.MIME(), m.Init())
//	for each access unit or audio frame, in arrival order {
//		err = m.WriteVideo(pts, dts, nalus) // or m.WriteAudio(pts, frame)
//	}
//	err = m.Flush() // end of stream: emit what is buffered
//
// # Input
//
// Video is H.264 with each access unit given as its NAL units, without
// Annex-B start codes or AVCC length prefixes. SPS, PPS and access unit
// delimiters in an access unit are dropped (the parameter sets live in the
// init segment); an SPS or PPS that differs from the configured ones fails
// with [ErrParamsChanged], and the caller starts a new Muxer (and a new init
// segment). Audio is either AAC ([Config.Audio]): raw frames without ADTS
// headers, configured by the AudioSpecificConfig; or Opus ([Config.Opus]), as
// WebRTC sends it: one Opus packet per frame, in an "Opus" sample entry with
// a dOps box, codec "opus", 48 kHz timescale. Timestamps are the source's:
// decode times must not be negative and must increase per track.
//
// # Fragments
//
// A fragment is cut before a video sample when the fragment already spans
// [Config.FragmentDuration] of video, before every IDR (so each IDR starts a
// fragment with [Fragment.Keyframe] set, where a viewer can join with the init
// segment), and before a sample that would take the fragment over
// [Config.MaxFragmentBytes]. A single sample larger than that limit gets a
// fragment of its own; the limit is soft. Without a video track, audio frames
// are cut by duration and every fragment is a keyframe fragment. Before the
// first IDR, video and audio are dropped.
//
// Each sample's duration is the distance to the next one of its track, so a
// sample is only emitted once the next one has arrived (or at [Muxer.Flush]).
// Audio frames are laid end to end (AAC: 1024 samples each; Opus: the
// packet's duration from its TOC byte) and only re-timed from their
// timestamps when those drift by more than half a frame, which absorbs the
// millisecond rounding of RTMP timestamps. A longer gap between Opus packets
// (discontinuous transmission, a lost packet) is filled with empty packets
// that the decoder conceals, so the audio timeline has no holes.
//
// A Muxer is not safe for concurrent use. OnFragment runs synchronously inside
// WriteVideo, WriteAudio and Flush, and owns the Data it is given.
package cmaf
