package whip

import "time"

// noteKeyframe records when an access unit with an IDR slice arrives.
func (s *session) noteKeyframe(nalus [][]byte) {
	for _, n := range nalus {
		if len(n) > 0 && n[0]&0x1f == 5 { // H.264 IDR slice
			s.lastIDR = time.Now()
			return
		}
	}
}

// keyframeOverdue reports whether the publisher has sent no IDR for a
// PLIInterval. Browsers' WebRTC encoders send keyframes only when asked,
// and viewers can join, and recover from a lost chunk, only at one; OBS
// and ffmpeg send them on their own schedule, which this rarely overrides.
func (s *session) keyframeOverdue() bool {
	return time.Since(s.lastIDR) >= s.h.cfg.PLIInterval
}
