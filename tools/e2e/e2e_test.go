//go:build e2e

// Package e2e checks Shoal the way a viewer would: a real shoal server, real
// Chromium tabs watching the synthetic "demo" stream, and assertions on what
// those tabs received. browser.mjs drives the tabs and reports; this file
// judges.
//
// Run (needs bin/shoal, the frontend's wasm build, node_modules and Chromium;
// `go tool task deps` installs the last two):
//
//	go test -tags e2e -v -count=1 ./tools/e2e
//
// SHOAL_BIN points at another server binary; SHOAL_ARTIFACTS keeps the
// screenshot of tab 0; CHROMIUM overrides /usr/bin/chromium.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The run's shape. The synthetic stream makes one chunk every 250 ms.
const (
	numTabs        = 4
	durationSec    = 40
	closeTabAtSec  = 25
	chunksPerSec   = 4
	windowSkip     = 4  // seqs skipped after a tab's first, while it settles
	windowLen      = 80 // 20 s of stream that must arrive without a gap
	afterCloseMin  = 10 * chunksPerSec
	minPeerTabs    = 2
	healthzTimeout = 15 * time.Second
	liveTimeout    = 20 * time.Second // from an encoder's start to its stream's first chunk
	testTimeout    = 3 * time.Minute
)

// report is browser.mjs's output.
type report struct {
	Tabs []tabReport `json:"tabs"`
}

type tabReport struct {
	Index        int               `json:"index"`
	ClosedAt     *float64          `json:"closedAt"`
	FirstChunkMs *float64          `json:"firstChunkMs"`
	FirstFrameMs *float64          `json:"firstFrameMs"`
	Chunks       map[string]string `json:"chunks"`
	Stats        *stats            `json:"stats"`
	Timeline     []sample          `json:"timeline"`
	Controls     *controlsReport   `json:"controls"`
	Error        *string           `json:"error"`
	Reconnects   int               `json:"reconnects"` // times the page rejoined after losing the server
}

// controlsReport is what browser.mjs saw while using the player's
// controls (--controls-at).
type controlsReport struct {
	Error                                                        string
	AfterPause, PausedStill, AfterPlay, AfterUnmute, AfterVolume videoState
	LiveBadge                                                    string
}

type videoState struct {
	Paused      bool    `json:"paused"`
	Muted       bool    `json:"muted"`
	Volume      float64 `json:"volume"`
	CurrentTime float64 `json:"currentTime"`
}

// sample is one reading of a tab's player (frontend/lib/player.js stats)
// and video element, t seconds after the first tab opened.
type sample struct {
	T      float64 `json:"t"`
	Joined bool    `json:"joined"` // the wasm peer has joined the swarm (the page plays from HTTP before)
	Player *struct {
		State        string   `json:"state"`
		Latency      *float64 `json:"latency"`
		Appended     float64  `json:"appended"`
		Skipped      float64  `json:"skipped"`
		Stalls       float64  `json:"stalls"`
		MaxStallMs   float64  `json:"maxStallMs"`
		StalledMs    float64  `json:"stalledMs"`
		FirstFrameAt *float64 `json:"firstFrameAt"`
		Error        *string  `json:"error"`
	} `json:"player"`
	Video *struct {
		CurrentTime float64 `json:"currentTime"`
		Decoded     float64 `json:"decoded"`
		Dropped     float64 `json:"dropped"`
		Ranges      int     `json:"ranges"`   // video.buffered.length: over 1 is a hole
		Restarts    int     `json:"restarts"` // failed players replaced (lib/media.js)
	} `json:"video"`
}

// stats mirrors the wasm API's onStats object. Numbers are JS numbers.
type stats struct {
	ID               string  `json:"id"`
	Peers            float64 `json:"peers"`
	Chunks           float64 `json:"chunks"`
	BytesFromPeers   float64 `json:"bytesFromPeers"`
	BytesFromOrigin  float64 `json:"bytesFromOrigin"`
	ChunksFromPeers  float64 `json:"chunksFromPeers"`
	ChunksFromOrigin float64 `json:"chunksFromOrigin"`
	Duplicates       float64 `json:"duplicates"`
	UploadedBytes    float64 `json:"uploadedBytes"`
	BehindLiveMs     float64 `json:"behindLiveMs"`
	NewestSeq        float64 `json:"newestSeq"`
	integrityStats           // verification counters, malicious_test.go
}

