package whip

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shoal-live/shoal/signal/cmaf"
)

// H.264 NAL unit types the remuxer looks at.
const (
	naluIDR = 5
	naluSPS = 7
	naluPPS = 8
)

// remuxer turns one session's access units and Opus packets, on the
// session timeline, into init segments and fragments for its Session. It
// keeps the latest SPS and PPS seen in band, starts a cmaf.Muxer at the
// first IDR they describe, and ends it and starts another (a new init
// segment) when they change. It does no I/O and starts no goroutine.
type remuxer struct {
	sess     Session
	audio    bool // Opus was negotiated: the muxer gets an audio track
	fragDur  time.Duration
	maxBytes int

	mux            *cmaf.Muxer
	sps, pps       [][]byte // latest in-band parameter sets
	muxSPS, muxPPS [][]byte // the muxer's

	// Counters for the session's log line.
	inits, fragments, bytes int
	waiting                 int // access units dropped waiting for an IDR
	badTimestamps           int // samples the muxer refused as out of order
	badFrames               int // Opus packets that do not parse
}

// video takes one access unit as NAL units. needKey reports that it was
// dropped for want of an IDR (with known parameter sets), so the caller
// should ask the publisher for one. An error ends the session.
func (r *remuxer) video(pts time.Duration, nalus [][]byte) (needKey bool, err error) {
	var sps, pps [][]byte
	key := false
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		switch n[0] & 0x1f {
		case naluSPS:
			sps = appendNew(sps, n)
		case naluPPS:
			pps = appendNew(pps, n)
		case naluIDR:
			key = true
		}
	}
	if len(sps) > 0 && !equalSets(sps, r.sps) {
		r.sps = cloneAll(sps)
	}
	if len(pps) > 0 && !equalSets(pps, r.pps) {
		r.pps = cloneAll(pps)
	}
	if r.mux != nil && (!equalSets(r.sps, r.muxSPS) || !equalSets(r.pps, r.muxPPS)) {
		// A new resolution, profile or encoder: the next IDR starts a
		// new muxer with its own init segment.
		err := r.mux.Flush()
		r.mux = nil
		if err != nil {
			return false, fmt.Errorf("whip: flush before new parameter sets: %w", err)
		}
	}
	if r.mux == nil {
		if !key || len(r.sps) == 0 || len(r.pps) == 0 {
			r.waiting++
			return true, nil
		}
		if err := r.start(); err != nil {
			return false, err
		}
	}
	err = r.mux.WriteVideo(pts, pts, nalus)
	if errors.Is(err, cmaf.ErrTimestamp) {
		r.badTimestamps++
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("whip: mux video: %w", err)
	}
	return false, nil
}

// audioPacket takes one Opus packet. Before the first IDR it is dropped.
func (r *remuxer) audioPacket(pts time.Duration, packet []byte) error {
	if r.mux == nil || !r.audio {
		return nil
	}
	err := r.mux.WriteAudio(pts, packet)
	switch {
	case errors.Is(err, cmaf.ErrTimestamp):
		r.badTimestamps++
	case errors.Is(err, cmaf.ErrInvalidFrame):
		r.badFrames++
	case err != nil:
		return fmt.Errorf("whip: mux audio: %w", err)
	}
	return nil
}

// started reports whether a muxer is running, that is, an IDR arrived
// since the start or the last change of parameter sets.
func (r *remuxer) started() bool { return r.mux != nil }

// flush emits what the muxer holds, at the end of the session.
func (r *remuxer) flush() error {
	if r.mux == nil {
		return nil
	}
	if err := r.mux.Flush(); err != nil {
		return fmt.Errorf("whip: flush: %w", err)
	}
	return nil
}

// start makes a muxer for the current parameter sets and announces its
// init segment.
func (r *remuxer) start() error {
	cfg := cmaf.Config{
		Video:            &cmaf.H264{SPS: r.sps, PPS: r.pps},
		FragmentDuration: r.fragDur,
		MaxFragmentBytes: r.maxBytes,
		OnFragment:       r.onFragment,
	}
	if r.audio {
		// WebRTC negotiates opus/48000/2; a decoder upmixes mono.
		cfg.Opus = &cmaf.Opus{Channels: 2}
	}
	m, err := cmaf.NewMuxer(cfg)
	if err != nil {
		return fmt.Errorf("whip: start muxer: %w", err)
	}
	r.mux, r.muxSPS, r.muxPPS = m, r.sps, r.pps
	r.inits++
	v := m.Tracks()[0]
	r.sess.Init(m.MIME(), m.Init(), v.Width, v.Height)
	return nil
}

func (r *remuxer) onFragment(f cmaf.Fragment) {
	r.fragments++
	r.bytes += len(f.Data)
	r.sess.Fragment(f)
}

// splitAVCC splits 4-byte length-prefixed NAL units, as pion's H.264
// depacketizer writes them with IsAVC set.
func splitAVCC(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("whip: truncated NAL unit length")
		}
		n := int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if n > len(b)-4 {
			return nil, fmt.Errorf("whip: NAL unit of %d bytes in %d", n, len(b)-4)
		}
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out, nil
}

// rtpClock maps one track's 32-bit RTP timestamps onto the session
// timeline: anchor is the session time at which the track's first packet
// arrived, and later timestamps count from that packet's, unwrapped.
type rtpClock struct {
	rate   int64         // ticks per second: 90000 video, 48000 Opus
	anchor time.Duration // session time of the first packet
	last   uint32        // the latest timestamp mapped
	ext    int64         // ticks from the first packet to last
}

func newRTPClock(rate int64, anchor time.Duration, first uint32) *rtpClock {
	return &rtpClock{rate: rate, anchor: anchor, last: first}
}

// pts maps ts, taking the step from the previous timestamp as the shorter
// way around the 32-bit circle, so wraparound and reordering both work.
func (c *rtpClock) pts(ts uint32) time.Duration {
	c.ext += int64(int32(ts - c.last))
	c.last = ts
	sec, rem := c.ext/c.rate, c.ext%c.rate
	return c.anchor + time.Duration(sec)*time.Second + time.Duration(rem)*time.Second/time.Duration(c.rate)
}

func appendNew(set [][]byte, b []byte) [][]byte {
	if slices.ContainsFunc(set, func(s []byte) bool { return bytes.Equal(s, b) }) {
		return set
	}
	return append(set, b)
}

func equalSets(a, b [][]byte) bool { return slices.EqualFunc(a, b, bytes.Equal) }

func cloneAll(in [][]byte) [][]byte {
	out := make([][]byte, len(in))
	for i, b := range in {
		out[i] = bytes.Clone(b)
	}
	return out
}
