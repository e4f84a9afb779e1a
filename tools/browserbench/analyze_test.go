package main

import (
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	cases := []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{[]float64{5}, 50, 5},
		{[]float64{1, 2, 3, 4}, 50, 2}, // nearest rank: ceil(0.5*4) = 2nd
		{[]float64{4, 3, 2, 1}, 95, 4},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0, 1},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 100, 10},
	}
	for _, c := range cases {
		if got := percentile(c.xs, c.p); got != c.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", c.xs, c.p, got, c.want)
		}
	}
	if !math.IsNaN(percentile(nil, 50)) || percentilePtr(nil, 50) != nil {
		t.Error("no samples must give no percentile")
	}
	xs := []float64{3, 1, 2}
	percentile(xs, 50)
	if xs[0] != 3 {
		t.Error("percentile sorted its input")
	}
}

func ev(t string, at float64) mediaEvent { return mediaEvent{T: t, At: at} }

func TestStalls(t *testing.T) {
	cases := []struct {
		name      string
		events    []mediaEvent
		first     float64
		end       float64
		want      stallStats
		wantRatio float64 // stalledS over (end-first)
	}{
		{
			name:   "start-up waiting is not a stall",
			events: []mediaEvent{ev("play", 100), ev("waiting", 110), ev("playing", 900)},
			first:  1000, end: 11_000,
		},
		{
			name:   "two stalls",
			events: []mediaEvent{ev("waiting", 2000), ev("playing", 2500), ev("waiting", 5000), ev("playing", 6500)},
			first:  1000, end: 11_000,
			want:      stallStats{stalls: 2, stalledS: 2},
			wantRatio: 0.2,
		},
		{
			name:   "a stall still open at the end counts to the end",
			events: []mediaEvent{ev("waiting", 9000)},
			first:  1000, end: 11_000,
			want:      stallStats{stalls: 1, stalledS: 2},
			wantRatio: 0.2,
		},
		{
			name:   "repeated waiting is one stall",
			events: []mediaEvent{ev("waiting", 2000), ev("waiting", 2200), ev("stalled", 2300), ev("playing", 3000)},
			first:  1000, end: 11_000,
			want:      stallStats{stalls: 1, stalledS: 1},
			wantRatio: 0.1,
		},
		{
			name: "a catch-up jump's wait is a seek wait, not a stall",
			events: []mediaEvent{ev("seeking", 4000), ev("waiting", 4000), ev("seeked", 4050), ev("playing", 4050),
				ev("waiting", 7000), ev("playing", 8000)},
			first: 1000, end: 11_000,
			want:      stallStats{stalls: 1, stalledS: 1, seeks: 1, seekWaits: 1, seekWaitS: 0.05},
			wantRatio: 0.1,
		},
		{
			name:   "a seek begun before the first frame still owns its wait",
			events: []mediaEvent{ev("seeking", 900), ev("waiting", 1100), ev("seeked", 1200), ev("playing", 1200)},
			first:  1000, end: 11_000,
			want: stallStats{seekWaits: 1, seekWaitS: 0.1},
		},
		{
			name:   "pause ends a stall; events are sorted first",
			events: []mediaEvent{ev("pause", 3000), ev("waiting", 2000)},
			first:  1000, end: 11_000,
			want:      stallStats{stalls: 1, stalledS: 1},
			wantRatio: 0.1,
		},
		{
			name:   "events after the end are ignored",
			events: []mediaEvent{ev("waiting", 12_000)},
			first:  1000, end: 11_000,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := stalls(c.events, c.first, c.end)
			if got.stalls != c.want.stalls || got.seeks != c.want.seeks || got.seekWaits != c.want.seekWaits ||
				math.Abs(got.stalledS-c.want.stalledS) > 1e-9 || math.Abs(got.seekWaitS-c.want.seekWaitS) > 1e-9 {
				t.Errorf("stalls = %+v, want %+v", got, c.want)
			}
			if ratio := got.stalledS / ((c.end - c.first) / 1000); math.Abs(ratio-c.wantRatio) > 1e-9 {
				t.Errorf("stall ratio %v, want %v", ratio, c.wantRatio)
			}
		})
	}
}

// lumaFor is a clean reading of frame n's counter.
func lumaFor(t *testing.T, n int) []float64 {
	return sample(render(t, n), 0, rand.New(rand.NewPCG(0, 0)))
}