// tab is one tab's report with its chunks decoded.
type tab struct {
	tabReport
	seqs      []int64 // sorted
	fromPeers int
}

func decodeTab(r tabReport) (tab, error) {
	t := tab{tabReport: r}
	for k, from := range r.Chunks {
		seq, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return t, fmt.Errorf("tab %d: chunk key %q is not a seq", r.Index, k)
		}
		switch from {
		case "peer":
			t.fromPeers++
		case "origin", "http": // the engine's fetch, or the page's HTTP start (lib/httpfeed.js)
		default:
			return t, fmt.Errorf("tab %d: chunk %d came from %q, want peer, origin or http", r.Index, seq, from)
		}
		t.seqs = append(t.seqs, seq)
	}
	slices.Sort(t.seqs)
	return t, nil
}

func (t tab) open() bool { return t.ClosedAt == nil }

func (t tab) peerShare() float64 {
	if len(t.seqs) == 0 {
		return 0
	}
	return 100 * float64(t.fromPeers) / float64(len(t.seqs))
}

func (t tab) summary() string {
	first := "never"
	if t.FirstChunkMs != nil {
		first = fmt.Sprintf("%.0f ms", *t.FirstChunkMs)
	}
	behind, peers := "?", "?"
	if t.Stats != nil {
		behind = fmt.Sprintf("%.0f ms", t.Stats.BehindLiveMs)
		peers = fmt.Sprintf("%.0f", t.Stats.Peers)
	}
	state := "open"
	if !t.open() {
		state = fmt.Sprintf("closed at %.1f s", *t.ClosedAt)
	}
	return fmt.Sprintf("tab %d (%s): first chunk %s, %d chunks, %.0f%% from peers, %s behind live, %s peers",
		t.Index, state, first, len(t.seqs), t.peerShare(), behind, peers)
}

// check judges a run as a viewer would notice it and returns every problem.
// wantTabs and wantClosed describe the run that was asked for.
func check(r report, wantTabs int, wantClosed bool) []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if len(r.Tabs) != wantTabs {
		fail("report has %d tabs, want %d", len(r.Tabs), wantTabs)
	}
	tabs := make([]tab, 0, len(r.Tabs))
	for _, tr := range r.Tabs {
		t, err := decodeTab(tr)
		if err != nil {
			fail("%v", err)
			continue
		}
		tabs = append(tabs, t)
	}

	// 1. Every tab started getting chunks.
	for _, t := range tabs {
		if t.FirstChunkMs == nil || len(t.seqs) == 0 {
			fail("tab %d never received a chunk", t.Index)
		}
	}

	// 2. Open tabs got 20 s of stream without a gap.
	for _, t := range tabs {
		if !t.open() || len(t.seqs) == 0 {
			continue
		}
		from := t.seqs[0] + windowSkip
		var missing []int64
		for seq := from; seq < from+windowLen; seq++ {
			if _, ok := slices.BinarySearch(t.seqs, seq); !ok {
				missing = append(missing, seq)
			}
		}
		if len(missing) > 0 {
			fail("tab %d missed %d of seqs %d..%d: %v", t.Index, len(missing), from, from+windowLen-1, missing)
		}
	}

	// 3. The swarm carried the stream: tabs got most chunks from peers.
	var peerTabs []int
	for _, t := range tabs {
		if 2*t.fromPeers > len(t.seqs) {
			peerTabs = append(peerTabs, t.Index)
		}
	}
	if len(peerTabs) < minPeerTabs {
		var shares []string
		for _, t := range tabs {
			shares = append(shares, fmt.Sprintf("tab %d %.0f%%", t.Index, t.peerShare()))
		}
		fail("%d tabs got more than half their chunks from peers, want at least %d (%s)",
			len(peerTabs), minPeerTabs, strings.Join(shares, ", "))
	}

	// 4. The others kept playing after a viewer left.
	var closed []tab
	for _, t := range tabs {
		if !t.open() {
			closed = append(closed, t)
		}
	}
	switch {
	case !wantClosed && len(closed) > 0:
		fail("%d tabs closed, want none", len(closed))
	case wantClosed && len(closed) != 1:
		fail("%d tabs closed, want 1", len(closed))
	case wantClosed && len(closed[0].seqs) == 0:
		fail("tab %d closed without a chunk; cannot tell whether the others kept receiving", closed[0].Index)
	case wantClosed:
		lastSeen := closed[0].seqs[len(closed[0].seqs)-1]
		for _, t := range tabs {
			if !t.open() || len(t.seqs) == 0 {
				continue
			}
			i, _ := slices.BinarySearch(t.seqs, lastSeen+1)
			if after := len(t.seqs) - i; after < afterCloseMin {
				fail("tab %d got %d chunks after tab %d left (its last was seq %d), want at least %d",
					t.Index, after, closed[0].Index, lastSeen, afterCloseMin)
			}
		}
	}

	// 5. No tab reported an error.
	for _, t := range tabs {
		if t.Error != nil && *t.Error != "" {
			fail("tab %d reported an error: %s", t.Index, *t.Error)
		}
	}
	return problems
}

