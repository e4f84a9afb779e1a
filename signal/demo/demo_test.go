package demo

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/cmaf"
)

func TestParseClip(t *testing.T) {
	s, err := Parse(Clip)
	if err != nil {
		t.Fatal(err)
	}
	if s.video == nil || s.audio == nil {
		t.Fatalf("clip tracks: video %v audio %v, want both", s.video != nil, s.audio != nil)
	}
	if d := s.Duration(); d < 9*time.Second || d > 11*time.Second {
		t.Fatalf("clip lasts %v, want about 10 s", d)
	}
	var video, audio int
	for _, smp := range s.samples {
		if smp.video {
			video++
			if len(splitAVCC(smp.data)) == 0 {
				t.Fatal("a video sample has no NAL units")
			}
		} else {
			audio++
		}
	}
	if video != 300 || audio < 460 {
		t.Fatalf("%d video and %d audio samples, want 300 and about 470", video, audio)
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("not an mp4 at all"), Clip[:1000]} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%d bytes) accepted garbage", len(in))
		}
	}
}

// TestPlayInRealTime plays 1.2 s of the clip and checks the fragments:
// the first at a keyframe, in order, back to back.
func TestPlayInRealTime(t *testing.T) {
	s, err := Parse(Clip)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	var mime string
	var frags []cmaf.Fragment
	err = s.Play(ctx, 250*time.Millisecond, func(m string, init []byte) { mime = m }, func(f cmaf.Fragment) { frags = append(frags, f) })
	if err != nil {
		t.Fatal(err)
	}
	if mime == "" {
		t.Fatal("no init segment")
	}
	if len(frags) < 3 || len(frags) > 6 {
		t.Fatalf("%d fragments in 1.2 s of 250 ms fragments", len(frags))
	}
	if !frags[0].Keyframe {
		t.Fatal("first fragment does not start at a keyframe")
	}
	for i := 1; i < len(frags); i++ {
		if gap := frags[i].Start - (frags[i-1].Start + frags[i-1].Duration); gap > time.Millisecond || gap < -time.Millisecond {
			t.Errorf("fragment %d starts at %v, previous ended at %v", i, frags[i].Start, frags[i-1].Start+frags[i-1].Duration)
		}
	}
}
