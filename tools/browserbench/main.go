// Command browserbench compares Shoal with hls.js + p2p-media-loader in
// headless Chromium, on one live feed, and writes the figures down.
//
//	go tool task bench:browser                      # every scenario, 3 minutes each
//	go tool task bench:browser -- -duration 45s -scenarios 1tab,4tabs
//
// One ffmpeg encode (640×360 30 fps H.264 1.5 Mbit/s, AAC 48 kHz, a frame
// counter burnt into the picture) feeds both systems through the tee
// muxer: FLV to Shoal's RTMP ingest (bin/shoal, -origin-copies 1) and HLS
// with 2 s fMP4 segments, served over HTTP to hls.js with p2p-media-loader
// v2 and a local WebTorrent tracker. For each scenario (1 tab; 4 tabs
// opened 0.7 s apart; 6 tabs; 4 tabs with one replaced every 20 s) each
// system is watched in turn by tabs.mjs (playwright-core, one browser
// context per tab), which measures from outside the players:
//
//   - latency: the frame counter read from displayed frames
//     (requestVideoFrameCallback and a canvas) against the wall-clock time
//     ffmpeg's showinfo filter logged that frame;
//   - first frame (page open → first displayed frame), stalls (time in
//     "waiting" after the first frame);
//   - bytes from peers (RTCPeerConnection.getStats on every connection the
//     page makes; the ones ending at a UDP socket of bin/shoal are the
//     origin's) and from the server (DevTools protocol network events);
//   - renderer CPU (Performance.getMetrics ProcessTime) and JS heap.
//
// It writes artifacts/browserbench-<time>.json (every phase, every tab),
// artifacts/browserbench.md (the table for docs/BENCHMARKS.md, also
// printed) and logs under artifacts/browserbench-logs/. Run it inside a
// loopback-only network namespace (tools/scripts/netns.sh), as the task
// does. Nothing here runs under go test: the unit tests cover the pure
// parts (counter decoding, latency, stalls, percentiles, CPU windows).
package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// scenario is one audience shape.
type scenario struct {
	name    string
	tabs    int
	churn   bool // replace one tab every -churn-every
	restart bool // restart the server a third of the way in (Shoal only; run last)
}

var scenarios = []scenario{
	{"1tab", 1, false, false},
	{"4tabs", 4, false, false},
	{"6tabs", 6, false, false},
	{"churn", 4, true, false},
	{"restart", 4, false, true},
}

// restartFrameOffset numbers the frames of the encode that the restart
// scenario starts once the server is back: 2^19 frames (4.8 hours) above
// the first encode's, within the counter's 20 bits.
const restartFrameOffset = 1 << 19