// syncBuffer collects a child's output while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// requireTools fails (never skips) when something the run needs is missing.
func requireTools(t testing.TB) (serverBin string) {
	t.Helper()
	const fix = "run `go tool task deps` to install the e2e dependencies"
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not on PATH: %v; %s", err, fix)
	}
	if _, err := os.Stat(filepath.Join("node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("tools/e2e/node_modules/playwright-core is missing (%v); %s", err, fix)
	}
	browser := os.Getenv("CHROMIUM")
	if browser == "" {
		browser = "/usr/bin/chromium"
	}
	if _, err := os.Stat(browser); err != nil {
		t.Fatalf("Chromium not found at %s (%v); %s", browser, err, fix)
	}
	serverBin = os.Getenv("SHOAL_BIN")
	if serverBin == "" {
		serverBin = filepath.Join("..", "..", "bin", "shoal")
	}
	abs, err := filepath.Abs(serverBin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("server binary %s is missing (%v); build bin/shoal first or set SHOAL_BIN", abs, err)
	}
	return abs
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// startServer runs the shoal server until the test ends; its log is shown
// only if the test fails.
func startServer(ctx context.Context, t testing.TB, bin, addr string, args ...string) *syncBuffer {
	t.Helper()
	var out syncBuffer
	// A private data directory (accounts, streams, signing keys), not the user's.
	cmd := exec.CommandContext(t.Context(), bin, append([]string{"-addr", addr, "-ice-loopback", "-data-dir", t.TempDir()}, args...)...)
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		// t.Context is canceled before cleanups run, which interrupts the server.
		err := <-exited
		if t.Failed() {
			t.Logf("server exited: %v; its log:\n%s", err, out.String())
		}
	})

	ctx, cancel := context.WithTimeout(ctx, healthzTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	url := "http://" + addr + "/healthz"
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &out
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("server exited before it was healthy: %v", err)
		case <-ctx.Done():
			t.Fatalf("GET %s not 200 within %v: %v", url, healthzTimeout, last)
		case <-tick.C:
		}
	}
}

func artifactsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("SHOAL_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("SHOAL_ARTIFACTS: %v", err)
	}
	return dir
}

