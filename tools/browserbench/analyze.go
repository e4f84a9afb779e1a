package main

import (
	"math"
	"slices"
)

// What tabs.mjs reports (see its doc comment); times are epoch ms.

type phaseRaw struct {
	Interrupted bool     `json:"interrupted"`
	StartedAt   float64  `json:"startedAt"`
	EndedAt     float64  `json:"endedAt"`
	Processes   procSnap `json:"processes"`
	ServerPorts int      `json:"serverPorts"`
	Tabs        []tabRaw `json:"tabs"`
}

type procSnap struct {
	Start procInfo `json:"start"`
	End   procInfo `json:"end"`
}

type procInfo struct {
	At        float64 `json:"at"`
	Processes []struct {
		Type string  `json:"type"`
		PID  int     `json:"pid"`
		CPU  float64 `json:"cpu"`
	} `json:"processes"`
	Error string `json:"error,omitempty"`
}

type tabRaw struct {
	Index        int                `json:"index"`
	OpenedAt     float64            `json:"openedAt"`
	ClosedAt     float64            `json:"closedAt"`
	FirstFrameAt *float64           `json:"firstFrameAt"`
	Presented    int                `json:"presented"`
	SkewMs       float64            `json:"skewMs"`
	Frames       []frameSample      `json:"frames"`
	Events       []mediaEvent       `json:"events"`
	Errors       []string           `json:"errors"`
	PCs          []pcRaw            `json:"pcs"`
	Net          map[string]float64 `json:"net"`
	Perf         []perfSample       `json:"perf"`
}

type frameSample struct {
	At   float64   `json:"at"` // expected display time
	MT   float64   `json:"mt"` // media time
	Luma []float64 `json:"luma"`
	App  *float64  `json:"app"` // the player's own latency, seconds
}

type mediaEvent struct {
	T  string  `json:"t"`
	At float64 `json:"at"`
	CT float64 `json:"ct"`
}

type pcRaw struct {
	ID     int     `json:"id"`
	DC     float64 `json:"dc"` // data-channel bytes received
	TR     float64 `json:"tr"` // transport bytes received
	IP     string  `json:"ip"`
	Port   int     `json:"port"`
	State  string  `json:"state"`
	Server *bool   `json:"server"` // nil: never connected
}

type perfSample struct {
	At      float64  `json:"at"`
	CPU     float64  `json:"cpu"`     // renderer ProcessTime, s
	ProcCPU *float64 `json:"procCpu"` // the same from /proc/<pid>/stat, once the pid is known
	Task    float64  `json:"task"`    // TaskDuration, s
	Heap    float64  `json:"heap"`    // JSHeapUsedSize, bytes
	RSS     *float64 `json:"rss"`     // renderer VmRSS, bytes, once the pid is known
	Wasm    *float64 `json:"wasm"`    // Shoal: the wasm peer's memory (all the Go runtime mapped), bytes
	GoHeap  *float64 `json:"goHeap"`  // Shoal: the Go heap's live objects in it, bytes
}

// Settling times: latency is judged from settleLatency after a tab's first
// frame, CPU and heap from settleCPU after it opened (or the second half of
// a shorter life).
const (
	settleLatency = 5_000  // ms
	settleCPU     = 30_000 // ms
	maxLatency    = 60_000 // ms; a later "frame" is a misread counter
)

// tabResult is one tab's figures.
type tabResult struct {
	Index        int                `json:"index"`
	OpenS        float64            `json:"openS"` // since the phase started
	LifeS        float64            `json:"lifeS"`
	FirstFrameMs *float64           `json:"firstFrameMs"` // harness opened the page → first frame displayed
	WatchS       float64            `json:"watchS"`       // first frame → closed
	Stalls       int                `json:"stalls"`
	StalledS     float64            `json:"stalledS"`
	StallRatio   float64            `json:"stallRatio"`
	Seeks        int                `json:"seeks"`
	SeekWaits    int                `json:"seekWaits"` // waits that began during a seek, not stalls
	SeekWaitS    float64            `json:"seekWaitS"`
	Readings     int                `json:"readings"` // frame counter samples after settling
	Misreads     int                `json:"misreads"` // samples whose counter was unreadable or unknown
	LatencyP50   *float64           `json:"latencyP50Ms"`
	LatencyP95   *float64           `json:"latencyP95Ms"`
	AppLatP50    *float64           `json:"appLatencyP50Ms"` // the player's own figure, for comparison
	PeerBytes    float64            `json:"peerBytes"`       // data channels to other browsers
	ServerRTC    float64            `json:"serverRtcBytes"`  // data channels to the server (Shoal's origin)
	HTTPVideo    float64            `json:"httpVideoBytes"`  // video over HTTP (chunks, init, playlists, segments)
	PeerShare    *float64           `json:"peerShare"`       // of video bytes
	Net          map[string]float64 `json:"net"`
	CPUPct       *float64           `json:"cpuPct"`     // renderer, % of one core, steady window
	ProcCPUPct   *float64           `json:"procCpuPct"` // the same from /proc/<pid>/stat, a cross-check
	HeapMB       *float64           `json:"heapMB"`     // JS heap used, median over the steady window
	RSSMB        *float64           `json:"rssMB"`      // renderer resident memory, median over the steady window
	WasmMB       *float64           `json:"wasmMB"`     // Shoal: the wasm peer's memory, median over the steady window
	WasmGrowMB   *float64           `json:"wasmGrowMB"` // Shoal: its change from the steady window's first sample to its last
	Events       []mediaEvent       `json:"events"`
	Perf         [][]float64        `json:"perf"` // [s since open, renderer CPU s, JS heap MB, RSS MB, wasm MB, Go heap MB; -1: unknown]
	Latencies    []float64          `json:"-"`
	AppLatencies []float64          `json:"-"`
	Errors       []string           `json:"errors,omitempty"`
}

