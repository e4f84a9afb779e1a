package tracker

import (
	"errors"
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/signaling"
)

// TestIdleClientsCannotHoldTheOrigin is the idle-links attack (issue #12):
// OriginLinks WebSocket-only clients join first and never open a data
// channel. The origin drops each such link when it times out
// (node.Config.ConnectTimeout), and the tracker must then give its place
// to a viewer that joined later. Before, the origin was never linked to
// anyone again.
func TestIdleClientsCannotHoldTheOrigin(t *testing.T) {
	tests := []struct {
		name  string
		idle  int
		later int
	}{
		{"16 idle, one real viewer", 16, 1},
		{"16 idle, 20 real viewers", 16, 20},
		{"40 idle, 4 real viewers", 40, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(Config{OriginLinks: 16})
			o, _ := join(t, tr, "s", true)
			idle := map[string]bool{}
			for range tc.idle {
				id, _ := join(t, tr, "s", false)
				idle[id] = true
			}
			var real []string
			for range tc.later {
				id, _ := join(t, tr, "s", false)
				real = append(real, id)
			}
			for _, id := range real {
				if linked(tr, id, o) {
					t.Fatalf("a later viewer was linked to the full origin")
				}
			}
			// The origin's idle links time out, one after the other, as
			// its node drops them; it drops the real viewers' never.
			for range 3 {
				tr.mu.Lock()
				var drop []string
				for id := range tr.byID[o].links {
					if idle[id] {
						drop = append(drop, id)
					}
				}
				tr.mu.Unlock()
				for _, id := range drop {
					tr.Drop(o, id, "no data channel within 8s")
				}
			}
			got := 0
			for _, id := range real {
				if linked(tr, id, o) {
					got++
				}
			}
			if want := min(tc.later, 16); got != want {
				t.Fatalf("%d of %d later viewers linked to the origin, want %d", got, tc.later, want)
			}
			if d := tr.Degree(o); d != min(tc.later, 16) {
				t.Fatalf("origin has %d links, want %d: the real viewers only", d, min(tc.later, 16))
			}
			// The idle clients are not linked to it again: a viewer
			// that joins now is linked at once.
			late, _ := join(t, tr, "s", false)
			if tc.later < 16 && !linked(tr, late, o) {
				t.Fatal("a viewer joining after the idle links timed out was not linked to the origin")
			}
		})
	}
	t.Run("a leaving viewer's origin link goes to another", func(t *testing.T) {
		tr := newTracker(Config{OriginLinks: 2})
		o, _ := join(t, tr, "s", true)
		a, _ := join(t, tr, "s", false)
		join(t, tr, "s", false)
		c, _ := join(t, tr, "s", false)
		if linked(tr, c, o) {
			t.Fatal("third viewer linked to a full origin")
		}
		tr.Leave(a)
		if !linked(tr, c, o) || tr.Degree(o) != 2 {
			t.Fatalf("origin not refilled after a viewer left: degree %d", tr.Degree(o))
		}
	})
}