// TestViewersShareTheStream: four viewers watch the demo stream; one leaves
// at 25 s. Each must start receiving, the ones that stay must get an unbroken
// 20 s run of chunks and keep receiving after the other left, and the swarm
// (not the origin) must carry most of the traffic: the origin may push one
// copy of the stream (-origin-copies 1), so the viewers pass on the rest.
func TestViewersShareTheStream(t *testing.T) {
	bin := requireTools(t)
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()

	addr := freeAddr(t)
	startServer(ctx, t, bin, addr, "-demo-source", "synthetic", "-rtmp-addr", "", "-origin-copies", "1")

	shot := filepath.Join(artifactsDir(t), "viewer.png")
	r := runBrowser(ctx, t,
		"--url", "http://"+addr+"/watch/demo",
		"--tabs", strconv.Itoa(numTabs),
		"--duration", strconv.Itoa(durationSec),
		"--close-tab-at", strconv.Itoa(closeTabAtSec),
		"--screenshot", shot,
	)
	for _, tr := range r.Tabs {
		if tb, err := decodeTab(tr); err == nil {
			t.Log(tb.summary())
		}
	}
	if _, err := os.Stat(shot); err == nil {
		t.Logf("screenshot of tab 0: %s", shot)
	} else if !errors.Is(err, os.ErrNotExist) {
		t.Log(err)
	}
	for _, p := range check(r, numTabs, closeTabAtSec > 0) {
		t.Error(p)
	}
}

// runBrowser runs browser.mjs with args and returns its report.
func runBrowser(ctx context.Context, t testing.TB, args ...string) report {
	t.Helper()
	return startBrowser(ctx, t, args...).wait(t)
}

// browserRun is a browser.mjs that is running.
type browserRun struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
}

// startBrowser starts browser.mjs with args; wait returns its report.
func startBrowser(ctx context.Context, t testing.TB, args ...string) *browserRun {
	t.Helper()
	b := &browserRun{cmd: exec.CommandContext(ctx, "node", append([]string{"browser.mjs"}, args...)...)}
	b.cmd.Stdout = &b.stdout
	b.cmd.Stderr = &b.stderr
	// Interrupt, not kill: playwright then closes Chromium too.
	b.cmd.Cancel = func() error { return b.cmd.Process.Signal(os.Interrupt) }
	b.cmd.WaitDelay = 10 * time.Second
	t.Cleanup(func() {
		if t.Failed() && b.stderr.String() != "" {
			t.Logf("browser harness stderr:\n%s", b.stderr.String())
		}
	})
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("starting the browser harness: %v", err)
	}
	return b
}

// receiving is how many tabs have had a chunk so far, as browser.mjs says
// on stderr.
func (b *browserRun) receiving() int {
	tabs := map[string]bool{}
	for line := range strings.Lines(b.stderr.String()) {
		if tab, ok := strings.CutSuffix(line, "] first chunk\n"); ok && strings.HasPrefix(tab, "[tab ") {
			tabs[tab] = true
		}
	}
	return len(tabs)
}

// wait waits for browser.mjs to end and returns its report.
func (b *browserRun) wait(t testing.TB) report {
	t.Helper()
	if err := b.cmd.Wait(); err != nil {
		t.Fatalf("browser harness failed: %v", err)
	}
	if dir := os.Getenv("SHOAL_ARTIFACTS"); dir != "" { // the whole timeline, for a failure's post-mortem
		if err := os.WriteFile(filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-browser.json"), []byte(b.stdout.String()), 0o644); err != nil {
			t.Log(err)
		}
	}
	var r report
	if err := json.Unmarshal(bytes.TrimSpace([]byte(b.stdout.String())), &r); err != nil {
		t.Fatalf("decoding the harness report: %v\n%s", err, b.stdout.String())
	}
	return r
}

// poll calls ok every 100 ms until it holds or ctx ends, and reports
// whether it held.
func poll(ctx context.Context, ok func() bool) bool {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !ok() {
		select {
		case <-ctx.Done():
			return ok()
		case <-tick.C:
		}
	}
	return true
}

// streamStatus is what the tests read of /api/streams/{stream}/status.
type streamStatus struct {
	Live      bool   `json:"live"`
	NewestSeq uint64 `json:"newestSeq"`
	Ingest    struct {
		Protocol string `json:"protocol"`
		MIME     string `json:"mime"`
	} `json:"ingest"`
}

