package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"text/tabwriter"

	"github.com/shoal-live/shoal/tools/swarmsim/hist"
	"github.com/shoal-live/shoal/tools/swarmsim/playmodel"
)

// Report is what a run measured. Its field names follow the simulator's
// report (tools/swarmsim/sim/report.go) where the figure means the same,
// so that the two JSON files compare field by field.
type Report struct {
	Scenario Scenario `json:"scenario"`
	// Seconds is the measured time: from the first viewer's start to the
	// end of the run.
	Seconds float64 `json:"seconds"`
	// EngineCommit is the VCS revision the binary was built from, with
	// "+dirty" when the working tree had changes.
	EngineCommit string `json:"engineCommit,omitempty"`

	Viewers ViewerCounts `json:"viewers"`
	// StartupMs is viewer start (before dialling the tracker) → first chunk
	// played by the model player.
	StartupMs Dist `json:"startupMs"`
	// LatencyMs is play time − the chunk's timestamp (the origin's clock
	// when it cut the chunk), per chunk played by the model player.
	LatencyMs Dist `json:"latencyMs"`
	// DeliveryLatencyMs is delivery time − the chunk's timestamp, per
	// chunk the node delivered (including the few old chunks a joining
	// viewer starts with).
	DeliveryLatencyMs Dist        `json:"deliveryLatencyMs"`
	Rebuffering       Rebuffering `json:"rebuffering"`
	// Offload is the share of payload bytes delivered to viewers that
	// other viewers sent (the origin's pushes and HTTP are not offloaded).
	Offload float64 `json:"offload"`
	Payload Payload `json:"payload"`
	// ControlOverhead is every byte on the loopback interface that is not
	// chunk payload (all headers from IP up, SCTP acknowledgements, ICE,
	// DTLS, control messages, signaling, HTTP), per payload byte. Only
	// measured inside an isolated network namespace (tools/scripts/netns.sh),
	// where the run's traffic is all the interface carries.
	ControlOverhead *float64 `json:"controlOverhead"`
	Loopback        Loopback `json:"loopback"`
	// DuplicateRatio is Stats.Duplicates / Stats.Chunks over all viewers.
	DuplicateRatio float64 `json:"duplicateRatio"`
	Origin         Origin  `json:"origin"`
	// UploadMbps is each viewer's payload upload (Stats.Uploaded) over its
	// time online; UploadRate the same as a multiple of the stream rate.
	UploadMbps Dist         `json:"uploadMbps"`
	UploadRate Dist         `json:"uploadRate"`
	Engine     EngineTotals `json:"engine"`
	// GapMs is the longest time between two deliveries after playback
	// started, at viewers still online at the end.
	GapMs  GapDist  `json:"gapMs"`
	Series []Sample `json:"series"`
	Perf   Perf     `json:"perf"`
}

// Scenario is the run's settings.
type Scenario struct {
	Peers         int     `json:"peers"`
	Duration      string  `json:"duration"`
	Ramp          string  `json:"ramp"`
	Churn         float64 `json:"churn"`
	Seed          uint64  `json:"seed"`
	Source        string  `json:"source"` // "synthetic" or "ffmpeg"
	Rate          int64   `json:"rate"`   // bits per second
	ChunkInterval string  `json:"chunkInterval"`
	ChunkBytes    int     `json:"chunkBytes,omitempty"` // synthetic
	StartupChunks int     `json:"startupChunks"`
	Neighbours    int     `json:"neighbours"`
	OriginLinks   int     `json:"originLinks"`
	OriginCopies  float64 `json:"originCopies,omitempty"` // 0: the server's default
	Upload        float64 `json:"upload,omitempty"`       // 0: shared/node's default
}

// ViewerCounts counts viewers.
type ViewerCounts struct {
	Joined       int `json:"joined"`
	Left         int `json:"left"`
	Online       int `json:"online"`  // at the end
	Started      int `json:"started"` // began playback
	NeverStarted int `json:"neverStarted"`
	NoChunks     int `json:"noChunks"` // never got a chunk
	Errors       int `json:"errors"`   // node.Run failed (signaling lost, join refused)
}

// Dist summarises a distribution.
type Dist = hist.Dist

// Rebuffering sums the model players' stalls.
type Rebuffering = playmodel.Rebuffering

// Payload counts chunk payload bytes delivered to viewers, by source.
type Payload struct {
	FromPeers      int64 `json:"fromPeers"`
	FromOriginPush int64 `json:"fromOriginPush"`
	FromOriginHTTP int64 `json:"fromOriginHTTP"`
}

// Loopback is what the lo interface carried during the measured time.
type Loopback struct {
	Isolated bool  `json:"isolated"` // only lo in this network namespace
	Bytes    int64 `json:"bytes"`    // IP bytes transmitted
	Packets  int64 `json:"packets"`
	// PayloadBytes is the chunk payload put on the wire: every delivered
	// chunk plus every duplicate (at the mean chunk size).
	PayloadBytes int64 `json:"payloadBytes"`
	// UDP counts datagrams in the namespace (WebRTC's transport); with
	// Isolated, all of them are the run's.
	UDP udpCounters `json:"udp"`
}

