package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// errNoTabs: the browser harness ended without its JSON report.
var errNoTabs = errors.New("the browser harness printed no report")

// tabResult is what one Chromium tab saw, from the page's window.__shoal
// hook as tools/e2e/browser.mjs sampled it twice a second.
type tabResult struct {
	Index      int     `json:"index"`
	Chunks     int     `json:"chunks"` // distinct chunks the page got (swarm or HTTP)
	First      uint64  `json:"first"`
	Last       uint64  `json:"last"`
	Lost       int     `json:"lost"`    // chunks between First and Last it never got
	Skipped    int     `json:"skipped"` // chunks the player skipped as lost
	Stalls     int     `json:"stalls"`  // times playback waited for data after it started
	StalledMs  float64 `json:"stalled_ms"`
	MaxStallMs float64 `json:"max_stall_ms"`
	PlayedS    float64 `json:"played_s"`    // from the first frame to the last sample
	StallRatio float64 `json:"stall_ratio"` // StalledMs over PlayedS
	Decoded    int     `json:"decoded"`     // video frames decoded
	Dropped    int     `json:"dropped"`
	MaxRanges  int     `json:"max_ranges"` // most buffered ranges the video element had (more than 1: a hole)
	Reconnects int     `json:"reconnects"` // the peer joined again (a quarantine, a lost connection)
	PeerShare  float64 `json:"peer_share"` // % of chunk bytes from peers
	Error      string  `json:"error,omitempty"`
}

// harnessTab is one tab in browser.mjs's report.
type harnessTab struct {
	Index        int               `json:"index"`
	FirstFrameMs *float64          `json:"firstFrameMs"`
	Chunks       map[string]string `json:"chunks"`
	Stats        *struct {
		BytesFromPeers  float64 `json:"bytesFromPeers"`
		BytesFromOrigin float64 `json:"bytesFromOrigin"`
	} `json:"stats"`
	Timeline   []harnessSample `json:"timeline"`
	Error      *string         `json:"error"`
	Reconnects int             `json:"reconnects"`
}

// harnessSample is one of browser.mjs's samples of a tab: T seconds after
// the first tab opened, the player's and the video element's counters.
type harnessSample struct {
	T      float64        `json:"t"`
	Player *harnessPlayer `json:"player"`
	Video  *harnessVideo  `json:"video"`
}

type harnessPlayer struct {
	Skipped    int     `json:"skipped"`
	Stalls     int     `json:"stalls"`
	StalledMs  float64 `json:"stalledMs"`
	MaxStallMs float64 `json:"maxStallMs"`
}

type harnessVideo struct {
	Decoded int `json:"decoded"`
	Dropped int `json:"dropped"`
	Ranges  int `json:"ranges"`
}

// runTabs opens n viewer tabs on url in headless Chromium for d with the
// e2e harness and returns what each saw.
func runTabs(ctx context.Context, cfg config, url string, n int, d time.Duration) ([]tabResult, error) {
	cmd := exec.CommandContext(ctx, "node", cfg.harness, "--url", url, "--tabs", strconv.Itoa(n),
		"--duration", strconv.Itoa(int(d.Seconds())))
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.harness, err)
	}
	if cfg.out != "" {
		os.WriteFile(strings.TrimSuffix(cfg.out, ".json")+"-tabs.json", out.Bytes(), 0o644)
	}
	var rep struct {
		Tabs []harnessTab `json:"tabs"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return nil, fmt.Errorf("%w: %v", errNoTabs, err)
	}
	var res []tabResult
	for _, h := range rep.Tabs {
		res = append(res, summarizeTab(h))
	}
	return res, nil
}

func summarizeTab(h harnessTab) tabResult {
	t := tabResult{Index: h.Index, Reconnects: h.Reconnects}
	if h.Error != nil {
		t.Error = *h.Error
	}
	seqs := make([]uint64, 0, len(h.Chunks))
	for k := range h.Chunks {
		if q, err := strconv.ParseUint(k, 10, 64); err == nil {
			seqs = append(seqs, q)
		}
	}
	slices.Sort(seqs)
	if len(seqs) > 0 {
		t.Chunks, t.First, t.Last = len(seqs), seqs[0], seqs[len(seqs)-1]
		t.Lost = int(t.Last-t.First+1) - len(seqs)
	}
	var lastT float64
	for _, s := range h.Timeline {
		if s.Player != nil {
			t.Skipped, t.Stalls = s.Player.Skipped, s.Player.Stalls
			t.StalledMs, t.MaxStallMs = s.Player.StalledMs, s.Player.MaxStallMs
			lastT = s.T
		}
		if s.Video != nil {
			t.Decoded, t.Dropped = s.Video.Decoded, s.Video.Dropped
			t.MaxRanges = max(t.MaxRanges, s.Video.Ranges)
		}
	}
	if h.FirstFrameMs != nil {
		t.PlayedS = max(0, lastT-*h.FirstFrameMs/1000)
	}
	if t.PlayedS > 0 {
		t.StallRatio = t.StalledMs / 1000 / t.PlayedS
	}
	if s := h.Stats; s != nil && s.BytesFromPeers+s.BytesFromOrigin > 0 {
		t.PeerShare = 100 * s.BytesFromPeers / (s.BytesFromPeers + s.BytesFromOrigin)
	}
	return t
}
