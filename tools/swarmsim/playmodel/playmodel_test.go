package playmodel

import (
	"testing"
	"time"
)

const ms = int64(time.Millisecond)

// feed delivers chunks lo..hi, chunk k published at k·iv and arriving
// delay(k) later; every 8th chunk is a keyframe.
func feed(pl *Player, lo, hi uint64, iv int64, delay func(k uint64) int64) {
	for k := lo; k <= hi; k++ {
		pub := int64(k) * iv
		pl.Deliver(k, pub+delay(k), pub, k%8 == 0)
	}
}

func TestPlayer(t *testing.T) {
	const iv = 125 * ms
	steady := func(uint64) int64 { return 600 * ms }
	cases := []struct {
		name   string
		delay  func(k uint64) int64
		check  func(t *testing.T, s Stats, lat []int64)
		joinAt uint64 // first chunk delivered
	}{
		{
			name: "steady delivery plays without a stall at the target", delay: steady, joinAt: 100,
			check: func(t *testing.T, s Stats, lat []int64) {
				if !s.Started || s.Stalls != 0 {
					t.Fatalf("stats %+v: want started, no stalls", s)
				}
				// Chunks come 600 ms after they are cut: with no keyframe
				// yet 1 s old, it joined at the oldest it held and stays
				// there, well under the 1.75 s where it would speed up.
				if last := lat[len(lat)-1]; last < 600*ms || last > 1750*ms {
					t.Errorf("latency at the end %v, want 0.6-1.75 s", time.Duration(last))
				}
			},
		},
		{
			name: "a late chunk stalls once and moves the target back", joinAt: 100,
			delay: func(k uint64) int64 {
				if k == 440 { // 7.5 s before the end: less than calmTime, so the target is still back
					return 3 * time.Second.Nanoseconds()
				}
				return 600 * ms
			},
			check: func(t *testing.T, s Stats, _ []int64) {
				if s.Stalls != 1 || s.Stalled <= 0 {
					t.Fatalf("stats %+v: want one stall", s)
				}
				if s.TargetLatency <= TargetLatency {
					t.Errorf("target %v after a stall, want it moved back from %v", time.Duration(s.TargetLatency), time.Duration(TargetLatency))
				}
			},
		},
		{
			name: "far behind, it catches up by playing fast", joinAt: 100,
			delay: func(k uint64) int64 {
				if k < 130 {
					return 4 * time.Second.Nanoseconds() // it starts 4 s behind
				}
				return 400 * ms
			},
			check: func(t *testing.T, s Stats, lat []int64) {
				if first, last := lat[0], lat[len(lat)-1]; last >= first-time.Second.Nanoseconds() {
					t.Errorf("latency %v at start, %v at the end: want over 1 s caught up", time.Duration(first), time.Duration(last))
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var lat []int64
			pl := New(Config{Interval: iv, OnPlay: func(_ uint64, _, l int64) { lat = append(lat, l) }})
			feed(pl, tc.joinAt, tc.joinAt+400, iv, tc.delay)
			last := tc.joinAt + 400
			pl.Finish(int64(last)*iv + tc.delay(last)) // as the last chunk arrives
			if len(lat) == 0 {
				t.Fatal("nothing played")
			}
			tc.check(t, pl.Stats(), lat)
		})
	}
}

// TestSkipsWhatTheEngineForgot: a chunk that never comes is skipped once
// the newest delivered is a window past it, and playback goes on.
func TestSkipsWhatTheEngineForgot(t *testing.T) {
	const iv = 125 * ms
	pl := New(Config{Interval: iv, Window: 16})
	for k := uint64(0); k < 100; k++ {
		if k == 40 {
			continue
		}
		pub := int64(k) * iv
		pl.Deliver(k, pub+500*ms, pub, k%8 == 0)
	}
	pl.Finish(100*iv + time.Second.Nanoseconds())
	if s := pl.Stats(); s.Skipped != 1 || s.Played < 80 {
		t.Fatalf("stats %+v: want chunk 40 skipped and playing on", s)
	}
	if pl.Finish(0) {
		t.Error("a second Finish reported finishing")
	}
}

// TestTotals: players that never started count nowhere; the others add
// their watch time, stalls and chunks.
func TestTotals(t *testing.T) {
	var tot Totals
	tot.Add(Stats{Started: false, Stalled: 99}, 100)
	tot.Add(Stats{Started: true, StartAt: 0, Stalled: 10, Stalls: 1, Played: 8}, 100)
	tot.Add(Stats{Started: true, StartAt: 50, Played: 4, Jumps: 1}, 150)
	r := tot.Rebuffering()
	want := Rebuffering{Ratio: 0.05, StalledSeconds: 1e-8, WatchSeconds: 2e-7, Stalls: 1, ViewersStalled: 1, Jumps: 1, PlayedChunks: 12}
	if r != want || tot.Started != 2 {
		t.Fatalf("got %+v, %d started; want %+v, 2", r, tot.Started, want)
	}
}