type config struct {
	duration   time.Duration
	scenarios  []scenario
	systems    []string
	keyint     time.Duration
	churnEvery time.Duration
	blockRTC   bool
	stagger    time.Duration
	sample     time.Duration
	pause      time.Duration
	hlsSync    int
	highDemand time.Duration
	shoalBin   string
	dir        string
	out        string
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "browserbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "browserbench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	var c config
	fl := flag.NewFlagSet("browserbench", flag.ContinueOnError)
	fl.DurationVar(&c.duration, "duration", 3*time.Minute, "how long each scenario runs for each system")
	names := fl.String("scenarios", "1tab,4tabs,6tabs,churn,restart", "comma-separated scenarios: 1tab, 4tabs, 6tabs, churn, restart (Shoal only, always last: the server is restarted a third of the way in, and the feed after it is a second ffmpeg)")
	systems := fl.String("systems", "shoal,hls", "comma-separated systems: shoal, hls (hls.js + p2p-media-loader)")
	tabs := fl.Int("tabs", 0, "override every scenario's tab count (development runs)")
	fl.DurationVar(&c.keyint, "keyint", time.Second, "keyframe interval of the feed")
	fl.DurationVar(&c.churnEvery, "churn-every", 20*time.Second, "in the churn scenario, replace one tab this often")
	fl.BoolVar(&c.blockRTC, "block-webrtc", false, "no data channel can open (the tabs gather no loopback ICE candidate, the server offers none), as for a viewer whose network blocks WebRTC: Shoal must play from HTTP")
	fl.DurationVar(&c.stagger, "stagger", 700*time.Millisecond, "between opening two tabs")
	fl.DurationVar(&c.sample, "sample", 250*time.Millisecond, "read the frame counter at most this often per tab")
	fl.DurationVar(&c.pause, "pause", 5*time.Second, "between phases, for the swarms to empty")
	fl.IntVar(&c.hlsSync, "hls-sync", 2, "hls.js liveSyncDurationCount: segments (2 s) behind the playlist's live edge")
	fl.DurationVar(&c.highDemand, "hls-high-demand", 0, "p2p-media-loader highDemandTimeWindow (0: its default, 15s)")
	fl.StringVar(&c.shoalBin, "shoal", "bin/shoal", "the Shoal server binary")
	fl.StringVar(&c.dir, "dir", "tools/browserbench", "this tool's directory (tabs.mjs, tracker.mjs, node_modules)")
	fl.StringVar(&c.out, "out", "artifacts", "where to write the JSON report, the markdown table and logs")
	if err := fl.Parse(args); err != nil {
		return c, err
	}
	for _, n := range strings.Split(*names, ",") {
		i := -1
		for j, s := range scenarios {
			if s.name == strings.TrimSpace(n) {
				i = j
			}
		}
		if i < 0 {
			return c, fmt.Errorf("unknown scenario %q (have 1tab, 4tabs, 6tabs, churn, restart)", n)
		}
		sc := scenarios[i]
		if *tabs > 0 {
			sc.tabs = *tabs
		}
		c.scenarios = append(c.scenarios, sc)
	}
	// After a restart the first encode no longer reaches Shoal: run it last.
	slices.SortStableFunc(c.scenarios, func(a, b scenario) int {
		return cmp.Compare(btoi(a.restart), btoi(b.restart))
	})
	for _, s := range strings.Split(*systems, ",") {
		s = strings.TrimSpace(s)
		if s != "shoal" && s != "hls" {
			return c, fmt.Errorf("unknown system %q (have shoal, hls)", s)
		}
		c.systems = append(c.systems, s)
	}
	if c.duration < 20*time.Second {
		return c, errors.New("-duration must be at least 20s")
	}
	if c.hlsSync < 1 {
		return c, errors.New("-hls-sync must be at least 1")
	}
	if c.keyint <= 0 || c.keyint > 10*time.Second {
		return c, errors.New("-keyint must be in (0, 10s]")
	}
	return c, nil
}

// phase is one scenario watched with one system.
type phase struct {
	Scenario string         `json:"scenario"`
	System   string         `json:"system"`
	URL      string         `json:"url"`
	Summary  summary        `json:"summary"`
	Tabs     []tabResult    `json:"tabs"`
	Series   [][]float64    `json:"latencySeries"` // [tab, s since phase start, latency ms, frame n, media time s], every good reading
	Restart  *restartResult `json:"restart,omitempty"`
	Error    string         `json:"error,omitempty"`
}

// restartResult is what the restart scenario saw: when the server went
// down, when the second encode's first frame was made (the server back and
// fed again), and when each tab showed a frame of it (without a reload).
type restartResult struct {
	AtS        float64    `json:"atS"`        // s since the phase started: the server was told to stop
	DownS      float64    `json:"downS"`      // until the new server answered /healthz
	NewFeedS   *float64   `json:"newFeedS"`   // until the second encode's first frame was made
	RecoveredS []*float64 `json:"recoveredS"` // per tab, until it showed a frame of the second encode (null: never)
	Error      string     `json:"error,omitempty"`
}

// report is the JSON file.
type report struct {
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished"`
	Duration    string    `json:"durationPerPhase"`
	Keyint      string    `json:"keyint"`
	BlockWebRTC bool      `json:"blockWebRTC,omitempty"`
	Commit      string    `json:"commit"`   // of the working tree the harness ran from
	ShoalBin    string    `json:"shoalBin"` // the server binary, and the start of its SHA-256
	UptimeStart string    `json:"uptimeStart"`
	UptimeEnd   string    `json:"uptimeEnd"`
	HLSConfig   string    `json:"hlsConfig"`
	Frames      int       `json:"framesProduced"`
	Phases      []phase   `json:"phases"`
	Interrupted bool      `json:"interrupted,omitempty"`
}