// clockLookup is when frame n was made (frameClock.at).
type clockLookup func(n int) (float64, bool)

// analyzeTab computes a tab's figures; t0 is the phase's start.
func analyzeTab(t tabRaw, born clockLookup, t0 float64) tabResult {
	r := tabResult{Index: t.Index, OpenS: (t.OpenedAt - t0) / 1000, LifeS: (t.ClosedAt - t.OpenedAt) / 1000, Net: t.Net, Errors: t.Errors}
	if t.FirstFrameAt != nil {
		ff := *t.FirstFrameAt - t.OpenedAt
		r.FirstFrameMs = &ff
		r.WatchS = (t.ClosedAt - *t.FirstFrameAt) / 1000
		st := stalls(t.Events, *t.FirstFrameAt, t.ClosedAt)
		r.Stalls, r.StalledS, r.Seeks, r.SeekWaits, r.SeekWaitS = st.stalls, st.stalledS, st.seeks, st.seekWaits, st.seekWaitS
		if r.WatchS > 0 {
			r.StallRatio = r.StalledS / r.WatchS
		}
		for _, f := range t.Frames {
			if f.At < *t.FirstFrameAt+settleLatency {
				continue
			}
			r.Readings++
			ms, ok := frameLatency(f, born)
			if !ok {
				r.Misreads++
				continue
			}
			r.Latencies = append(r.Latencies, ms)
			if f.App != nil {
				r.AppLatencies = append(r.AppLatencies, *f.App*1000)
			}
		}
	}
	r.LatencyP50 = percentilePtr(r.Latencies, 50)
	r.LatencyP95 = percentilePtr(r.Latencies, 95)
	r.AppLatP50 = percentilePtr(r.AppLatencies, 50)
	for _, pc := range t.PCs {
		switch {
		case pc.Server == nil:
		case *pc.Server:
			r.ServerRTC += pc.DC
		default:
			r.PeerBytes += pc.DC
		}
	}
	r.HTTPVideo = t.Net["video"]
	if total := r.PeerBytes + r.ServerRTC + r.HTTPVideo; total > 0 {
		s := r.PeerBytes / total
		r.PeerShare = &s
	}
	w := steady(t.Perf, t.OpenedAt, t.ClosedAt)
	r.CPUPct, r.ProcCPUPct, r.HeapMB, r.RSSMB = w.cpuPct, w.procCPUPct, w.heapMB, w.rssMB
	r.WasmMB, r.WasmGrowMB = w.wasmMB, w.wasmGrowMB
	r.Events = t.Events
	mb := func(v *float64) float64 {
		if v == nil {
			return -1
		}
		return round1(*v / (1 << 20))
	}
	for _, p := range t.Perf {
		r.Perf = append(r.Perf, []float64{round1((p.At - t.OpenedAt) / 1000), p.CPU, round1(p.Heap / (1 << 20)), mb(p.RSS), mb(p.Wasm), mb(p.GoHeap)})
	}
	return r
}

// frameLatency is how long after ffmpeg made it the sampled frame was
// displayed; ok is false for a misread or unknown counter.
func frameLatency(f frameSample, born clockLookup) (float64, bool) {
	n, ok := decodeBar(f.Luma)
	if !ok {
		return 0, false
	}
	at, ok := born(n)
	if !ok {
		return 0, false
	}
	ms := f.At - at
	// A frame cannot show before it was made (allow the display-time
	// estimate a little slack), nor a minute later on a live stream.
	if ms < -50 || ms > maxLatency {
		return 0, false
	}
	return ms, true
}