// Origin is the origin's load.
type Origin struct {
	// PushRate is the origin's data-channel payload (as received by
	// viewers) as a multiple of the stream rate.
	PushRate     float64 `json:"pushRate"`
	HTTPFetches  int     `json:"httpFetches"`
	HTTPFailed   int     `json:"httpFailed"`
	HTTPBytes    int64   `json:"httpBytes"` // response bodies (wire frames)
	HTTPMeanMbps float64 `json:"httpMeanMbps"`
}

// EngineTotals sums the viewers' node.Stats.
type EngineTotals struct {
	Chunks     int `json:"chunks"`
	Duplicates int `json:"duplicates"`
	Pushed     int `json:"pushed"` // chunks that arrived pushed by a stripe parent
	// The stripe trees' churn, summed over viewers (swarm.Stats).
	Refused       int `json:"refused"`
	ParentChanges int `json:"parentChanges"`
	Preempted     int `json:"preempted"`
	Refusals      int `json:"refusals"`
	Orphaned      int `json:"orphaned"`
	Starved       int `json:"starved"`
	Loops         int `json:"loops"`
	Unanswered    int `json:"unanswered"`
	Requests      int `json:"requests"`
	Fetches       int `json:"fetches"`
	Missed        int `json:"missed"`
	Dropped       int `json:"dropped"`
	SendDropped   int `json:"sendDropped"`
	BadMessages   int `json:"badMessages"`
	InboxDropped  int `json:"inboxDropped"`
	// VerifyFailures counts chunks that failed signature checks; DeliveredBad
	// chunks delivered unverified (must be 0).
	VerifyFailures int `json:"verifyFailures"`
	DeliveredBad   int `json:"deliveredBad"`
}

// GapDist is the per-viewer longest delivery gap.
type GapDist struct {
	Max float64 `json:"max"`
	P99 float64 `json:"p99"`
	P50 float64 `json:"p50"`
}

// Sample is one bucket of the time series.
type Sample struct {
	T         float64 `json:"t"` // bucket start, seconds
	Offload   float64 `json:"offload"`
	Viewers   int     `json:"viewers"`
	LatencyMs float64 `json:"latencyMs"` // mean over chunks played
	UDPDrops  int64   `json:"udpDrops"`  // datagrams dropped on a full receive buffer
}

// Perf is how the run went on this machine.
type Perf struct {
	WallSeconds float64 `json:"wallSeconds"`
	// CPUCores is this process's user+system CPU time over the measured
	// time: the server, the origin and every viewer (ffmpeg not included).
	CPUCores float64 `json:"cpuCores"`
	NumCPU   int     `json:"numCPU"`
	// LoadAvg is the machine's 1-minute load average at the start and the
	// end: other work on the machine competes with the peers for CPU.
	LoadAvg [2]float64 `json:"loadAvg"`
	// SchedLagMs is how late a goroutine sleeping 20 ms at a time woke
	// (beyond the 20 ms): wake-up latency. The kernel favours a thread that
	// mostly sleeps, so this stays small on a crowded machine while busy
	// goroutines get little CPU; CPUCores and LoadAvg show that.
	SchedLagMs Dist   `json:"schedLagMs"`
	Goroutines int    `json:"peakGoroutines"`
	GoVersion  string `json:"goVersion"`
}

// distOf summarises sorted values, scaled by k.
func distOf(sorted []float64) Dist {
	if len(sorted) == 0 {
		return Dist{}
	}
	var sum float64
	for _, v := range sorted {
		sum += v
	}
	return Dist{N: int64(len(sorted)), Mean: round(sum / float64(len(sorted))),
		P50: round(pick(sorted, .5)), P90: round(pick(sorted, .9)), P95: round(pick(sorted, .95)),
		P99: round(pick(sorted, .99)), Max: round(sorted[len(sorted)-1])}
}

func nsToMs(ns []int64) []float64 {
	out := make([]float64, len(ns))
	for i, v := range ns {
		out[i] = float64(v) / 1e6
	}
	slices.Sort(out)
	return out
}

func pick(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return round(float64(a) / float64(b))
}

// round keeps six significant digits, so reports read and diff well.
func round(f float64) float64 { return hist.Round(f) }

