package main

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-live/shoal/tools/honest"
)

func TestSummarizeTab(t *testing.T) {
	ff := 2000.0
	h := harnessTab{
		Index:        1,
		FirstFrameMs: &ff,
		Chunks:       map[string]string{"10": "origin", "11": "peer", "13": "peer", "14": "peer"},
	}
	h.Timeline = []harnessSample{
		{T: 5, Video: &harnessVideo{Decoded: 10, Ranges: 2}},
		{T: 12, Player: &harnessPlayer{Skipped: 1, Stalls: 2, StalledMs: 500, MaxStallMs: 400}},
	}
	got := summarizeTab(h)
	if got.Chunks != 4 || got.First != 10 || got.Last != 14 || got.Lost != 1 {
		t.Errorf("chunks %d (%d..%d) lost %d, want 4 (10..14) lost 1", got.Chunks, got.First, got.Last, got.Lost)
	}
	if got.Skipped != 1 || got.Stalls != 2 || got.MaxRanges != 2 || got.PlayedS != 10 || got.StallRatio != 0.05 {
		t.Errorf("got %+v", got)
	}
}

func TestJudge(t *testing.T) {
	d := 20 * time.Minute
	samples := func(first, last float64) []soakSample {
		var ss []soakSample
		for s := 0.0; s <= d.Seconds(); s += 10 {
			v := first
			if s >= (d - flatWindow).Seconds() {
				v = last
			}
			ss = append(ss, soakSample{T: s, usage: usage{RSSMiB: v, HeapMiB: v}})
		}
		return ss
	}
	for _, tc := range []struct {
		name        string
		first, last float64
		natives     []honest.Result
		tabs        []tabResult
		problems    []string
	}{
		{"flat and whole", 100, 110, []honest.Result{{Chunks: 9000}}, []tabResult{{Chunks: 9000}}, nil},
		{"memory grew", 100, 120, []honest.Result{{Chunks: 9000}}, nil, []string{"RSS (MiB) not flat", "Go heap in use (MiB) not flat"}},
		{"a native lost chunks", 100, 100, []honest.Result{{Chunks: 9000, Lost: 3}}, nil, []string{"native viewer 0 lost 3 chunks"}},
		{"a tab skipped", 100, 100, nil, []tabResult{{Index: 1, Chunks: 9000, Skipped: 2}}, []string{"tab 1 lost 0 chunks"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &soakReport{Samples: samples(tc.first, tc.last), Natives: tc.natives, Tabs: tc.tabs, Survived: true}
			r.judge(d)
			if len(r.Problems) != len(tc.problems) {
				t.Fatalf("problems %q, want %d like %q", r.Problems, len(tc.problems), tc.problems)
			}
			for i, p := range tc.problems {
				if !strings.HasPrefix(r.Problems[i], p) {
					t.Errorf("problem %d: %q, want %q…", i, r.Problems[i], p)
				}
			}
		})
	}
}