// stallStats is what a tab's media events say about its playback after the
// first frame.
type stallStats struct {
	stalls    int     // "waiting" episodes not started by a seek
	stalledS  float64 // their time
	seeks     int     // "seeking" events (a player's catch-up jumps)
	seekWaits int     // "waiting" episodes started during a seek
	seekWaitS float64 // their time
}

// stalls reads the video element's events after the first frame: an
// episode starts at "waiting" and ends at the next "playing" (or pause, or
// the end of the watch). One that starts between "seeking" and "seeked" is
// the player jumping, counted apart from stalls.
func stalls(events []mediaEvent, firstFrame, end float64) stallStats {
	ev := slices.Clone(events)
	slices.SortStableFunc(ev, func(a, b mediaEvent) int {
		switch {
		case a.At < b.At:
			return -1
		case a.At > b.At:
			return 1
		}
		return 0
	})
	var st stallStats
	in, bySeek, seeking := false, false, false
	var since float64
	stop := func(at float64) {
		if !in {
			return
		}
		if bySeek {
			st.seekWaitS += (at - since) / 1000
		} else {
			st.stalledS += (at - since) / 1000
		}
		in = false
	}
	for _, e := range ev {
		if e.At > end {
			break
		}
		if e.At < firstFrame {
			// Before the first frame, only whether a seek is under way matters.
			switch e.T {
			case "seeking":
				seeking = true
			case "seeked":
				seeking = false
			}
			continue
		}
		switch e.T {
		case "waiting":
			if !in {
				in, bySeek, since = true, seeking, e.At
				if seeking {
					st.seekWaits++
				} else {
					st.stalls++
				}
			}
		case "playing", "pause", "emptied", "ended":
			stop(e.At)
		case "seeking":
			seeking = true
			st.seeks++
		case "seeked":
			seeking = false
		}
	}
	stop(end)
	return st
}

// window is a tab's renderer over its steady window.
type window struct {
	cpuPct, procCPUPct *float64 // % of one core: ProcessTime, and /proc
	heapMB, rssMB      *float64 // medians
	wasmMB, wasmGrowMB *float64 // median, and last - first
}

// steady is the renderer's CPU (% of one core) and median JS heap and RSS
// (MB) over the tab's steady window: from settleCPU after it opened (or
// half its life if shorter) to its last sample.
func steady(perf []perfSample, opened, closed float64) window {
	var w window
	start := opened + min(settleCPU, (closed-opened)/2)
	var win []perfSample
	for _, p := range perf {
		if p.At >= start {
			win = append(win, p)
		}
	}
	if len(win) < 2 {
		return w
	}
	first, last := win[0], win[len(win)-1]
	dt := (last.At - first.At) / 1000
	if dt <= 0 {
		return w
	}
	c := 100 * (last.CPU - first.CPU) / dt
	w.cpuPct = &c
	var heaps, rss, wasm []float64
	var p0, p1 *perfSample
	for i, p := range win {
		heaps = append(heaps, p.Heap/(1<<20))
		if p.RSS != nil {
			rss = append(rss, *p.RSS/(1<<20))
		}
		if p.Wasm != nil {
			wasm = append(wasm, *p.Wasm/(1<<20))
		}
		if p.ProcCPU != nil {
			if p0 == nil {
				p0 = &win[i]
			}
			p1 = &win[i]
		}
	}
	if p0 != nil && p1.At > p0.At {
		c := 100 * (*p1.ProcCPU - *p0.ProcCPU) / ((p1.At - p0.At) / 1000)
		w.procCPUPct = &c
	}
	w.heapMB = percentilePtr(heaps, 50)
	w.rssMB = percentilePtr(rss, 50)
	w.wasmMB = percentilePtr(wasm, 50)
	if len(wasm) > 1 {
		g := wasm[len(wasm)-1] - wasm[0]
		w.wasmGrowMB = &g
	}
	return w
}

// percentile is the nearest-rank p-th percentile of xs (not modified);
// NaN for none.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank-1, 0), len(s)-1)]
}

func percentilePtr(xs []float64, p float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	v := percentile(xs, p)
	return &v
}

