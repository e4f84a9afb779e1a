package main

import (
	"fmt"
	"strings"
	"time"
)

// hlsConfigDoc says how the comparison page sets hls.js and
// p2p-media-loader up (page/hls-page.js); it goes into the report.
func hlsConfigDoc(sync int, highDemand time.Duration) string {
	hd := "its default highDemandTimeWindow (15 s)"
	if highDemand > 0 {
		hd = fmt.Sprintf("highDemandTimeWindow %v", highDemand.Seconds())
	}
	return fmt.Sprintf("hls.js 1.7.4 {lowLatencyMode: true, liveSyncDurationCount: %d, liveMaxLatencyDurationCount: %d, maxLiveSyncPlaybackRate: 1.1, backBufferLength: 30}; "+
		"p2p-media-loader-hlsjs 2.3.1 with its defaults but announceTrackers (a local bittorrent-tracker 11.2.3 over WebSocket), rtcConfig {iceServers: []}, swarmId, and %s", sync, sync+3, hd)
}

var systemNames = map[string]string{"shoal": "Shoal", "hls": "hls.js + p2p-media-loader"}

// markdown is the report as tables ready for docs/BENCHMARKS.md.
func markdown(r report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Browser benchmark, %s (harness at commit %s), %s per scenario and system, keyframe every %s; Shoal: %s.\n\n",
		r.Started.Format("2006-01-02 15:04"), r.Commit, r.Duration, r.Keyint, r.ShoalBin)
	if r.BlockWebRTC {
		b.WriteString("**WebRTC blocked** (`-block-webrtc`): no data channel can open (the tabs gather no loopback ICE candidate, the server offers none), as for a viewer whose network blocks WebRTC: every tab plays from HTTP.\n\n")
	}
	fmt.Fprintf(&b, "Machine load: at start `%s`; at end `%s`.\n\n", r.UptimeStart, r.UptimeEnd)
	if r.Interrupted {
		b.WriteString("**Interrupted**: the phases below are the ones that ran.\n\n")
	}
	b.WriteString("| scenario | system | tabs | first frame p50 | stall ratio max / median | stalls | latency p50 / p95 | from peers | renderer CPU per tab (median / max) | JS heap / wasm peer / renderer RSS (medians) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range r.Phases {
		s := p.Summary
		if p.Error != "" && len(p.Tabs) == 0 {
			fmt.Fprintf(&b, "| %s | %s | failed: %s |||||||\n", p.Scenario, systemNames[p.System], strings.ReplaceAll(p.Error, "|", "/"))
			continue
		}
		tabs := fmt.Sprint(s.Tabs)
		if s.TabsPlaying != s.Tabs {
			tabs = fmt.Sprintf("%d (%d played)", s.Tabs, s.TabsPlaying)
		}
		scen := s.Scenario
		if p.Error != "" {
			scen += " (" + p.Error + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s / %s | %d | %s / %s | %s | %s / %s | %s / %s / %s |\n",
			scen, systemNames[s.System], tabs, secs(s.FirstFrameP50),
			pct(&s.StallRatioMax), pct(&s.StallRatioMed), s.Stalls,
			secs(s.LatencyP50), secs(s.LatencyP95), pct(s.PeerShare),
			cpu(s.CPUPctMedian), cpu(s.CPUPctMax), mb(s.HeapMBMedian), mb(s.WasmMBMedian), mb(s.RSSMBMedian))
	}
	b.WriteString("\nChecks and context: frame-counter readings after settling (misread or unknown), the players' own latency figure " +
		"(Shoal: `window.__shoal.player.latency`; hls.js: `hls.latency`) beside the burnt-in one, seeks (and the waits they caused, not counted as stalls), " +
		"video bytes received by all tabs, what a tab loads to start (page and wasm over HTTP), " +
		"and CPU over the phase as % of one core: every Chromium process, bin/shoal, ffmpeg, the tracker.\n\n")
	b.WriteString("| scenario | system | readings (misread) | latency p50: burnt-in / player's own | seeks (waits) | video received | page + wasm per tab | Chromium CPU | shoal | ffmpeg | tracker | load average at end |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range r.Phases {
		if p.Error != "" && len(p.Tabs) == 0 {
			continue
		}
		s := p.Summary
		fmt.Fprintf(&b, "| %s | %s | %d (%d) | %s / %s | %d (%d) | %.0f MB | %s | %s | %s | %s | %s | %s |\n",
			s.Scenario, systemNames[s.System], s.Readings, s.Misreads, secs(s.LatencyP50), secs(s.AppLatencyP50), s.Seeks, s.SeekWaits,
			s.VideoMB, mbDec(s.AppMBMedian), cpu(s.BrowserCPUPct), cpu(s.ServerCPUPct), cpu(s.FeedCPUPct), cpu(s.TrackerCPUPct), s.LoadAvg)
	}
	for _, p := range r.Phases {
		if p.Restart != nil {
			b.WriteString("\n" + restartLine(*p.Restart) + "\n")
		}
	}
	fmt.Fprintf(&b, "\nThe hls.js page: %s.\n", r.HLSConfig)
	return b.String()
}

// restartLine says how the restart scenario's tabs came back.
func restartLine(r restartResult) string {
	if r.Error != "" && r.AtS == 0 {
		return "Restart: " + r.Error + "."
	}
	back := make([]string, len(r.RecoveredS))
	playing := 0
	for i, v := range r.RecoveredS {
		back[i] = "never"
		if v != nil {
			back[i] = fmt.Sprintf("%.1f s", *v)
			playing++
		}
	}
	line := fmt.Sprintf("Restart: the server was stopped (SIGTERM) %.0f s into the phase and answered again %.1f s later; "+
		"the second encode's first frame %s after the stop; each tab showed it (no reload) %s after the stop: %d of %d tabs playing again.",
		r.AtS, r.DownS, secs(msPtr(r.NewFeedS)), strings.Join(back, ", "), playing, len(r.RecoveredS))
	if r.Error != "" {
		line += " Error: " + r.Error + "."
	}
	return line
}

// msPtr turns seconds into the milliseconds secs prints.
func msPtr(s *float64) *float64 {
	if s == nil {
		return nil
	}
	v := *s * 1000
	return &v
}

// oneLine is a phase's summary for the progress log.
func oneLine(s summary) string {
	return fmt.Sprintf("%s × %s: %d/%d tabs played, first frame p50 %s, latency p50 %s p95 %s (player's own %s), stall ratio max %s, %d stalls, from peers %s, CPU/tab %s, heap %s, wasm %s, RSS %s",
		s.Scenario, s.System, s.TabsPlaying, s.Tabs, secs(s.FirstFrameP50), secs(s.LatencyP50), secs(s.LatencyP95), secs(s.AppLatencyP50),
		pct(&s.StallRatioMax), s.Stalls, pct(s.PeerShare), cpu(s.CPUPctMedian), mb(s.HeapMBMedian), mb(s.WasmMBMedian), mb(s.RSSMBMedian))
}

// secs formats milliseconds as seconds.
func secs(ms *float64) string {
	if ms == nil {
		return "—"
	}
	return fmt.Sprintf("%.2f s", *ms/1000)
}

func pct(f *float64) string {
	if f == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100**f)
}

func cpu(p *float64) string {
	if p == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", *p)
}

// mbDec formats decimal megabytes (of transfer).
func mbDec(m *float64) string {
	if m == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f MB", *m)
}

func mb(m *float64) string {
	if m == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f MB", *m)
}