func run(ctx context.Context, cfg config) error {
	for _, need := range []string{cfg.shoalBin, filepath.Join(cfg.dir, "node_modules", "playwright-core"), filepath.Join(cfg.dir, "node_modules", "hls.js")} {
		if _, err := os.Stat(need); err != nil {
			return fmt.Errorf("%v (run go tool task build and go tool task deps)", err)
		}
	}
	for _, tool := range []string{"ffmpeg", "node"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not on PATH (go tool task deps)", tool)
		}
	}
	shoalBin, err := filepath.Abs(cfg.shoalBin)
	if err != nil {
		return err
	}
	logs := filepath.Join(cfg.out, "browserbench-logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "browserbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	hlsDir := filepath.Join(tmp, "hls")
	if err := os.Mkdir(hlsDir, 0o755); err != nil {
		return err
	}

	rep := report{ShoalBin: describeBin(shoalBin), Started: time.Now(), Duration: cfg.duration.String(), Keyint: cfg.keyint.String(), BlockWebRTC: cfg.blockRTC, UptimeStart: uptime(), Commit: gitCommit(), HLSConfig: hlsConfigDoc(cfg.hlsSync, cfg.highDemand)}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The HLS side's HTTP server and tracker.
	httpAddr, err := freeAddr()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: hlsServer(hlsDir, filepath.Join(cfg.dir, "node_modules")), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	trackerAddr, err := freeAddr()
	if err != nil {
		return err
	}
	_, trackerPort, _ := net.SplitHostPort(trackerAddr)
	tracker, err := startTracker(ctx, cfg.dir, trackerPort, filepath.Join(logs, "tracker.log"))
	if err != nil {
		return err
	}

	// Shoal.
	shoalAddr, err := freeAddr()
	if err != nil {
		return err
	}
	rtmpAddr, err := freeAddr()
	if err != nil {
		return err
	}
	key := randomKey()
	shoal, err := startShoal(ctx, shoalBin, shoalAddr, rtmpAddr, key, filepath.Join(tmp, "data"), filepath.Join(logs, "shoal.log"), cfg.blockRTC)
	if err != nil {
		return fmt.Errorf("shoal: %w (log: %s)", err, filepath.Join(logs, "shoal.log"))
	}

	// The feed; then wait for both systems to have video.
	var clock frameClock
	feed, err := startFeed(ctx, feedConfig{rtmpURL: "rtmp://" + rtmpAddr + "/live/" + key, hlsDir: hlsDir, keyint: cfg.keyint, logPath: filepath.Join(logs, "ffmpeg.log")}, &clock)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "browserbench: feed started; waiting for Shoal and HLS to have video\n")
	if err := waitHTTP(ctx, "http://"+shoalAddr+"/api/streams/live/status", 30*time.Second, streamLive); err != nil {
		return fmt.Errorf("shoal never went live: %w (logs in %s)", err, logs)
	}
	if err := waitHTTP(ctx, "http://"+httpAddr+"/hls/"+hlsList, 30*time.Second, hlsReady); err != nil {
		return fmt.Errorf("no HLS playlist: %w (logs in %s)", err, logs)
	}

	pids := map[string]int{"shoal": shoal.Process.Pid, "ffmpeg": feed.Process.Pid, "tracker": tracker.Process.Pid}
	pidFile := filepath.Join(tmp, "shoal.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(shoal.Process.Pid)), 0o644); err != nil {
		return err
	}
	// restart stops the server as a deploy would (SIGTERM), starts it again
	// on the same addresses and data, and feeds it from a second encode
	// (the first one's RTMP output gave up when the server went away).
	restart := func() (up time.Time, err error) {
		if err := stopProcess(shoal.Process, 15*time.Second); err != nil {
			return up, fmt.Errorf("stopping shoal: %w", err)
		}
		shoal, err = startShoal(ctx, shoalBin, shoalAddr, rtmpAddr, key, filepath.Join(tmp, "data"), filepath.Join(logs, "shoal-restarted.log"), cfg.blockRTC)
		if err != nil {
			return up, fmt.Errorf("starting shoal again: %w", err)
		}
		up = time.Now()
		pids["shoal"] = shoal.Process.Pid
		if err := os.WriteFile(pidFile, []byte(strconv.Itoa(shoal.Process.Pid)), 0o644); err != nil {
			return up, err
		}
		second, err := startFeed(ctx, feedConfig{rtmpURL: "rtmp://" + rtmpAddr + "/live/" + key, keyint: cfg.keyint,
			logPath: filepath.Join(logs, "ffmpeg-restarted.log"), frameOffset: restartFrameOffset}, &clock)
		if err != nil {
			return up, err
		}
		pids["ffmpeg"] = second.Process.Pid
		return up, nil
	}
	// An interrupt (Ctrl-C) ends the phase under way; what was measured
	// before it is still written.
