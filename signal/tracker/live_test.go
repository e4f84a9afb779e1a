package tracker

import (
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/signaling"
)

// clock is a settable clock for Config.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestLiveReachesWhoNeedsIt: the origin reports every chunk (Live); a
// joiner hears the edge in its welcome and then every second for
// LiveNeedy, others every LiveIdle, a peer whose links keep failing every
// second again, and the origin never (docs/PROTOCOL.md §1).
func TestLiveReachesWhoNeedsIt(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	tr := newTracker(Config{Neighbours: 2, Now: c.now})
	_, ob := join(t, tr, "s", true)
	const first = 1_764_547_200_000
	seq := uint64(first)
	publish := func(d time.Duration) { // a chunk every 125 ms for d
		for end := c.t.Add(d); c.t.Before(end); c.t = c.t.Add(125 * time.Millisecond) {
			key := seq - (seq-first)%16 // a keyframe every 2 s
			tr.Live("s", seq, key)
			seq++
		}
	}
	publish(3 * time.Second)
	_, ab := join(t, tr, "s", false)
	if w := ab.msgs[0]; w.Newest != seq-1 || w.Keyframe != first+16 {
		t.Fatalf("welcome newest %d keyframe %d, want %d and %d", w.Newest-first, w.Keyframe-first, seq-1-first, 16)
	}
	b, bb := join(t, tr, "s", false)
	c3, _ := join(t, tr, "s", false)
	lives := func(in *inbox) int { return len(in.of(signaling.TypeLive)) }

	publish(30 * time.Second) // a and b are new: once a second
	if n := lives(ab); n < 28 || n > 31 {
		t.Errorf("a new peer heard the edge %d times in 30 s, want one a second", n)
	}
	for _, m := range ab.of(signaling.TypeLive) {
		if err := m.Validate(); err != nil || m.Keyframe > m.Newest || m.Newest >= seq {
			t.Fatalf("live message %+v: %v", m, err)
		}
	}
	na, nb := lives(ab), lives(bb)
	// b's link to c fails three times (the tracker links them again each
	// time): b may reach nobody. a is not concerned.
	for range 3 {
		if tr.byID[b].links[c3] == nil {
			t.Fatal("b and c not linked")
		}
		tr.Drop(b, c3, "ice failed")
	}
	publish(20 * time.Second)
	if n := lives(ab) - na; n < 2 || n > 3 {
		t.Errorf("a settled peer heard the edge %d times in 20 s, want every 10 s", n)
	}
	if n := lives(bb) - nb; n < 19 || n > 21 {
		t.Errorf("a peer whose links keep failing heard the edge %d times in 20 s, want one a second", n)
	}
	if n := lives(ob); n != 0 {
		t.Errorf("the origin heard the edge %d times", n)
	}

	// A stream that stops sends nothing; when it resumes, those due hear
	// the edge at once.
	nb = lives(bb)
	c.t = c.t.Add(5 * time.Second)
	publish(125 * time.Millisecond)
	if lives(bb) != nb+1 {
		t.Errorf("after a pause, b heard %d messages at the first chunk, want 1", lives(bb)-nb)
	}
	// Nonsense from a buggy caller is not passed on.
	tr.Live("s", 5, 6)
	tr.Live("s", 0, 0)
	tr.Live("nope", 5, 5)
	if lives(bb) != nb+1 {
		t.Error("an invalid edge was passed on")
	}
}
