// Command abuse runs each known attack on Shoal against a real server and
// reports, per attack, the limit the server hit and its memory and
// descriptors before, at the worst moment during, and after the attack.
//
//	go tool task abuse                    # build, then every attack in a loopback-only namespace
//	go run ./tools/abuse -only rtmp_bomb  # one attack (comma-separated names)
//	go tool task abuse:soak               # the soak under attack (-soak 20m, soak.go)
//
// Each attack gets a fresh bin/shoal on loopback ports with a temporary data
// directory, so one attack's per-address counters do not spoil the next.
// The server's RSS and descriptor count come from /proc/<pid>; its Go heap
// and goroutines from its -debug-addr /debug/vars.
//
// An attack is an Attack value in its own file, attack_<name>.go, that
// calls register from init(). It gets a Target (the server's addresses,
// a stream with its key, its pid and log file) and returns the limit it hit
// or an error when the server did not hold.
//
// With -soak DURATION it runs the soak under attack instead (soak.go): one
// server, an ffmpeg ingest, honest native viewers and Chromium tabs for the
// whole duration while the attacks that can share a server run against it
// round after round; it fails if an honest viewer lost a chunk or the
// server's memory grew.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// result is one attack's line in the report.
type result struct {
	Name      string   `json:"name"`
	Limit     string   `json:"limit"`
	Err       string   `json:"error,omitempty"`
	Seconds   float64  `json:"seconds"`
	Before    usage    `json:"before"`
	Peak      usage    `json:"peak"`
	After     usage    `json:"after"`
	LogErrors int      `json:"log_errors"`           // level=ERROR lines the server wrote during the attack
	LogLines  int      `json:"log_lines"`            // all lines it wrote during the attack
	ErrorLogs []string `json:"error_logs,omitempty"` // the first few ERROR lines
	Survived  bool     `json:"survived"`             // /healthz answered after the attack
}

type config struct {
	bin            string
	only           string
	out            string
	timeout        time.Duration
	extra          string
	profileSeconds int
	profile        string // a directory for each attack's CPU, heap and allocation profiles ("": none)

	soak        time.Duration // 0: the attacks one by one; else the soak under attack for this long
	soakViewers int           // honest native viewers
	soakTabs    int           // Chromium tabs
	soakAttacks string        // comma-separated attacks run round after round
	harness     string        // the browser harness (tools/e2e/browser.mjs)
}

func main() {
	var cfg config
	flag.StringVar(&cfg.bin, "bin", "bin/shoal", "server binary")
	flag.StringVar(&cfg.only, "only", "", "comma-separated attack names to run (default: all)")
	flag.StringVar(&cfg.out, "json", "", "also write the report as JSON to this file")
	flag.DurationVar(&cfg.timeout, "timeout", 2*time.Minute, "longest one attack may run")
	flag.StringVar(&cfg.profile, "profile", "", "write each attack's server profiles to this directory: <name>.cpu.pprof (the attack's first -profile-seconds), <name>.heap.pprof (at the end of the attack), <name>.allocs.pprof and <name>.allocs-before.pprof (go tool pprof -diff_base the second)")
	flag.IntVar(&cfg.profileSeconds, "profile-seconds", 15, "with -profile: seconds of CPU profile from the start of each attack")
	flag.StringVar(&cfg.extra, "server-flags", "", "extra flags for the server, space-separated (e.g. \"-rtmp-max-conns 8\")")
	flag.DurationVar(&cfg.soak, "soak", 0, "run the soak under attack for this long instead (e.g. 20m)")
	flag.IntVar(&cfg.soakViewers, "soak-viewers", 4, "soak: honest native viewers")
	flag.IntVar(&cfg.soakTabs, "soak-tabs", 2, "soak: honest Chromium tabs")
	flag.StringVar(&cfg.soakAttacks, "soak-attacks", soakAttacks, "soak: the attacks run round after round")
	flag.StringVar(&cfg.harness, "browser-harness", "tools/e2e/browser.mjs", "soak: the Chromium harness (node)")
	list := flag.Bool("list", false, "list the attacks and exit")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "abuse: unexpected argument %q\n", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}
	if *list {
		for _, a := range sortedAttacks() {
			fmt.Println(a.Name)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.soak > 0 {
		os.Exit(soakMain(ctx, cfg))
	}
	results, err := run(ctx, cfg)
	printReport(os.Stdout, results)
	if cfg.out != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		if werr := os.WriteFile(cfg.out, b, 0o644); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "abuse:", err)
		os.Exit(1)
	}
	for _, r := range results {
		if r.Err != "" || !r.Survived {
			os.Exit(1)
		}
	}
}

func run(ctx context.Context, cfg config) ([]result, error) {
	var chosen []Attack
	if cfg.only == "" {
		chosen = sortedAttacks()
	} else {
		for _, name := range strings.Split(cfg.only, ",") {
			a, ok := attacks[strings.TrimSpace(name)]
			if !ok {
				return nil, fmt.Errorf("no attack %q (-list shows them)", name)
			}
			chosen = append(chosen, a)
		}
	}
	var results []result
	for _, a := range chosen {
		if ctx.Err() != nil {
			return results, ctx.Err()
		}
		r, err := runOne(ctx, cfg, a)
		if err != nil {
			return results, fmt.Errorf("%s: %w", a.Name, err)
		}
		fmt.Fprintf(os.Stderr, "abuse: %s done: %s\n", a.Name, r.Limit+r.Err)
		results = append(results, r)
	}
	return results, nil
}