func TestFrameLatency(t *testing.T) {
	born := func(n int) (float64, bool) {
		if n > 1000 {
			return 0, false // not produced (yet)
		}
		return 1e12 + float64(n)*1000/30, true
	}
	cases := []struct {
		name   string
		f      frameSample
		want   float64
		wantOK bool
	}{
		{"frame 300 shown 1.5 s after it was made", frameSample{At: 1e12 + 10_000 + 1500, Luma: lumaFor(t, 300)}, 1500, true},
		{"a frame shown a hair early (display-time estimate)", frameSample{At: 1e12 + 10_000 - 20, Luma: lumaFor(t, 300)}, -20, true},
		{"shown before it was made: a misread", frameSample{At: 1e12 + 10_000 - 500, Luma: lumaFor(t, 300)}, 0, false},
		{"over a minute late: a misread", frameSample{At: 1e12 + 10_000 + 61_000, Luma: lumaFor(t, 300)}, 0, false},
		{"a counter ffmpeg never logged", frameSample{At: 1e12 + 50_000, Luma: lumaFor(t, 5000)}, 0, false},
		{"no counter", frameSample{At: 1e12, Luma: make([]float64, 2*barBits)}, 0, false},
	}
	for _, c := range cases {
		got, ok := frameLatency(c.f, born)
		if ok != c.wantOK || (ok && math.Abs(got-c.want) > 1e-6) {
			t.Errorf("%s: got %v, %v; want %v, %v", c.name, got, ok, c.want, c.wantOK)
		}
	}
}

func TestFrameClock(t *testing.T) {
	var c frameClock
	c.add(0, 10)
	c.add(1, 20)
	c.add(3, 40) // line for frame 2 lost
	if ms, ok := c.at(1); !ok || ms != 20 {
		t.Errorf("at(1) = %v, %v", ms, ok)
	}
	for _, n := range []int{-1, 2, 4} {
		if _, ok := c.at(n); ok {
			t.Errorf("at(%d) known, want unknown", n)
		}
	}
	if c.count() != 4 {
		t.Errorf("count %d, want 4", c.count())
	}
}

func TestReadShowinfo(t *testing.T) {
	stderr := strings.Join([]string{
		"Input #0, lavfi, from 'testsrc=size=640x360:rate=30':",
		"[Parsed_showinfo_41 @ 0x55d0c4a1b2c0] config in time_base: 1/30, frame_rate: 30/1",
		"[Parsed_showinfo_41 @ 0x55d0c4a1b2c0] n:   0 pts:      0 pts_time:0       pos:       -1 fmt:yuv420p sar:1/1 s:640x360 i:P iskey:1 type:I",
		"[Parsed_showinfo_41 @ 0x55d0c4a1b2c0]  color_range:unknown color_space:unknown",
		"[Parsed_showinfo_41 @ 0x55d0c4a1b2c0] n:   1 pts:      1 pts_time:0.0333333 pos:       -1 fmt:yuv420p",
		"[tee @ 0x55d0c4a1b000] Slave muxer #0 failed: Broken pipe, continuing with 1/2 slaves.",
		"[Parsed_showinfo_41 @ 0x55d0c4a1b2c0] n:1234 pts:   1234 pts_time:41.1333 pos:       -1 fmt:yuv420p",
	}, "\n") + "\n"
	var clock frameClock
	var log strings.Builder
	readShowinfo(strings.NewReader(stderr), &clock, 0, &log)
	for _, n := range []int{0, 1, 1234} {
		if _, ok := clock.at(n); !ok {
			t.Errorf("frame %d not timestamped", n)
		}
	}
	var second frameClock // the restart scenario's second encode
	readShowinfo(strings.NewReader(stderr), &second, 1000, io.Discard)
	if _, ok := second.at(1234 + 1000); !ok {
		t.Error("second encode's frame 1234 not timestamped as 2234")
	}
	if _, ok := clock.at(2); ok {
		t.Error("frame 2 timestamped without a line")
	}
	if got := log.String(); !strings.Contains(got, "Input #0") || !strings.Contains(got, "Slave muxer") || strings.Contains(got, "showinfo") {
		t.Errorf("log kept the wrong lines:\n%s", got)
	}
}