// TestReportFlood is the report attack (issue #12): three peers report
// every neighbour they are given, again and again; each report used to
// top the reporter up with a fresh neighbour to report, and three of them
// got all 20 honest peers quarantined in seconds. Now a reporter can only
// get its neighbours quarantined, ReportBurst reports and then one per
// ReportEvery count, and a report over the rate brings no replacement.
func TestReportFlood(t *testing.T) {
	tests := []struct {
		name     string
		duration time.Duration
		drops    bool // the attackers also drop every neighbour, to be given new ones
	}{
		{"10 s of reports", 10 * time.Second, false},
		{"10 s of reports and drops", 10 * time.Second, true},
		{"2 min of reports and drops", 2 * time.Minute, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{t: time.Unix(1e9, 0)}
			tr := newTracker(Config{Now: clk.now})
			join(t, tr, "s", true)
			var honest []string
			for range 20 {
				id, _ := join(t, tr, "s", false)
				honest = append(honest, id)
			}
			var attackers []string
			for range 3 {
				id, _ := join(t, tr, "s", false)
				attackers = append(attackers, id)
			}
			isAttacker := func(id string) bool {
				for _, a := range attackers {
					if a == id {
						return true
					}
				}
				return false
			}
			counted := 0
			reportedBy := map[string]map[string]bool{} // honest id -> attackers whose report counted
			for start := clk.t; clk.t.Sub(start) < tc.duration; clk.t = clk.t.Add(100 * time.Millisecond) {
				for _, a := range attackers {
					tr.mu.Lock()
					var ns []string
					for id, n := range tr.byID[a].links {
						if !n.origin && !isAttacker(id) {
							ns = append(ns, id)
						}
					}
					tr.mu.Unlock()
					for _, n := range ns {
						if !linked(tr, a, n) {
							continue
						}
						r := tr.Report(a, n, "bad signature")
						if r.Counted {
							counted++
							if reportedBy[n] == nil {
								reportedBy[n] = map[string]bool{}
							}
							reportedBy[n][a] = true
						} else if tc.drops {
							tr.Drop(a, n, "ice failed")
						}
					}
				}
			}
			quarantined := 0
			for _, id := range honest {
				if !tr.Quarantined(id) {
					continue
				}
				quarantined++
				if len(reportedBy[id]) < QuarantineReporters {
					t.Errorf("%s quarantined with %d counted reports from its neighbours", id, len(reportedBy[id]))
				}
			}
			// Each attacker: ReportBurst, then one per ReportEvery.
			perAttacker := 3 + int(tc.duration/(20*time.Second))
			maxQ := 3 * perAttacker / QuarantineReporters
			t.Logf("%d counted reports, %d of 20 honest peers quarantined in %v (bound %d)", counted, quarantined, tc.duration, maxQ)
			if counted > 3*perAttacker {
				t.Errorf("%d reports counted, want at most %d", counted, 3*perAttacker)
			}
			if quarantined > maxQ {
				t.Errorf("%d honest peers quarantined, want at most %d", quarantined, maxQ)
			}
		})
	}
}

// TestQuarantineSaysWhenToRejoin: the quarantined error carries how long
// to wait before joining again (with a fresh id).
func TestQuarantineSaysWhenToRejoin(t *testing.T) {
	tr := newTracker(Config{QuarantineFor: 45 * time.Second})
	o, _ := join(t, tr, "s", true)
	a, ab := join(t, tr, "s", false)
	if r := tr.Report(o, a, "bad signature"); !r.Quarantined {
		t.Fatalf("origin's report: %+v", r)
	}
	errs := ab.of(signaling.TypeError)
	if len(errs) != 1 || errs[0].Code != signaling.CodeQuarantined || errs[0].DurationMs != 45000 {
		t.Fatalf("quarantined peer got %+v, want code %s with durationMs 45000", errs, signaling.CodeQuarantined)
	}
	if err := errs[0].Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestRelayBudgetPerLink: a peer can push at most MaxRelayMessages and
// MaxRelayBytes of offers, answers and candidates to one neighbour over
// one link, however fast it sends; a new link starts a new budget.
func TestRelayBudgetPerLink(t *testing.T) {
	sdp := string(make([]byte, 16<<10))
	tests := []struct {
		name string
		msg  signaling.Message
		want int // relayed before ErrRelayLimit
	}{
		{"largest offers", signaling.Message{Type: signaling.TypeOffer, SDP: sdp}, MaxRelayBytes / (16 << 10)},
		{"small candidates", signaling.Message{Type: signaling.TypeCandidate, Candidate: &signaling.Candidate{Candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host"}}, MaxRelayMessages},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(Config{Neighbours: 1})
			a, _ := join(t, tr, "s", false)
			b, bb := join(t, tr, "s", false)
			send := func() int {
				n := 0
				for range 1000 {
					m := tc.msg
					m.Peer = b
					err := tr.Relay(a, m)
					if errors.Is(err, ErrRelayLimit) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					n++
				}
				return n
			}
			if n := send(); n != tc.want {
				t.Fatalf("relayed %d before the limit, want %d", n, tc.want)
			}
			if got := len(bb.of(tc.msg.Type)); got != tc.want {
				t.Fatalf("b got %d, want %d", got, tc.want)
			}
			tr.Drop(a, b, "ice failed") // the refill links them again: a new budget
			if !linked(tr, a, b) {
				t.Fatal("not linked again")
			}
			if n := send(); n != tc.want {
				t.Fatalf("after a new link: relayed %d, want %d", n, tc.want)
			}
		})
	}
}
