package origin

import (
	"errors"
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/wire"
)

func TestStoreKeepsTheNewest(t *testing.T) {
	s := NewStore(4)
	if _, ok := s.Get(0); ok {
		t.Fatal("empty store returned a chunk")
	}
	for seq := uint64(0); seq < 10; seq++ {
		s.Put(SyntheticChunk(seq, 0, 32))
	}
	tests := []struct {
		seq  uint64
		want bool
	}{{5, false}, {6, true}, {9, true}, {10, false}, {1 << 60, false}}
	for _, tt := range tests {
		if c, ok := s.Get(tt.seq); ok != tt.want || (ok && c.Seq != tt.seq) {
			t.Errorf("Get(%d) = seq %d, %v; want present=%v", tt.seq, c.Seq, ok, tt.want)
		}
	}
}

var t0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func newOrigin(t *testing.T, cfg Config) *Origin {
	t.Helper()
	a, _ := signaling.Pipe()
	cfg.Stream, cfg.Signal = "s", a
	o, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestSessionsFlagChunks(t *testing.T) {
	o := newOrigin(t, Config{Now: func() time.Time { return t0 }})
	base := uint64(t0.UnixMilli())
	if _, ok := o.Init(); ok {
		t.Fatal("init before any session")
	}
	o.StartSession(`video/mp4; codecs="avc1.64001f"`, []byte("init-1"))
	publish := func(key bool) wire.Chunk {
		t.Helper()
		if err := o.PublishFragment([]byte("frag"), key); err != nil {
			t.Fatal(err)
		}
		n, _ := o.Newest()
		c, _ := o.Chunk(n)
		return c
	}
	steps := []struct {
		name      string
		newInit   bool
		key       bool
		wantFlags uint8
		wantSeq   uint64
	}{
		{"first of a session", false, true, wire.FlagKeyframe | wire.FlagDiscontinuity, base},
		{"delta", false, false, 0, base + 1},
		{"keyframe", false, true, wire.FlagKeyframe, base + 2},
		{"reconnect", true, true, wire.FlagKeyframe | wire.FlagDiscontinuity, base + 3},
	}
	for _, st := range steps {
		if st.newInit {
			o.StartSession(`video/mp4; codecs="avc1.64001f"`, []byte("init-2"))
		}
		c := publish(st.key)
		if c.Flags != st.wantFlags || c.Seq != st.wantSeq {
			t.Errorf("%s: seq %d flags %b, want seq %d flags %b", st.name, c.Seq, c.Flags, st.wantSeq, st.wantFlags)
		}
	}
	if in, _ := o.Init(); in.Generation != 2 || string(in.Data) != "init-2" {
		t.Errorf("init after reconnect: %+v", in)
	}
	if err := o.PublishFragment(make([]byte, wire.MaxPayload+1), true); !errors.Is(err, ErrChunkTooLarge) {
		t.Errorf("oversized fragment: %v", err)
	}
	o.EndSession()
	if o.Live() {
		t.Error("live after EndSession")
	}
}

// TestRestartNumbersAboveTheLastRun: an origin numbers its chunks from its
// start time in milliseconds (docs/PROTOCOL.md §4), so a server restarted
// after a run of any length numbers above everything that run published,
// and its first chunk still says "new session". The numbers stay far below
// 2^53, which JavaScript numbers hold exactly.
func TestRestartNumbersAboveTheLastRun(t *testing.T) {
	for _, run := range []time.Duration{2 * time.Second, time.Hour, 30 * 24 * time.Hour} {
		clock := t0
		first := newOrigin(t, Config{Now: func() time.Time { return clock }})
		first.StartSession("video/mp4", []byte("init"))
		// A run of 125 ms chunks; only the last one matters.
		chunks := uint64(run / (125 * time.Millisecond))
		first.next += chunks - 1
		clock = clock.Add(run)
		if err := first.PublishFragment([]byte("last"), false); err != nil {
			t.Fatal(err)
		}
		last, _ := first.Newest()

		// The restart, a second after the last chunk; the clock may
		// even have stepped back a little.
		clock = clock.Add(time.Second - 500*time.Millisecond)
		second := newOrigin(t, Config{Now: func() time.Time { return clock }})
		second.StartSession("video/mp4", []byte("init"))
		if err := second.PublishFragment([]byte("first"), true); err != nil {
			t.Fatal(err)
		}
		n, _ := second.Newest()
		c, _ := second.Chunk(n)
		if n <= last {
			t.Errorf("run of %v: first chunk after the restart is %d, not above the last run's %d", run, n, last)
		}
		if c.Flags&wire.FlagDiscontinuity == 0 {
			t.Errorf("run of %v: first chunk after the restart not flagged as a discontinuity: %b", run, c.Flags)
		}
		if n >= 1<<53 {
			t.Errorf("seq %d beyond 2^53", n)
		}
	}
}

// TestEdgeFollowsKeyframes: the store knows the newest keyframe chunk, and
// OnPublish hears the edge after every chunk (the tracker's Live).
func TestEdgeFollowsKeyframes(t *testing.T) {
	type heard struct{ newest, keyframe uint64 }
	var got []heard
	o := newOrigin(t, Config{Now: func() time.Time { return t0 }, OnPublish: func(n, k uint64) { got = append(got, heard{n, k}) }})
	if _, _, ok := o.Edge(); ok {
		t.Fatal("edge before any chunk")
	}
	base := uint64(t0.UnixMilli())
	o.StartSession("video/mp4", []byte("init"))
	for _, key := range []bool{true, false, false, true, false} {
		if err := o.PublishFragment([]byte("f"), key); err != nil {
			t.Fatal(err)
		}
	}
	want := []heard{{base, base}, {base + 1, base}, {base + 2, base}, {base + 3, base + 3}, {base + 4, base + 3}}
	if len(got) != len(want) {
		t.Fatalf("OnPublish heard %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("after chunk %d: heard %+v, want %+v", i, got[i], want[i])
		}
	}
	if n, k, ok := o.Edge(); !ok || n != base+4 || k != base+3 {
		t.Errorf("Edge() = %d, %d, %v; want %d, %d, true", n, k, ok, base+4, base+3)
	}
	// A join starts at the newest keyframe, 12 s back at most.
	for _, tc := range []struct{ newest, key, want uint64 }{
		{base + 100, base + 90, base + 90},  // 1.25 s back
		{base + 100, base + 36, base + 36},  // 8 s back
		{base + 200, base + 40, base + 104}, // 20 s back: the bound
		{base + 100, 0, base + 4},           // none known
		{50, 0, 0},
	} {
		if got := JoinPoint(tc.newest, tc.key); got != tc.want {
			t.Errorf("JoinPoint(%d, %d) = %d, want %d", tc.newest, tc.key, got, tc.want)
		}
	}
	// Synthetic chunks carry no keyframe flag: the edge says none.
	s := NewStore(8)
	s.Put(SyntheticChunk(base, 0, 32))
	if _, k, _ := s.Edge(); k != 0 {
		t.Errorf("keyframe %d in a stream without keyframes", k)
	}
}
