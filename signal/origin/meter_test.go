package origin

import (
	"testing"
	"time"
)

func TestIngestMeter(t *testing.T) {
	t0 := time.Unix(1000, 0)
	const frag = 250 * time.Millisecond
	tests := []struct {
		name       string
		keyEvery   int // fragments between keyframes
		fragBytes  int
		fragments  int
		wantKbps   float64
		wantKeyGap time.Duration
		restartAt  int // a new session timeline starts at this fragment (0: none)
	}{
		{name: "1 s GOP at 800 kbit/s", keyEvery: 4, fragBytes: 25000, fragments: 40, wantKbps: 800, wantKeyGap: time.Second},
		{name: "4 s GOP", keyEvery: 16, fragBytes: 25000, fragments: 80, wantKbps: 800, wantKeyGap: 4 * time.Second},
		{name: "one keyframe only", keyEvery: 1000, fragBytes: 12500, fragments: 30, wantKbps: 400, wantKeyGap: 0},
		{name: "timeline restarts", keyEvery: 8, fragBytes: 25000, fragments: 60, wantKbps: 800, wantKeyGap: 2 * time.Second, restartAt: 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m IngestMeter
			var now time.Time
			for i := range tc.fragments {
				now = t0.Add(time.Duration(i) * frag)
				n := i // fragments into the session's timeline
				if tc.restartAt > 0 && i >= tc.restartAt {
					n = i - tc.restartAt
				}
				m.Record(now, tc.fragBytes, time.Duration(n)*frag, n%tc.keyEvery == 0)
			}
			r := m.Read(now)
			if r.BitsPerSecond/1000 < tc.wantKbps*0.9 || r.BitsPerSecond/1000 > tc.wantKbps*1.1 {
				t.Errorf("bitrate %.0f kbit/s, want about %.0f", r.BitsPerSecond/1000, tc.wantKbps)
			}
			if r.KeyframeInterval != tc.wantKeyGap {
				t.Errorf("keyframe interval %v, want %v", r.KeyframeInterval, tc.wantKeyGap)
			}
			if r.Fragments != int64(tc.fragments) || r.Bytes != int64(tc.fragments*tc.fragBytes) {
				t.Errorf("counted %d fragments, %d bytes", r.Fragments, r.Bytes)
			}
			if later := m.Read(now.Add(time.Minute)); later.BitsPerSecond != 0 {
				t.Errorf("bitrate %.0f a minute after the feed stopped, want 0", later.BitsPerSecond)
			}
		})
	}
}
