package origin

import (
	"errors"
	"testing"

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

func TestSessionsFlagChunks(t *testing.T) {
	a, _ := signaling.Pipe()
	o, err := New(Config{Stream: "s", Signal: a})
	if err != nil {
		t.Fatal(err)
	}
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
		{"first of a session", false, true, wire.FlagKeyframe | wire.FlagDiscontinuity, 0},
		{"delta", false, false, 0, 1},
		{"keyframe", false, true, wire.FlagKeyframe, 2},
		{"reconnect", true, true, wire.FlagKeyframe | wire.FlagDiscontinuity, 3},
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
