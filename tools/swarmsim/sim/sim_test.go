package sim

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/swarm"
)

// small is a scenario that runs in well under a second.
func small(seed uint64) Scenario {
	return Scenario{
		Seed: seed, Peers: 30, Duration: Duration(40 * time.Second), Ramp: Duration(5 * time.Second),
		Churn: 0.3, NAT: 0.1, Loss: 0.001,
	}
}

func mustRun(t *testing.T, sc Scenario, opt Options) *Report {
	t.Helper()
	r, err := Run(sc, opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func jsonOf(t *testing.T, r *Report) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDeterminism: a seed fixes the run, report and all; another seed
// gives another run.
func TestDeterminism(t *testing.T) {
	a := jsonOf(t, mustRun(t, small(1), Options{}))
	b := jsonOf(t, mustRun(t, small(1), Options{}))
	if !bytes.Equal(a, b) {
		t.Fatalf("two runs of seed 1 differ:\n%s\n---\n%s", a, b)
	}
	c := jsonOf(t, mustRun(t, small(2), Options{}))
	if bytes.Equal(a[bytes.Index(a, []byte(`"simSeconds"`)):], c[bytes.Index(c, []byte(`"simSeconds"`)):]) {
		t.Fatal("seeds 1 and 2 gave the same report")
	}
}

// TestIdealSwarmPlaysEverything: with no loss, no NAT, ample capacity and
// no churn, every viewer plays every chunk from its first one to the end
// exactly once, in order, without stalling, but for the player's catch-up
// jumps, and the engine delivers each chunk at most once. The startup
// buffer (12 chunks, 1.5 s) covers the engine's worst case in such a
// swarm: its origin fallback after FallbackAfter (1.2 s). A viewer whose
// start waited for that is over 1 s past its target behind live, and
// jumps forward in its first 5 s of playback, as player.js would.
func TestIdealSwarmPlaysEverything(t *testing.T) {
	sc := Scenario{Seed: 3, Peers: 40, Duration: Duration(40 * time.Second), Ramp: Duration(5 * time.Second),
		UploadMix: Mix{{1, 20}}, DownloadMult: 40, StartupChunks: 12}
	played := map[int][]uint64{}
	delivered := map[[2]uint64]int{}
	r := mustRun(t, sc, Options{
		OnPlay: func(peer int, seq uint64, _ time.Duration) { played[peer] = append(played[peer], seq) },
		OnDeliver: func(peer int, seq uint64, _ time.Duration, _ bool) {
			delivered[[2]uint64{uint64(peer), seq}]++
		},
	})
	if r.Viewers.Started != sc.Peers {
		t.Errorf("%d of %d viewers started", r.Viewers.Started, sc.Peers)
	}
	for k, n := range delivered {
		if n != 1 {
			t.Errorf("viewer %d got chunk %d delivered %d times", k[0], k[1], n)
		}
	}
	gaps := 0
	for peer, seqs := range played {
		for i := 1; i < len(seqs); i++ {
			switch {
			case seqs[i] <= seqs[i-1]:
				t.Fatalf("viewer %d played %v: not every chunk once in order", peer, seqs)
			case seqs[i] > seqs[i-1]+1:
				gaps++
			}
		}
	}
	if gaps > r.Rebuffering.Jumps { // a jump before a viewer's first chunk leaves no gap
		t.Errorf("%d gaps in what viewers played, %d catch-up jumps: chunks were passed over without a jump", gaps, r.Rebuffering.Jumps)
	}
	t.Logf("%d catch-up jumps, %d of them after a viewer's first chunk", r.Rebuffering.Jumps, gaps)
	if r.Rebuffering.StalledSeconds != 0 || r.Rebuffering.SkippedChunks != 0 {
		t.Errorf("rebuffering %+v, want none", r.Rebuffering)
	}
	if r.Engine.Missed != 0 {
		t.Errorf("engines missed %d chunks", r.Engine.Missed)
	}
}

// TestConservation: every byte put on a link is received, lost for a
// stated reason, or still in flight at the end.
func TestConservation(t *testing.T) {
	for _, tc := range []struct {
		name string
		sc   Scenario
	}{
		{"churn", small(4)},
		{"loss-drop", func() Scenario { sc := small(5); sc.Loss, sc.LossMode = 0.01, "drop"; return sc }()},
		{"tight-http", func() Scenario {
			sc := small(6)
			sc.UploadMix, sc.OriginHTTP = TightMix(), 20_000_000
			return sc
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustRun(t, tc.sc, Options{}).Conservation
			if got := c.Received + c.LostClosed + c.LostSender + c.LostDropped + c.InFlight; got != c.Sent {
				t.Errorf("sent %d, accounted %d: %+v", c.Sent, got, c)
			}
			if got := c.HTTPReceived + c.HTTPLost + c.HTTPInFlight; got != c.HTTPSent {
				t.Errorf("HTTP sent %d, accounted %d: %+v", c.HTTPSent, got, c)
			}
			if c.Sent == 0 || c.Received == 0 {
				t.Errorf("nothing moved: %+v", c)
			}
		})
	}
}

// TestLeavingNeighbourGap: when viewers leave, their neighbours' data
// never stops for longer than the engine's fallback deadline plus a round
// trip (and the chunk interval that separates two deliveries anyway).
func TestLeavingNeighbourGap(t *testing.T) {
	sc := Scenario{Seed: 7, Peers: 40, Duration: Duration(60 * time.Second), Ramp: Duration(5 * time.Second),
		Churn: 1, UploadMix: Mix{{1, 20}}, DownloadMult: 40}
	r := mustRun(t, sc, Options{})
	sc, _ = sc.WithDefaults()
	eng, err := swarm.Config{FallbackAfter: sc.FallbackAfter.D(), Rand: rand.New(rand.NewPCG(1, 2))}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	fallback := eng.FallbackAfter // the scenario's, else the engine's default
	rtt := 2 * time.Duration(sc.LatencyMax)
	bound := fallback + rtt + time.Duration(sc.ChunkInterval) + 100*time.Millisecond // ticks, serialisation
	if r.Viewers.Left < 30 {
		t.Fatalf("only %d viewers left", r.Viewers.Left)
	}
	if got := time.Duration(r.GapMs.Max * float64(time.Millisecond)); got > bound {
		t.Errorf("a surviving viewer went %v without a chunk, want at most %v", got, bound)
	}
	t.Logf("longest gap %v ms (p99 %v ms), bound %v, %d viewers left", r.GapMs.Max, r.GapMs.P99, bound, r.Viewers.Left)
}

// TestSmallScenario runs the default mix with churn, NAT and loss and
// checks that the report hangs together.
func TestSmallScenario(t *testing.T) {
	start := time.Now()
	sc := small(8)
	sc.Duration = Duration(60 * time.Second)
	var s *Sim
	sc, err := sc.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	s = newSim(sc, Options{})
	if err := s.run(); err != nil {
		t.Fatal(err)
	}
	r := s.report()
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("took %v", el)
	}
	if r.Viewers.Joined != 30+9 || r.Viewers.Left != 9 {
		t.Errorf("viewers %+v, want 39 joined and 9 left", r.Viewers)
	}
	if r.LatencyMs.N == 0 || r.StartupMs.N == 0 || r.Offload <= 0 || r.Offload > 1 {
		t.Errorf("implausible report: latency %+v startup %+v offload %v", r.LatencyMs, r.StartupMs, r.Offload)
	}
	if r.Links.NATFailed == 0 {
		t.Error("no NAT failures with nat=0.1")
	}
	// The tracker's view and the simulator's mirror of it agree.
	for _, i := range s.online {
		p := s.peers[i]
		if p.tracked && s.tr.Degree(p.id) != len(p.tnb) {
			t.Errorf("viewer %d: tracker degree %d, mirror %d", i, s.tr.Degree(p.id), len(p.tnb))
		}
	}
	t.Logf("%d events, latency p50 %v ms, offload %v", r.Events, r.LatencyMs.P50, r.Offload)
}

// TestQueueOrder checks the 4-ary heap against sorting.
func TestQueueOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var q queue
	var want []qent
	var seq uint64
	for round := 0; round < 2000; round++ {
		for n := r.IntN(8); n > 0; n-- {
			seq++
			e := qent{at: int64(r.IntN(50)), seq: seq, ev: int32(seq)}
			q.push(e)
			want = append(want, e)
		}
		slices.SortFunc(want, func(a, b qent) int {
			if a.less(b) {
				return -1
			}
			if b.less(a) {
				return 1
			}
			return 0
		})
		for n := r.IntN(6); n > 0 && q.len() > 0; n-- {
			if got := q.pop(); got != want[0] {
				t.Fatalf("pop = %+v, want %+v", got, want[0])
			}
			want = want[1:]
		}
	}
}

