package playmodel

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// The vectors in testdata/vectors.json are shared with player.js's test
// (frontend/test/player.test.mjs): both implementations must make the same
// decisions, or the vector says why the model knowingly does not.

type vectorFile struct {
	IntervalMs int64    `json:"intervalMs"`
	KeyEvery   uint64   `json:"keyEvery"`
	Vectors    []vector `json:"vectors"`
}

type vector struct {
	Name    string `json:"name"`
	Backlog *struct {
		From, To uint64
		AtMs     int64 `json:"atMs"`
	} `json:"backlog"`
	Live *struct {
		From, To uint64
		DelayMs  int64 `json:"delayMs"`
	} `json:"live"`
	Burst *struct {
		From, To uint64
		AtMs     int64 `json:"atMs"`
	} `json:"burst"`
	Lost      []uint64 `json:"lost"`
	UntilMs   int64    `json:"untilMs"`
	Want      []string `json:"want"`
	Divergent *struct {
		Why string   `json:"why"`
		Got []string `json:"got"`
	} `json:"divergent"`
}

type vectorArrival struct {
	seq     uint64
	at, pub int64 // ms
}

// arrivals expands v's arrivals (see the file's about).
func (f vectorFile) arrivals(v vector) []vectorArrival {
	at := map[uint64]int64{}
	if b := v.Backlog; b != nil {
		for k := b.From; k <= b.To; k++ {
			at[k] = b.AtMs
		}
	}
	if l := v.Live; l != nil {
		for k := l.From; k <= l.To; k++ {
			at[k] = int64(k+1)*f.IntervalMs + l.DelayMs
		}
	}
	if b := v.Burst; b != nil {
		for k := b.From; k <= b.To; k++ {
			at[k] = b.AtMs
		}
	}
	for _, k := range v.Lost {
		delete(at, k)
	}
	var out []vectorArrival
	for k, a := range at {
		if a <= v.UntilMs {
			out = append(out, vectorArrival{seq: k, at: a, pub: int64(k+1) * f.IntervalMs})
		}
	}
	// In time order; at one time, newest first (see the file's about).
	slices.SortFunc(out, func(a, b vectorArrival) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(b.seq, a.seq))
	})
	return out
}

// decisions runs the model on v and lists its decisions as the vectors
// spell them.
func (f vectorFile) decisions(v vector) []string {
	var log []string
	var pl *Player
	var last Stats
	var next uint64 // the chunk after the last played
	played := false
	pl = New(Config{Interval: f.IntervalMs * int64(time.Millisecond), OnPlay: func(seq uint64, _, _ int64) {
		s := pl.Stats()
		if !played {
			log = append(log, fmt.Sprintf("join %d", pl.k0))
			next = pl.k0
		}
		skips := s.Skipped - last.Skipped
		if skips > 0 {
			log = append(log, fmt.Sprintf("skip %d-%d", next, next+uint64(skips)-1))
			next += uint64(skips)
		}
		if s.Stalls-last.Stalls-skips > 0 {
			log = append(log, fmt.Sprintf("wait %d", next))
		}
		if s.Jumps > last.Jumps {
			log = append(log, fmt.Sprintf("jump %d", seq))
		}
		if !played || seq != next {
			log = append(log, fmt.Sprintf("play %d", seq))
		}
		played, next, last = true, seq+1, s
	}})
	ms := int64(time.Millisecond)
	for _, a := range f.arrivals(v) {
		pl.Deliver(a.seq, a.at*ms, a.pub*ms, a.seq%f.KeyEvery == 0)
	}
	pl.Finish(v.UntilMs * ms)
	if s := pl.Stats(); s.Stalls > last.Stalls && played {
		log = append(log, fmt.Sprintf("wait %d", next)) // still waiting at the end
	}
	return log
}

func TestVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 || f.IntervalMs <= 0 || f.KeyEvery == 0 {
		t.Fatalf("vectors.json: %d vectors, interval %d ms, keyframe every %d", len(f.Vectors), f.IntervalMs, f.KeyEvery)
	}
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			got := f.decisions(v)
			want := v.Want
			if v.Divergent != nil {
				want = v.Divergent.Got
				t.Logf("known to differ from player.js (%s)", v.Divergent.Why)
			}
			if !slices.Equal(got, want) {
				t.Errorf("decisions\n  %s\nwant\n  %s", strings.Join(got, ", "), strings.Join(want, ", "))
			}
		})
	}
}