// server is one bin/shoal started for an attack.
type server struct {
	tg     Target
	cmd    *exec.Cmd
	dir    string
	exited chan struct{}
}

// startServer starts bin/shoal on free loopback ports; with bind (say
// "0.0.0.0") its HTTP and RTMP listeners take those ports on that address
// instead, and Target still names them on 127.0.0.1.
func startServer(ctx context.Context, cfg config, bind string) (*server, error) {
	dir, err := os.MkdirTemp("", "shoal-abuse-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	kb := make([]byte, 16)
	rand.Read(kb)
	tg := Target{
		HTTP: freeAddr(), RTMP: freeAddr(), Debug: freeAddr(),
		Stream: "abuse", Key: hex.EncodeToString(kb), Live: "demo",
		Log: filepath.Join(dir, "server.log"),
	}
	logf, err := os.Create(tg.Log)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	listen := func(a string) string {
		if bind == "" {
			return a
		}
		_, port, _ := net.SplitHostPort(a)
		return net.JoinHostPort(bind, port)
	}
	args := []string{"-addr", listen(tg.HTTP), "-rtmp-addr", listen(tg.RTMP), "-debug-addr", tg.Debug,
		"-data-dir", dir, "-demo", tg.Live, "-demo-source", "synthetic", "-ice-loopback",
		"-stream-keys", tg.Stream + "=" + tg.Key}
	args = append(args, strings.Fields(cfg.extra)...)
	cmd := exec.Command(cfg.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", cfg.bin, err)
	}
	s := &server{cmd: cmd, dir: dir, exited: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(s.exited) }()
	tg.PID = cmd.Process.Pid
	s.tg = tg
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("server exited at start (log %s)", tg.Log)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		default:
		}
		if healthy(tg) {
			return s, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop()
	return nil, errors.New("server not healthy within 30 s")
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	os.RemoveAll(s.dir)
}

func healthy(tg Target) bool {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + tg.HTTP + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func runOne(ctx context.Context, cfg config, a Attack) (result, error) {
	s, err := startServer(ctx, cfg, "")
	if err != nil {
		return result{}, err
	}
	defer s.stop()
	r := result{Name: a.Name}
	time.Sleep(time.Second) // let start-up allocations settle
	r.Before = measure(ctx, s.tg)
	logStart := fileSize(s.tg.Log)

	actx, cancel := context.WithTimeout(ctx, cfg.timeout)
	var wg sync.WaitGroup
	var mu sync.Mutex
	r.Peak = r.Before
	sampling := make(chan struct{})
	wg.Add(1)
	go func() { // the worst moment: sample while the attack runs
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-sampling:
				return
			case <-t.C:
			}
			u := measure(ctx, s.tg)
			mu.Lock()
			r.Peak = maxUsage(r.Peak, u)
			mu.Unlock()
		}
	}()
	var prof *profiler
	if cfg.profile != "" {
		prof = startProfile(ctx, s.tg, cfg.profile, a.Name, cfg.profileSeconds)
	}
	start := time.Now()
	limit, err := a.Run(actx, s.tg)
	r.Seconds = time.Since(start).Seconds()
	if prof != nil {
		prof.finish(ctx)
	}
	cancel()
	close(sampling)
	wg.Wait()
	r.Limit = limit
	if err != nil {
		r.Err = err.Error()
	}
	time.Sleep(2 * time.Second) // let the server notice closed connections
	r.After = measure(ctx, s.tg)
	r.Peak = maxUsage(r.Peak, r.After)
	r.Survived = healthy(s.tg)
	r.LogLines, r.LogErrors, r.ErrorLogs = countLog(s.tg.Log, logStart)
	return r, nil
}

func maxUsage(a, b usage) usage {
	return usage{
		RSSMiB: max(a.RSSMiB, b.RSSMiB), FDs: max(a.FDs, b.FDs),
		HeapMiB: max(a.HeapMiB, b.HeapMiB), HeapSysMiB: max(a.HeapSysMiB, b.HeapSysMiB),
		HeapLiveMiB: max(a.HeapLiveMiB, b.HeapLiveMiB), GCs: max(a.GCs, b.GCs),
		Goroutines: max(a.Goroutines, b.Goroutines),
	}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// countLog counts the lines, and the level=ERROR ones, written to the
// server's log after offset, and returns the first 3 ERROR lines.
func countLog(path string, offset int64) (lines, errs int, sample []string) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, nil
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, 0, nil
	}
	b, _ := io.ReadAll(f)
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		lines++
		if bytes.Contains(l, []byte("level=ERROR")) {
			errs++
			if len(sample) < 3 {
				sample = append(sample, string(l))
			}
		}
	}
	return lines, errs, sample
}

func printReport(w io.Writer, results []result) {
	for _, r := range results {
		status := "held"
		switch {
		case r.Err != "":
			status = "FAILED: " + r.Err
		case !r.Survived:
			status = "FAILED: server not healthy after the attack"
		}
		fmt.Fprintf(w, "\n== %s (%.1f s): %s\n", r.Name, r.Seconds, status)
		if r.Limit != "" {
			fmt.Fprintf(w, "   limit:  %s\n", r.Limit)
		}
		fmt.Fprintf(w, "   before: %s\n", r.Before)
		fmt.Fprintf(w, "   peak:   %s\n", r.Peak)
		fmt.Fprintf(w, "   after:  %s\n", r.After)
		fmt.Fprintf(w, "   log:    %d lines, %d at ERROR\n", r.LogLines, r.LogErrors)
		for _, l := range r.ErrorLogs {
			fmt.Fprintf(w, "           %s\n", l)
		}
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}