func TestSteady(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	var perf []perfSample
	for s := 0; s <= 120; s += 2 {
		// 50% of a core for the first 30 s (start-up), 20% after.
		cpu := 0.5 * float64(min(s, 30))
		if s > 30 {
			cpu += 0.2 * float64(s-30)
		}
		heap := 3.0
		if s == 60 {
			heap = 100 // one outlier: the median ignores it
		}
		// The wasm peer's memory grows by 1 MB a minute: 1.5 MB over the
		// steady window (30-120 s), about 21.25 MB at its middle.
		wasm := 20 + float64(s)/60
		perf = append(perf, perfSample{At: 1e6 + float64(s)*1000, CPU: cpu, ProcCPU: f(cpu), Heap: heap * (1 << 20), RSS: f(300 * (1 << 20)), Wasm: f(wasm * (1 << 20))})
	}
	w := steady(perf, 1e6, 1e6+120_000)
	if w.wasmMB == nil || math.Abs(*w.wasmMB-21.25) > 0.05 || w.wasmGrowMB == nil || math.Abs(*w.wasmGrowMB-1.5) > 1e-9 {
		t.Errorf("wasm %v MB, grew %v MB; want 21.25 and 1.5", deref(w.wasmMB), deref(w.wasmGrowMB))
	}
	if w.cpuPct == nil || math.Abs(*w.cpuPct-20) > 1e-9 {
		t.Errorf("steady CPU %v, want 20%%", deref(w.cpuPct))
	}
	if w.procCPUPct == nil || math.Abs(*w.procCPUPct-20) > 1e-9 {
		t.Errorf("/proc CPU %v, want 20%%", deref(w.procCPUPct))
	}
	if w.heapMB == nil || *w.heapMB != 3 || w.rssMB == nil || *w.rssMB != 300 {
		t.Errorf("heap %v MB, RSS %v MB; want 3 and 300", deref(w.heapMB), deref(w.rssMB))
	}
	// A tab that lived 20 s is judged on its second half.
	w = steady(perf[:11], 1e6, 1e6+20_000)
	if w.cpuPct == nil || math.Abs(*w.cpuPct-50) > 1e-9 {
		t.Errorf("short tab CPU %v, want 50%%", deref(w.cpuPct))
	}
	if w := steady(perf[:1], 1e6, 1e6+2000); w.cpuPct != nil {
		t.Error("one sample gave a CPU figure")
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func TestAnalyzeTabAndSummarize(t *testing.T) {
	born := func(n int) (float64, bool) { return float64(n) * 1000 / 30, true }
	first := 10_000.0
	tab := func(index int, latencyMs float64, server bool) tabRaw {
		// Tab 1's first frame comes as much later as its latency is higher,
		// so that both tabs have as many readings after settling.
		ff := first + latencyMs - 1000
		tr := tabRaw{Index: index, OpenedAt: 8000, ClosedAt: 70_000, FirstFrameAt: &ff,
			Net: map[string]float64{"video": 100, "wasm": 5000},
			PCs: []pcRaw{{DC: 700, Server: &server}, {DC: 200, Server: new(bool)}, {DC: 9999}}}
		for n := 300; n < 2000; n += 8 {
			at := float64(n)*1000/30 + latencyMs
			app := latencyMs/1000 - 0.1
			tr.Frames = append(tr.Frames, frameSample{At: at, Luma: lumaFor(t, n), App: &app})
		}
		tr.Frames = append(tr.Frames, frameSample{At: 30_000, Luma: make([]float64, 2*barBits)}) // a misread
		tr.Events = []mediaEvent{ev("waiting", 20_000), ev("playing", 20_000+(70_000-ff)/10)}    // 10% stalled
		return tr
	}
	a := analyzeTab(tab(0, 1000, true), born, 0)
	b := analyzeTab(tab(1, 3000, false), born, 0)
	if a.FirstFrameMs == nil || *a.FirstFrameMs != 2000 {
		t.Errorf("first frame %v ms, want 2000", deref(a.FirstFrameMs))
	}
	if a.Stalls != 1 || math.Abs(a.StallRatio-0.1) > 1e-9 {
		t.Errorf("tab 0: %d stalls, ratio %v; want 1, 0.1", a.Stalls, a.StallRatio)
	}
	if a.Misreads != 1 || a.LatencyP50 == nil || math.Abs(*a.LatencyP50-1000) > 1e-6 {
		t.Errorf("tab 0: %d misreads, latency p50 %v; want 1, 1000", a.Misreads, deref(a.LatencyP50))
	}
	// Readings before first frame + settleLatency are left out.
	wantReadings := 0
	for _, f := range tab(0, 1000, true).Frames {
		if f.At >= first+settleLatency {
			wantReadings++
		}
	}
	if a.Readings != wantReadings || len(a.Latencies) != wantReadings-1 {
		t.Errorf("tab 0: %d readings, %d latencies; want %d and %d", a.Readings, len(a.Latencies), wantReadings, wantReadings-1)
	}
	if a.ServerRTC != 700 || a.PeerBytes != 200 || a.HTTPVideo != 100 {
		t.Errorf("tab 0 bytes: server %v, peers %v, http %v; want 700, 200, 100 (the unclassified connection ignored)", a.ServerRTC, a.PeerBytes, a.HTTPVideo)
	}
	if a.PeerShare == nil || math.Abs(*a.PeerShare-0.2) > 1e-9 {
		t.Errorf("tab 0 peer share %v, want 0.2", deref(a.PeerShare))
	}
	s := summarize("4tabs", "shoal", []tabResult{a, b})
	if s.TabsPlaying != 2 || s.Stalls != 2 || math.Abs(s.StallRatioMax-0.1) > 1e-9 {
		t.Errorf("summary %+v", s)
	}
	// Half the readings at 1 s, half at 3 s: p50 1 s, p95 3 s.
	if s.LatencyP50 == nil || math.Abs(*s.LatencyP50-1000) > 1e-6 || s.LatencyP95 == nil || math.Abs(*s.LatencyP95-3000) > 1e-6 {
		t.Errorf("latency p50 %v p95 %v, want 1000 and 3000", deref(s.LatencyP50), deref(s.LatencyP95))
	}
	// Peers: 200 + (700+200); everything: 1000 + 1000.
	if s.PeerShare == nil || math.Abs(*s.PeerShare-1100.0/2000) > 1e-9 {
		t.Errorf("summary peer share %v, want 0.55", deref(s.PeerShare))
	}
	if s.AppLatencyP50 == nil || math.Abs(*s.AppLatencyP50-900) > 1e-6 {
		t.Errorf("player's own latency p50 %v, want 900", deref(s.AppLatencyP50))
	}
}

func TestBrowserCPU(t *testing.T) {
	var p procSnap
	p.Start.At, p.End.At = 0, 10_000
	type proc = struct {
		Type string  `json:"type"`
		PID  int     `json:"pid"`
		CPU  float64 `json:"cpu"`
	}
	p.Start.Processes = []proc{{"browser", 1, 1}, {"renderer", 2, 1}, {"renderer", 3, 5}}
	p.End.Processes = []proc{{"browser", 1, 2}, {"renderer", 2, 3}, {"GPU", 4, 1}} // 3 exited, 4 started
	all, rend := browserCPU(p)
	if all == nil || *all != 40 || rend == nil || *rend != 20 {
		t.Errorf("browserCPU = %v, %v; want 40%%, 20%%", deref(all), deref(rend))
	}
}

func TestRestartOutcome(t *testing.T) {
	const start = 1_000_000.0 // phase start, epoch ms
	at := time.UnixMilli(start + 60_000)
	var clock frameClock
	clock.add(restartFrameOffset, start+64_000) // the second encode's first frame
	second := func(n int) []float64 {
		return sample(renderOffset(t, n, restartFrameOffset), 0, rand.New(rand.NewPCG(0, 0)))
	}
	raw := phaseRaw{StartedAt: start, Tabs: []tabRaw{
		{Frames: []frameSample{ // back 7 s after the stop
			{At: start + 59_000, Luma: lumaFor(t, 1700)},
			{At: start + 66_000, Luma: lumaFor(t, 1702)}, // the first encode's last frames, still buffered
			{At: start + 67_000, Luma: second(20)},
		}},
		{Frames: []frameSample{ // never back
			{At: start + 59_000, Luma: lumaFor(t, 1700)},
		}},
	}}
	r := restartOutcome(raw, at, at.Add(2500*time.Millisecond), nil, &clock)
	if r.AtS != 60 || r.DownS != 2.5 || r.NewFeedS == nil || *r.NewFeedS != 4 {
		t.Fatalf("restart at %v s, down %v s, new feed %v: want 60, 2.5, 4", r.AtS, r.DownS, r.NewFeedS)
	}
	if len(r.RecoveredS) != 2 || r.RecoveredS[0] == nil || *r.RecoveredS[0] != 7 || r.RecoveredS[1] != nil {
		t.Fatalf("recovered %v, want [7 s, never]", r.RecoveredS)
	}
	if line := restartLine(*r); !strings.Contains(line, "7.0 s, never") || !strings.Contains(line, "1 of 2 tabs") {
		t.Errorf("report line %q", line)
	}
}