phases:
	for _, sc := range cfg.scenarios {
		for _, sys := range cfg.systems {
			if ctx.Err() != nil {
				break phases
			}
			if sc.restart && sys != "shoal" {
				continue
			}
			url := "http://" + shoalAddr + "/watch/live"
			serverPid := pids["shoal"]
			var restartFn func() (time.Time, error)
			if sc.restart {
				restartFn = restart
			}
			if sys == "hls" {
				url = fmt.Sprintf("http://%s/bench/hls.html?src=/hls/%s&tracker=ws://%s&sync=%d", httpAddr, hlsList, trackerAddr, cfg.hlsSync)
				if cfg.highDemand > 0 {
					url += "&hd=" + strconv.FormatFloat(cfg.highDemand.Seconds(), 'f', -1, 64)
				}
				serverPid = 0
			}
			fmt.Fprintf(os.Stderr, "browserbench: %s × %s (%d tabs%s, %v)\n", sc.name, sys, sc.tabs, map[bool]string{true: ", churn", false: ""}[sc.churn], cfg.duration)
			ph := runPhase(ctx, cfg, sc, sys, url, serverPid, pidFile, pids, &clock, logs, restartFn)
			rep.Phases = append(rep.Phases, ph)
			if ph.Error != "" {
				fmt.Fprintf(os.Stderr, "browserbench: %s × %s: %s\n", sc.name, sys, ph.Error)
			} else {
				fmt.Fprintln(os.Stderr, "browserbench:", oneLine(ph.Summary))
			}
			select {
			case <-ctx.Done():
			case <-time.After(cfg.pause):
			}
		}
	}
	rep.Interrupted = ctx.Err() != nil
	rep.Finished = time.Now()
	rep.UptimeEnd = uptime()
	rep.Frames = clock.count()
	cancel()

	stamp := rep.Started.Format("20060102-150405")
	raw, err := json.MarshalIndent(rep, "", " ")
	if err != nil {
		return err
	}
	jsonPath := filepath.Join(cfg.out, "browserbench-"+stamp+".json")
	if err := os.WriteFile(jsonPath, raw, 0o644); err != nil {
		return err
	}
	md := markdown(rep)
	fmt.Print(md)
	mdPath := filepath.Join(cfg.out, "browserbench.md")
	if err := os.WriteFile(mdPath, []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "browserbench: wrote %s and %s\n", jsonPath, mdPath)
	return nil
}

