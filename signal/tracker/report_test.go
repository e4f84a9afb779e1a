package tracker

import (
	"testing"

	"github.com/shoal-live/shoal/shared/signaling"
)

// linked reports whether a and b are neighbours, on both sides.
func linked(tr *Tracker, a, b string) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	ma, mb := tr.byID[a], tr.byID[b]
	return ma != nil && mb != nil && ma.links[b] != nil && mb.links[a] != nil
}

func TestReport(t *testing.T) {
	type step struct {
		reporter, reported int // indexes into the peers; -1 is the origin
	}
	tests := []struct {
		name            string
		steps           []step
		wantCounted     []bool
		wantQuarantined bool // of the last reported peer
	}{
		{"one report unlinks only", []step{{1, 0}}, []bool{true}, false},
		{"same reporter twice counts once", []step{{1, 0}, {1, 0}}, []bool{true, false}, false}, // the second is no longer a neighbour
		{"two distinct reporters quarantine", []step{{1, 0}, {2, 0}}, []bool{true, true}, true},
		{"the origin's word is enough", []step{{-1, 0}}, []bool{true}, true},
		{"the origin is never quarantined", []step{{1, -1}, {2, -1}}, []bool{true, true}, false},
		{"a stranger's report is ignored", []step{{1, 1}}, []bool{false}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Four viewers, all neighbours of each other and of the origin.
			tr := newTracker(Config{Neighbours: 8})
			originID, _ := join(t, tr, "s", true)
			ids := make([]string, 4)
			boxes := make([]*inbox, 4)
			for i := range ids {
				ids[i], boxes[i] = join(t, tr, "s", false)
			}
			id := func(i int) string {
				if i < 0 {
					return originID
				}
				return ids[i]
			}
			var last ReportResult
			for i, st := range tc.steps {
				last = tr.Report(id(st.reporter), id(st.reported), "bad signature")
				if last.Counted != tc.wantCounted[i] {
					t.Fatalf("step %d: Counted = %v, want %v", i, last.Counted, tc.wantCounted[i])
				}
				if last.Counted && linked(tr, id(st.reporter), id(st.reported)) {
					t.Fatalf("step %d: reporter and reported still linked", i)
				}
			}
			reported := id(tc.steps[len(tc.steps)-1].reported)
			if last.Quarantined != tc.wantQuarantined || tr.Quarantined(reported) != tc.wantQuarantined {
				t.Fatalf("quarantined = %v/%v, want %v", last.Quarantined, tr.Quarantined(reported), tc.wantQuarantined)
			}
			if !tc.wantQuarantined {
				return
			}
			if d := tr.Degree(reported); d != 0 {
				t.Fatalf("quarantined peer still has %d neighbours", d)
			}
			if errs := boxes[0].of(signaling.TypeError); len(errs) == 0 || errs[len(errs)-1].Code != signaling.CodeQuarantined {
				t.Fatalf("quarantined peer was not told: %+v", errs)
			}
			// New peers are never introduced to it, and the others were
			// topped up without it.
			for range 20 {
				n, _ := join(t, tr, "s", false)
				if linked(tr, n, reported) {
					t.Fatal("a new peer was introduced to the quarantined peer")
				}
			}
			for _, other := range ids[1:] {
				if linked(tr, other, reported) {
					t.Fatal("an old neighbour is still linked to the quarantined peer")
				}
			}
			// Its signaling goes nowhere, and leaving still works.
			if err := tr.Relay(reported, signaling.Message{Type: signaling.TypeOffer, Peer: ids[1], SDP: "x"}); err == nil {
				t.Fatal("a quarantined peer could relay an offer")
			}
			tr.Leave(reported)
			if tr.Degree(reported) != -1 {
				t.Fatal("Leave did not remove the quarantined peer")
			}
		})
	}
}