// writeTable prints the report's headline figures in the simulator's
// layout, with the engine issue's targets beside them.
func writeTable(w io.Writer, r *Report) {
	sc := r.Scenario
	fmt.Fprintf(w, "swarmload: %d viewers (churn %.0f%%), %s source at %s, chunk every %s, %s (ramp %s), real server + pion peers on loopback, engine %s\n",
		sc.Peers, sc.Churn*100, sc.Source, rateString(sc.Rate), sc.ChunkInterval, sc.Duration, sc.Ramp, orUnknown(r.EngineCommit))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(metric, value, target string) { fmt.Fprintf(tw, "  %s\t%s\t%s\n", metric, value, target) }
	row("metric", "value", "target")
	row("latency behind live p50 / p95 / p99", fmt.Sprintf("%.0f / %.0f / %.0f ms", r.LatencyMs.P50, r.LatencyMs.P95, r.LatencyMs.P99), "≤ 2000 / ≤ 3000 ms")
	row("latency at delivery p50 / p95 / p99", fmt.Sprintf("%.0f / %.0f / %.0f ms", r.DeliveryLatencyMs.P50, r.DeliveryLatencyMs.P95, r.DeliveryLatencyMs.P99), "")
	row("startup p50 / p95 / max", fmt.Sprintf("%.0f / %.0f / %.0f ms", r.StartupMs.P50, r.StartupMs.P95, r.StartupMs.Max), "≤ 1500 ms")
	row("rebuffering ratio", pct(r.Rebuffering.Ratio), "< 0.5%")
	row("viewers who stalled", fmt.Sprintf("%d of %d (%d stalls, %d chunks skipped)", r.Rebuffering.ViewersStalled, r.Viewers.Started, r.Rebuffering.Stalls, r.Rebuffering.SkippedChunks), "")
	row("offload", pct(r.Offload), "≥ 99%")
	overhead := "n/a (run inside tools/scripts/netns.sh)"
	if r.ControlOverhead != nil {
		overhead = pct(*r.ControlOverhead) + " (all loopback bytes)"
		if sc.Source == "ffmpeg" {
			overhead += ", includes the RTMP ingest"
		}
	}
	row("control overhead", overhead, "< 3%")
	row("duplicate chunks", pct(r.DuplicateRatio), "")
	row("origin push upload", fmt.Sprintf("%.2fx the stream rate", r.Origin.PushRate), "")
	row("origin HTTP fallback", fmt.Sprintf("%.1f MB, %d fetches (%d failed), mean %.2f Mbit/s", float64(r.Origin.HTTPBytes)/1e6, r.Origin.HTTPFetches, r.Origin.HTTPFailed, r.Origin.HTTPMeanMbps), "")
	row("upload per viewer p50 / p95 / max", fmt.Sprintf("%.2f / %.2f / %.2f x the stream rate (mean %.2f)", r.UploadRate.P50, r.UploadRate.P95, r.UploadRate.Max, r.UploadRate.Mean), "")
	row("longest delivery gap p50 / p99 / max", fmt.Sprintf("%.0f / %.0f / %.0f ms", r.GapMs.P50, r.GapMs.P99, r.GapMs.Max), "")
	row("viewers joined / left / never started / errors", fmt.Sprintf("%d / %d / %d / %d", r.Viewers.Joined, r.Viewers.Left, r.Viewers.NeverStarted, r.Viewers.Errors), "")
	row("chunks pushed by a stripe parent", pct(ratio(int64(r.Engine.Pushed), int64(r.Engine.Chunks))), "")
	row("parent changes / starved / orphaned / unanswered", fmt.Sprintf("%d / %d / %d / %d", r.Engine.ParentChanges, r.Engine.Starved, r.Engine.Orphaned, r.Engine.Unanswered), "")
	row("requests / fetches / missed / send-dropped", fmt.Sprintf("%d / %d / %d / %d", r.Engine.Requests, r.Engine.Fetches, r.Engine.Missed, r.Engine.SendDropped), "")
	row("loopback traffic", fmt.Sprintf("%.1f MB in %d packets (payload %.1f MB)", float64(r.Loopback.Bytes)/1e6, r.Loopback.Packets, float64(r.Loopback.PayloadBytes)/1e6), "")
	row("UDP datagrams received / dropped (receive buffer full)", fmt.Sprintf("%d / %d", r.Loopback.UDP.InDatagrams, r.Loopback.UDP.RcvbufErrors), "")
	row("CPU", fmt.Sprintf("%.2f of %d cores, peak %d goroutines, load average %.1f → %.1f", r.Perf.CPUCores, r.Perf.NumCPU, r.Perf.Goroutines, r.Perf.LoadAvg[0], r.Perf.LoadAvg[1]), "")
	row("scheduling lag p50 / p99 / max", fmt.Sprintf("%.1f / %.1f / %.1f ms", r.Perf.SchedLagMs.P50, r.Perf.SchedLagMs.P99, r.Perf.SchedLagMs.Max), "")
	tw.Flush()
}

func pct(f float64) string { return fmt.Sprintf("%.2f%%", f*100) }

func orUnknown(s string) string {
	if s == "" {
		return "(unknown commit)"
	}
	return s
}

func rateString(bps int64) string {
	switch {
	case bps%1_000_000 == 0:
		return strconv.FormatInt(bps/1_000_000, 10) + " Mbit/s"
	case bps%1000 == 0:
		return strconv.FormatInt(bps/1000, 10) + " kbit/s"
	}
	return strconv.FormatInt(bps, 10) + " bit/s"
}
