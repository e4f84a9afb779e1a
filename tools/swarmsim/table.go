package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/shoal-live/shoal/tools/swarmsim/sim"
)

// writeTable prints the report's headline figures, with the targets from
// the engine issue beside them.
func writeTable(w io.Writer, r *sim.Report, p perf) {
	sc := r.Scenario
	fmt.Fprintf(w, "scenario %s: %d viewers (+%d flash, churn %.0f%%), %s at %s, %s simulated, seed %d, upload mix %s (mean %.2fx), NAT %.0f%%, isolated %.0f%%, loss %g, keyframes every %s\n",
		name(sc.Name), sc.Peers, sc.Flash, sc.Churn*100, sc.Duration, sc.Rate, sc.Duration, sc.Seed,
		sc.UploadMix, sc.UploadMix.Mean(), sc.NAT*100, sc.Isolated*100, sc.Loss, sc.KeyframeInterval)
	if r.Truncated {
		fmt.Fprintf(w, "TRUNCATED by -max-wall at %.1f s of simulated time: the figures cover only that\n", r.SimSeconds)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(metric, value, target string) { fmt.Fprintf(tw, "  %s\t%s\t%s\n", metric, value, target) }
	row("metric", "value", "target")
	row("latency behind live p50 / p95 / p99", fmt.Sprintf("%.0f / %.0f / %.0f ms", r.LatencyMs.P50, r.LatencyMs.P95, r.LatencyMs.P99), "≤ 2000 / ≤ 3000 ms")
	row("startup p50 / p95 / max", fmt.Sprintf("%.0f / %.0f / %.0f ms", r.StartupMs.P50, r.StartupMs.P95, r.StartupMs.Max), "≤ 1500 ms")
	row("rebuffering ratio", pct(r.Rebuffering.Ratio), "< 0.5%")
	row("viewers who stalled", fmt.Sprintf("%d of %d (%d stalls, %d chunks skipped, %d catch-up jumps)", r.Rebuffering.ViewersStalled, r.Viewers.Started, r.Rebuffering.Stalls, r.Rebuffering.SkippedChunks, r.Rebuffering.Jumps), "")
	row("offload", pct(r.Offload), "≥ 99%")
	row("control overhead", pct(r.ControlOverhead), "< 3%")
	row("duplicate chunks", pct(r.DuplicateRatio), "")
	row("origin push upload", fmt.Sprintf("%.1f MB (%s of its cap)", float64(r.Origin.UploadBytes)/1e6, pct(r.Origin.UploadUtilisation)), "")
	row("origin HTTP fallback", fmt.Sprintf("%.1f MB, %d fetches (%d failed), mean %.1f / peak %.1f Mbit/s", float64(r.Origin.HTTPBytes)/1e6, r.Origin.HTTPFetches, r.Origin.HTTPFailed, r.Origin.HTTPMeanMbps, r.Origin.HTTPPeakMbps), "")
	for _, c := range r.Upload {
		row(fmt.Sprintf("upload use, %gx class (%.0f%%)", c.Mult, c.Share*100), fmt.Sprintf("%s of %d viewers' capacity", pct(c.Utilisation), c.Viewers), "")
	}
	if iso := r.Isolated; iso != nil {
		row("isolated viewers (no WebRTC link)", fmt.Sprintf("%d finished, %d started", iso.Viewers, iso.Started), "")
		row("  their latency p50 / p95 / p99", fmt.Sprintf("%.0f / %.0f / %.0f ms", iso.LatencyMs.P50, iso.LatencyMs.P95, iso.LatencyMs.P99), "")
		row("  their startup p50 / p95 / max", fmt.Sprintf("%.0f / %.0f / %.0f ms", iso.StartupMs.P50, iso.StartupMs.P95, iso.StartupMs.Max), "")
		row("  their rebuffering", fmt.Sprintf("%s (%d of %d stalled, %d stalls)", pct(iso.Rebuffering.Ratio), iso.Rebuffering.ViewersStalled, iso.Started, iso.Rebuffering.Stalls), "")
	}
	row("longest delivery gap p50 / p99 / max", fmt.Sprintf("%.0f / %.0f / %.0f ms", r.GapMs.P50, r.GapMs.P99, r.GapMs.Max), "")
	row("viewers joined / left / never started", fmt.Sprintf("%d / %d / %d", r.Viewers.Joined, r.Viewers.Left, r.Viewers.NeverStarted), "")
	row("links opened / NAT-failed / drops", fmt.Sprintf("%d / %d / %d", r.Links.Opened, r.Links.NATFailed, r.Links.Drops), "")
	row("requests / fetches (probes) / missed / send-dropped", fmt.Sprintf("%d / %d (%d) / %d / %d", r.Engine.Requests, r.Engine.Fetches, r.Engine.Probes, r.Engine.Missed, r.Engine.SendDropped), "")
	row("signaling messages (live)", fmt.Sprintf("%d (%d)", r.Links.SignalingMsgs, r.Links.LiveMsgs), "")
	row("wall time", fmt.Sprintf("%.1f s, %d events, %.2fM events/s", p.WallSeconds, r.Events, p.EventsPerSec/1e6), "")
	tw.Flush()
}

func name(s string) string {
	if s == "" {
		return "custom"
	}
	return s
}

func pct(f float64) string { return fmt.Sprintf("%.2f%%", f*100) }