// waitStatus polls the status of stream on addr until ok holds, and fails
// t, with the last status, if it does not within liveTimeout.
func waitStatus(ctx context.Context, t testing.TB, addr, stream, what string, ok func(streamStatus) bool) streamStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, liveTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	var st streamStatus
	var last error
	held := poll(ctx, func() bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/streams/"+stream+"/status", nil)
		if err != nil {
			last = err
			return false
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err
			return false
		}
		defer resp.Body.Close()
		st = streamStatus{}
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			last = fmt.Errorf("%s: %w", resp.Status, err)
			return false
		}
		last = nil
		return ok(st)
	})
	if !held {
		t.Fatalf("stream %s: not %s within %v: status %+v (%v)", stream, what, liveTimeout, st, last)
	}
	return st
}

// waitLive waits until stream on addr is live, its first chunk out: tabs
// opened then join a live stream.
func waitLive(ctx context.Context, t testing.TB, addr, stream string) {
	t.Helper()
	waitStatus(ctx, t, addr, stream, "live", func(st streamStatus) bool { return st.Live && st.NewestSeq > 0 })
}

// TestCheck proves check can fail: each case breaks one thing a viewer
// would notice. It needs no server or browser.
func TestCheck(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	s := func(v string) *string { return &v }
	// seqs lo..hi inclusive, every nth from the origin (0: all from peers).
	chunks := func(lo, hi int64, originEvery int64, skip ...int64) map[string]string {
		m := map[string]string{}
		for seq := lo; seq <= hi; seq++ {
			if slices.Contains(skip, seq) {
				continue
			}
			from := "peer"
			if originEvery > 0 && seq%originEvery == 0 {
				from = "origin"
			}
			m[strconv.FormatInt(seq, 10)] = from
		}
		return m
	}
	good := func() report {
		return report{Tabs: []tabReport{
			{Index: 0, FirstChunkMs: f(900), Chunks: chunks(10, 160, 0)},
			{Index: 1, FirstChunkMs: f(950), Chunks: chunks(11, 160, 3)},
			{Index: 2, FirstChunkMs: f(990), Chunks: chunks(12, 160, 1)},
			{Index: 3, FirstChunkMs: f(1000), ClosedAt: f(25.1), Chunks: chunks(12, 100, 2)},
		}}
	}
	cases := []struct {
		name   string
		mutate func(r *report)
		want   string // substring of a problem; "" for none
	}{
		{"good run", func(*report) {}, ""},
		{"tab never started", func(r *report) { r.Tabs[1].FirstChunkMs = nil; r.Tabs[1].Chunks = nil }, "tab 1 never received"},
		{"closed tab never started", func(r *report) { r.Tabs[3].FirstChunkMs = nil; r.Tabs[3].Chunks = nil }, "tab 3 never received"},
		{"gap in window", func(r *report) { r.Tabs[0].Chunks = chunks(10, 160, 0, 30, 31) }, "tab 0 missed 2 of seqs 14..93: [30 31]"},
		{"gap before window is fine", func(r *report) { r.Tabs[0].Chunks = chunks(10, 160, 0, 12) }, ""},
		{"stream ended early", func(r *report) { r.Tabs[2].Chunks = chunks(12, 60, 1) }, "tab 2 missed 35 of seqs 16..95"},
		{"origin carried it", func(r *report) { r.Tabs[0].Chunks = chunks(10, 160, 1) }, "1 tabs got more than half"},
		{"stalled after close", func(r *report) { r.Tabs[1].Chunks = chunks(11, 120, 3) }, "tab 1 got 20 chunks after tab 3 left"},
		{"no tab closed", func(r *report) { r.Tabs[3].ClosedAt = nil; r.Tabs[3].Chunks = chunks(12, 160, 2) }, "0 tabs closed, want 1"},
		{"error reported", func(r *report) { r.Tabs[2].Error = s("signal: refused") }, "tab 2 reported an error: signal: refused"},
		{"tab missing", func(r *report) { r.Tabs = r.Tabs[:3] }, "report has 3 tabs, want 4"},
		{"bad source", func(r *report) { r.Tabs[0].Chunks["10"] = "cdn" }, `came from "cdn"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			tc.mutate(&r)
			problems := check(r, numTabs, true)
			if tc.want == "" {
				if len(problems) > 0 {
					t.Fatalf("want no problems, got %q", problems)
				}
				return
			}
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Fatalf("want a problem containing %q, got %q", tc.want, problems)
			}
		})
	}
}