// summary is one scenario × system line of the report.
type summary struct {
	Scenario        string   `json:"scenario"`
	System          string   `json:"system"`
	Tabs            int      `json:"tabs"`
	TabsPlaying     int      `json:"tabsPlaying"` // tabs that showed a frame
	FirstFrameP50   *float64 `json:"firstFrameP50Ms"`
	StallRatioMax   float64  `json:"stallRatioMax"`
	StallRatioMed   float64  `json:"stallRatioMedian"`
	Stalls          int      `json:"stalls"`
	Seeks           int      `json:"seeks"`
	SeekWaits       int      `json:"seekWaits"`
	LatencyP50      *float64 `json:"latencyP50Ms"`
	LatencyP95      *float64 `json:"latencyP95Ms"`
	AppLatencyP50   *float64 `json:"appLatencyP50Ms"`
	Readings        int      `json:"readings"`
	Misreads        int      `json:"misreads"`
	PeerShare       *float64 `json:"peerShare"`
	VideoMB         float64  `json:"videoMB"`     // peer + server, all tabs
	AppMBMedian     *float64 `json:"appMBMedian"` // page + wasm over HTTP, per tab
	CPUPctMedian    *float64 `json:"cpuPctMedian"`
	CPUPctMax       *float64 `json:"cpuPctMax"`
	HeapMBMedian    *float64 `json:"heapMBMedian"`
	RSSMBMedian     *float64 `json:"rssMBMedian"`
	WasmMBMedian    *float64 `json:"wasmMBMedian"`
	BrowserCPUPct   *float64 `json:"browserCpuPct"` // every Chromium process, % of one core
	ServerCPUPct    *float64 `json:"serverCpuPct"`  // bin/shoal
	FeedCPUPct      *float64 `json:"feedCpuPct"`    // ffmpeg
	TrackerCPUPct   *float64 `json:"trackerCpuPct"` // the WebTorrent tracker
	LoadAvg         string   `json:"loadAvg"`       // /proc/loadavg at the end of the phase
	DurationS       float64  `json:"durationS"`
	RendererCPUPctT *float64 `json:"rendererCpuPctTotal"` // all renderers, from SystemInfo
}

// summarize aggregates a phase's tabs: latency percentiles over every
// reading of every tab, shares over every byte, the rest over tabs.
func summarize(scenario, system string, tabs []tabResult) summary {
	s := summary{Scenario: scenario, System: system, Tabs: len(tabs)}
	var first, ratios, lat, app, cpu, heap, rss, wasm, appBytes []float64
	var peer, video float64
	for _, t := range tabs {
		if t.FirstFrameMs != nil {
			s.TabsPlaying++
			first = append(first, *t.FirstFrameMs)
			ratios = append(ratios, t.StallRatio)
		}
		s.Stalls += t.Stalls
		s.Seeks += t.Seeks
		s.SeekWaits += t.SeekWaits
		s.Readings += t.Readings
		s.Misreads += t.Misreads
		lat = append(lat, t.Latencies...)
		app = append(app, t.AppLatencies...)
		appBytes = append(appBytes, (t.Net["page"]+t.Net["wasm"])/1e6)
		peer += t.PeerBytes
		video += t.PeerBytes + t.ServerRTC + t.HTTPVideo
		if t.CPUPct != nil {
			cpu = append(cpu, *t.CPUPct)
		}
		if t.HeapMB != nil {
			heap = append(heap, *t.HeapMB)
		}
		if t.RSSMB != nil {
			rss = append(rss, *t.RSSMB)
		}
		if t.WasmMB != nil {
			wasm = append(wasm, *t.WasmMB)
		}
	}
	s.FirstFrameP50 = percentilePtr(first, 50)
	if len(ratios) > 0 {
		s.StallRatioMax = slices.Max(ratios)
		s.StallRatioMed = percentile(ratios, 50)
	}
	s.LatencyP50 = percentilePtr(lat, 50)
	s.LatencyP95 = percentilePtr(lat, 95)
	s.AppLatencyP50 = percentilePtr(app, 50)
	if video > 0 {
		sh := peer / video
		s.PeerShare = &sh
	}
	s.VideoMB = video / 1e6
	s.CPUPctMedian = percentilePtr(cpu, 50)
	s.CPUPctMax = percentilePtr(cpu, 100)
	s.HeapMBMedian = percentilePtr(heap, 50)
	s.RSSMBMedian = percentilePtr(rss, 50)
	s.WasmMBMedian = percentilePtr(wasm, 50)
	s.AppMBMedian = percentilePtr(appBytes, 50)
	return s
}

// browserCPU is the CPU of Chromium's processes between two snapshots, as
// % of one core: all of them, and the renderers alone. A process that
// exited between the snapshots (a closed tab's renderer) is missing from
// the end and so not counted: with churn the figures are lower bounds.
func browserCPU(p procSnap) (all, renderers *float64) {
	dt := (p.End.At - p.Start.At) / 1000
	if dt <= 0 || p.Start.Error != "" || p.End.Error != "" {
		return nil, nil
	}
	start := map[int]float64{}
	for _, q := range p.Start.Processes {
		start[q.PID] = q.CPU
	}
	var a, r float64
	for _, q := range p.End.Processes {
		d := q.CPU - start[q.PID]
		a += d
		if q.Type == "renderer" {
			r += d
		}
	}
	a, r = 100*a/dt, 100*r/dt
	return &a, &r
}