// runPhase runs tabs.mjs for one scenario and system and analyzes it;
// with restart (the restart scenario), it calls it a third of the way in.
func runPhase(ctx context.Context, cfg config, sc scenario, sys, url string, serverPid int, pidFile string, pids map[string]int, clock *frameClock, logs string, restart func() (time.Time, error)) phase {
	ph := phase{Scenario: sc.name, System: sys, URL: url}
	points, _ := json.Marshal(barSamplePoints())
	churn := 0.0
	if sc.churn {
		churn = cfg.churnEvery.Seconds()
	}
	args := []string{"tabs.mjs", "--url", url, "--tabs", strconv.Itoa(sc.tabs),
		"--stagger-ms", strconv.FormatInt(cfg.stagger.Milliseconds(), 10),
		"--duration", strconv.FormatFloat(cfg.duration.Seconds(), 'f', -1, 64),
		"--churn-every", strconv.FormatFloat(churn, 'f', -1, 64),
		"--server-pid", strconv.Itoa(serverPid),
		"--server-pid-file", map[bool]string{true: pidFile}[sys == "shoal"],
		"--sample-ms", strconv.FormatInt(cfg.sample.Milliseconds(), 10),
		"--points", string(points)}
	if cfg.blockRTC {
		args = append(args, "--block-webrtc")
	}
	logPath := filepath.Join(logs, fmt.Sprintf("tabs-%s-%s.log", sc.name, sys))
	log, err := os.Create(logPath)
	if err != nil {
		ph.Error = err.Error()
		return ph
	}
	defer log.Close()
	pctx, cancel := context.WithTimeout(ctx, cfg.duration+4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(pctx, "node", args...)
	cmd.Dir = cfg.dir
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, log
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second // for tabs.mjs to report after an interrupt

	cpu0 := map[string]float64{}
	for name, pid := range pids {
		cpu0[name], _ = cpuSeconds(pid)
	}
	t0 := time.Now()
	type restarted struct {
		at, up time.Time
		err    error
	}
	restartDone := make(chan restarted, 1)
	rctx, rcancel := context.WithCancel(pctx) // ends with tabs.mjs: no restart after the phase
	defer rcancel()
	if restart != nil {
		go func() {
			select {
			case <-time.After(cfg.duration / 3):
			case <-rctx.Done():
				restartDone <- restarted{err: errors.New("the phase ended before the restart")}
				return
			}
			at := time.Now()
			up, err := restart()
			restartDone <- restarted{at, up, err}
		}()
	}
	err = cmd.Run()
	dt := time.Since(t0).Seconds()
	rcancel()
	var rs restarted
	if restart != nil {
		rs = <-restartDone
	}
	cpuPct := map[string]*float64{}
	for name, pid := range pids {
		if restart != nil && (name == "shoal" || name == "ffmpeg") {
			continue // replaced during the phase: not the process cpu0 read
		}
		if c, ok := cpuSeconds(pid); ok {
			v := 100 * (c - cpu0[name]) / dt
			cpuPct[name] = &v
		}
	}
	// Interrupted, tabs.mjs still reports what it measured.
	var raw phaseRaw
	if jerr := json.Unmarshal(stdout.Bytes(), &raw); jerr != nil {
		if err == nil {
			err = fmt.Errorf("decoding its report: %w", jerr)
		}
		ph.Error = fmt.Sprintf("tabs.mjs: %v (log: %s)", err, logPath)
		return ph
	}
	if raw.Interrupted {
		ph.Error = "interrupted: figures until then"
	}
	for _, t := range raw.Tabs {
		r := analyzeTab(t, clock.at, raw.StartedAt)
		for _, f := range t.Frames {
			if ms, ok := frameLatency(f, clock.at); ok {
				n, _ := decodeBar(f.Luma)
				ph.Series = append(ph.Series, []float64{float64(t.Index), round1((f.At - raw.StartedAt) / 1000), round1(ms), float64(n), f.MT})
			}
		}
		ph.Tabs = append(ph.Tabs, r)
	}
	if restart != nil {
		ph.Restart = restartOutcome(raw, rs.at, rs.up, rs.err, clock)
	}
	ph.Summary = summarize(sc.name, sys, ph.Tabs)
	ph.Summary.DurationS = (raw.EndedAt - raw.StartedAt) / 1000
	ph.Summary.BrowserCPUPct, ph.Summary.RendererCPUPctT = browserCPU(raw.Processes)
	ph.Summary.ServerCPUPct, ph.Summary.FeedCPUPct, ph.Summary.TrackerCPUPct = cpuPct["shoal"], cpuPct["ffmpeg"], cpuPct["tracker"]
	ph.Summary.LoadAvg = loadAvg()
	return ph
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }

func randomKey() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func uptime() string {
	out, err := exec.Command("uptime").Output()
	if err != nil {
		return "load average: " + loadAvg()
	}
	return strings.TrimSpace(string(out))
}

// describeBin is path, modification time and SHA-256 prefix of a binary.
func describeBin(path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return path
	}
	st, _ := os.Stat(path)
	sum := sha256.Sum256(raw)
	return fmt.Sprintf("%s (built %s, sha256 %x)", path, st.ModTime().Format("2006-01-02 15:04"), sum[:6])
}

func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// restartOutcome measures, from the frame counter, when each tab showed
// the second encode: a frame numbered restartFrameOffset or above.
func restartOutcome(raw phaseRaw, at, up time.Time, err error, clock *frameClock) *restartResult {
	r := &restartResult{}
	if err != nil {
		r.Error = err.Error()
	}
	if at.IsZero() {
		return r
	}
	atMs := float64(at.UnixMicro()) / 1000
	r.AtS = round1((atMs - raw.StartedAt) / 1000)
	if !up.IsZero() {
		r.DownS = round1(up.Sub(at).Seconds())
	}
	if born, ok := clock.at(restartFrameOffset); ok {
		v := round1((born - atMs) / 1000)
		r.NewFeedS = &v
	}
	for _, t := range raw.Tabs {
		var rec *float64
		for _, f := range t.Frames {
			if n, ok := decodeBar(f.Luma); ok && n >= restartFrameOffset && f.At >= atMs {
				v := round1((f.At - atMs) / 1000)
				rec = &v
				break
			}
		}
		r.RecoveredS = append(r.RecoveredS, rec)
	}
	return r
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