func TestScenarioDefaultsAndPresets(t *testing.T) {
	for _, name := range []string{"steady", "tight", "flash", "huge", "isolated"} {
		sc, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sc.WithDefaults(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if m := TightMix().Mean(); m < 1.199 || m > 1.201 {
		t.Errorf("tight mix averages %v, want 1.2", m)
	}
	if _, err := (Scenario{UploadMix: Mix{{0.5, 1}}}).WithDefaults(); err == nil {
		t.Error("a mix whose shares do not add up to 1 was accepted")
	}
	var sc Scenario
	if err := json.Unmarshal([]byte(`{"peers": 5, "duration": "2m", "rate": "3M", "uploadMix": "0.5:1,0.5:2"}`), &sc); err != nil {
		t.Fatal(err)
	}
	if sc.Peers != 5 || sc.Duration.D() != 2*time.Minute || sc.Rate != 3_000_000 || len(sc.UploadMix) != 2 {
		t.Errorf("decoded %+v", sc)
	}
}

// TestIsolatedViewersPlayFromHTTP: viewers that no WebRTC link reaches
// (UDP blocked: every link fails, to the origin too) still play the
// stream from HTTP fallback, predicted from the tracker's "live" messages
// (docs/PROTOCOL.md §3.7), with little rebuffering, while the others keep
// sharing it.
func TestIsolatedViewersPlayFromHTTP(t *testing.T) {
	sc := Scenario{Seed: 9, Peers: 60, Duration: Duration(90 * time.Second), Ramp: Duration(10 * time.Second),
		NAT: 0.1, Isolated: 0.8}
	r := mustRun(t, sc, Options{})
	iso := r.Isolated
	if iso == nil || iso.Viewers < 40 {
		t.Fatalf("isolated viewers: %+v", iso)
	}
	if iso.Started != iso.Viewers {
		t.Errorf("%d of %d isolated viewers started", iso.Started, iso.Viewers)
	}
	if iso.Rebuffering.Ratio > 0.005 || iso.LatencyMs.P99 > 2500 || iso.StartupMs.P95 > 1000 {
		t.Errorf("isolated viewers: rebuffering %v, latency p99 %v ms, startup p95 %v ms; want < 0.5%%, ≤ 2.5 s, ≤ 1 s",
			iso.Rebuffering.Ratio, iso.LatencyMs.P99, iso.StartupMs.P95)
	}
	if r.Payload.FromPeers == 0 {
		t.Error("the connected viewers shared nothing")
	}
	if r.Links.LiveMsgs == 0 || r.Engine.Probes == 0 {
		t.Errorf("%d live messages, %d probes: the isolated viewers did not predict the edge", r.Links.LiveMsgs, r.Engine.Probes)
	}
	t.Logf("isolated: %d viewers, rebuffering %.3f%%, latency p50/p99 %v/%v ms; HTTP failures %d of %d fetches",
		iso.Viewers, iso.Rebuffering.Ratio*100, iso.LatencyMs.P50, iso.LatencyMs.P99, r.Origin.HTTPFailed, r.Origin.HTTPFetches)
}

// TestJoinFollowsTheGOP: joiners start at the newest keyframe the welcome
// names (docs/PROTOCOL.md §3.8), so whatever the keyframe interval the
// first frame comes within a second or two, not after the next keyframe
// (up to 8 s).
func TestJoinFollowsTheGOP(t *testing.T) {
	for _, kf := range []time.Duration{500 * time.Millisecond, 2 * time.Second, 8 * time.Second} {
		t.Run(kf.String(), func(t *testing.T) {
			sc := Scenario{Seed: 5, Peers: 60, Duration: Duration(60 * time.Second), Ramp: Duration(20 * time.Second),
				NAT: 0.1, Churn: 0.3, KeyframeInterval: Duration(kf)}
			r := mustRun(t, sc, Options{})
			if r.Viewers.NeverStarted > 0 {
				t.Errorf("%d viewers never started", r.Viewers.NeverStarted)
			}
			if r.StartupMs.P50 > 700 || r.StartupMs.P95 > 2000 {
				t.Errorf("startup p50 %v ms, p95 %v ms; want ≤ 0.7 s, ≤ 2 s", r.StartupMs.P50, r.StartupMs.P95)
			}
			if r.Rebuffering.Ratio > 0.01 {
				t.Errorf("rebuffering %v", r.Rebuffering.Ratio)
			}
			t.Logf("startup p50/p95/max %v/%v/%v ms, rebuffering %.2f%%, %d catch-up jumps",
				r.StartupMs.P50, r.StartupMs.P95, r.StartupMs.Max, r.Rebuffering.Ratio*100, r.Rebuffering.Jumps)
		})
	}
}

func TestBitrate(t *testing.T) {
	for in, want := range map[string]Bitrate{"2M": 2_000_000, "800k": 800_000, "1.5M": 1_500_000, "64000": 64_000, "2Mbps": 2_000_000, "1G": 1_000_000_000, "0": 0} {
		var r Bitrate
		if err := r.Set(in); err != nil || r != want {
			t.Errorf("%q: %d, %v; want %d", in, r, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1M"} {
		var r Bitrate
		if err := r.Set(in); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}
