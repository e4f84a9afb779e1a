package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shoal-live/shoal/tools/honest"
)

// The soak under attack (-soak DURATION, go tool task abuse:soak): one
// bin/shoal, an ffmpeg RTMP ingest, honest native viewers (tools/honest)
// and Chromium tabs (tools/e2e/browser.mjs) watching it for the whole
// duration, while the attacks that can share a server run against it one
// after the other, round after round. The attackers connect from another
// address (attackIP, added to lo) than the honest viewers (127.0.0.1), as
// on the internet: every cap is per address. Two attacks pick their own
// source addresses: rtmp_bomb's first wave comes from 127.0.0.1 (beside
// ffmpeg's connection), its second from 127.0.1.x, and chat_ban's troll
// from 127.0.0.1 in a room of its own.
//
// It fails when an honest viewer lost a chunk, when the server's memory
// was not flat (the median of the last window more than flatTolerance
// above the first's), or when the server died.

// soakAttacks are the attacks that run against a shared server: the
// others need a server of their own (proxy_spoof counts the connections
// its address may open; cors_preflight reads no state).
const soakAttacks = "rtmp_bomb,signal_padding,idle_links,stalled_posts,chat_ban,report_flood"

const (
	attackIP      = "10.77.0.1"      // the attackers' address, added to lo in the namespace
	sampleEvery   = 10 * time.Second // server resources
	flatWindow    = 5 * time.Minute  // first and last window compared (a quarter of shorter runs)
	flatTolerance = 0.15             // the last window's median may exceed the first's by this much
	attackPause   = 3 * time.Second  // between two attacks
	warmUp        = 20 * time.Second // viewers and tabs settle before the first attack
)

// soakReport is what -soak prints and writes as JSON.
type soakReport struct {
	Duration   string          `json:"duration"`
	HonestAddr string          `json:"honest_addr"`
	AttackAddr string          `json:"attack_addr"`
	Note       string          `json:"note,omitempty"`
	Natives    []honest.Result `json:"natives"`
	Tabs       []tabResult     `json:"tabs"`
	Samples    []soakSample    `json:"samples"`
	Memory     []flatness      `json:"memory"`
	Attacks    []attackRounds  `json:"attacks"`
	Encoder    int             `json:"encoder_restarts"`
	LogErrors  int             `json:"log_errors"`
	ErrorLogs  []string        `json:"error_logs,omitempty"`
	Panics     int             `json:"panics"`
	Survived   bool            `json:"survived"`
	Problems   []string        `json:"problems"`
}

// soakSample is the server's resources at one moment, T seconds after
// the viewers started.
type soakSample struct {
	T float64 `json:"t"`
	usage
}

// flatness compares one resource's median over the first and the last
// window.
type flatness struct {
	What   string  `json:"what"`
	First  float64 `json:"first"`
	Last   float64 `json:"last"`
	Peak   float64 `json:"peak"`
	Judged bool    `json:"judged"` // counts for the verdict (memory), or only shown
	Flat   bool    `json:"flat"`
}

// attackRounds is one attack's record over the soak.
type attackRounds struct {
	Name      string   `json:"name"`
	Rounds    int      `json:"rounds"`
	Held      int      `json:"held"`
	Seconds   float64  `json:"seconds"` // in all
	LastLimit string   `json:"last_limit"`
	Failures  []string `json:"failures,omitempty"` // the first few
}

func runSoak(ctx context.Context, cfg config) (*soakReport, error) {
	rep := &soakReport{Duration: cfg.soak.String(), Problems: []string{}}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return nil, fmt.Errorf("ffmpeg: %w (go tool task deps)", err)
	}
	// Honest viewers on 127.0.0.1 (Chromium's WebRTC is proven there by
	// the e2e tests); the attackers reach the server at attackIP.
	host := "127.0.0.1"
	atk, err := attackAddress()
	bind := "0.0.0.0"
	if err != nil {
		rep.Note = fmt.Sprintf("attackers share 127.0.0.1 with the honest viewers (%v): per-address caps hit them too", err)
		log.Warn(rep.Note)
		atk, bind = host, ""
	}
	rep.HonestAddr, rep.AttackAddr = host, atk
	srv, err := startServer(ctx, cfg, bind)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	tg := srv.tg
	tg.Live = tg.Stream // the attacks' swarm is the honest viewers' one
	_, httpPort, _ := net.SplitHostPort(tg.HTTP)
	_, rtmpPort, _ := net.SplitHostPort(tg.RTMP)
	tg.HTTP, tg.RTMP = net.JoinHostPort(atk, httpPort), net.JoinHostPort(atk, rtmpPort)
	base := "http://" + net.JoinHostPort(host, httpPort)

	var wg sync.WaitGroup
	ectx, stopEncoder := context.WithCancel(ctx)
	defer func() { stopEncoder(); wg.Wait() }()
	var encMu sync.Mutex
	wg.Go(func() {
		n := encoder(ectx, log, fmt.Sprintf("rtmp://%s/live/%s", net.JoinHostPort(host, rtmpPort), tg.Key))
		encMu.Lock()
		rep.Encoder = n
		encMu.Unlock()
	})
	if err := waitLive(ctx, base, tg.Stream, 30*time.Second); err != nil {
		return rep, err
	}
	log.Info("stream live; honest viewers join", "base", base, "stream", tg.Stream, "natives", cfg.soakViewers, "tabs", cfg.soakTabs)

	vctx, cancel := context.WithTimeout(ctx, cfg.soak)
	defer cancel()
	start := time.Now()
	var (
		mu      sync.Mutex
		natives = make([]honest.Result, cfg.soakViewers)
		tabsOut []tabResult
		tabsErr error
		vwg     sync.WaitGroup
	)
	for i := range cfg.soakViewers {
		vwg.Go(func() {
			sleepCtx(vctx, time.Duration(i)*500*time.Millisecond)
			v := honest.New(honest.Config{Base: base, Stream: tg.Stream, Logger: log.With("viewer", i)})
			r := v.Run(vctx)
			mu.Lock()
			natives[i] = r
			mu.Unlock()
		})
	}
	if cfg.soakTabs > 0 {
		vwg.Go(func() {
			t, err := runTabs(ctx, cfg, base+"/watch/"+tg.Stream, cfg.soakTabs, cfg.soak)
			mu.Lock()
			tabsOut, tabsErr = t, err
			mu.Unlock()
		})
	}
	vwg.Go(func() {
		s := sampleServer(vctx, log, tg, start)
		mu.Lock()
		rep.Samples = s
		mu.Unlock()
	})
	rounds := attackLoop(vctx, log, cfg, tg)
	vwg.Wait()

	rep.Natives, rep.Tabs, rep.Attacks = natives, tabsOut, rounds
	if tabsErr != nil {
		rep.Problems = append(rep.Problems, "browser tabs: "+tabsErr.Error())
	}
	rep.Survived = healthy(tg)
	stopEncoder()
	_, rep.LogErrors, rep.ErrorLogs = countLog(tg.Log, 0)
	rep.Panics = countInLog(tg.Log, "panic")
	if cfg.out != "" {
		copyFile(tg.Log, strings.TrimSuffix(cfg.out, ".json")+"-server.log")
	}
	rep.judge(cfg.soak)
	return rep, nil
}

// attackAddress adds attackIP to lo (inside the test's network namespace,
// where the tool runs as root of its user namespace), so that connections
// to it come from it: the attackers' own address.
func attackAddress() (string, error) {
	if l, err := net.Listen("tcp", attackIP+":0"); err == nil {
		l.Close()
		return attackIP, nil
	}
	out, err := exec.Command("ip", "addr", "add", attackIP+"/32", "dev", "lo").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ip addr add %s: %v: %s", attackIP, err, strings.TrimSpace(string(out)))
	}
	return attackIP, nil
}

// encoder keeps ffmpeg publishing a 640×360 test pattern with a tone to
// url, restarting it 1 s after it exits as OBS would, until ctx ends; it
// returns how many times it restarted.
func encoder(ctx context.Context, log *slog.Logger, url string) int {
	restarts := -1
	for ctx.Err() == nil {
		restarts++
		cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
			"-f", "lavfi", "-i", "testsrc=size=640x360:rate=30",
			"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
			"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "30", "-bf", "0",
			"-b:v", "800k", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k",
			"-f", "flv", url)
		cmd.Stderr = os.Stderr
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 5 * time.Second
		err := cmd.Run()
		if ctx.Err() != nil {
			break
		}
		log.Warn("ffmpeg exited; restarting in 1 s", "err", err)
		sleepCtx(ctx, time.Second)
	}
	return max(restarts, 0)
}

// waitLive waits until the stream is live with a second of chunks cut.
func waitLive(ctx context.Context, base, stream string, within time.Duration) error {
	deadline := time.Now().Add(within)
	c := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var st struct {
			Live      bool
			NewestSeq uint64
		}
		if resp, err := c.Get(base + "/api/streams/" + stream + "/status"); err == nil {
			json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if st.Live && st.NewestSeq >= 8 {
				return nil
			}
		}
		sleepCtx(ctx, 250*time.Millisecond)
	}
	return fmt.Errorf("stream %s not live within %v", stream, within)
}

// sampleServer reads the server's resources every sampleEvery until ctx
// ends, and logs each reading.
func sampleServer(ctx context.Context, log *slog.Logger, tg Target, start time.Time) []soakSample {
	var out []soakSample
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		s := soakSample{T: time.Since(start).Seconds(), usage: measure(context.WithoutCancel(ctx), tg)}
		out = append(out, s)
		log.Info("server", "t", time.Duration(s.T)*time.Second, "usage", s.usage.String())
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
		}
	}
}

// attackLoop runs the chosen attacks one after the other, round after
// round, from warmUp until ctx ends. An attack still running at the end is
// cut short and not counted.
func attackLoop(ctx context.Context, log *slog.Logger, cfg config, tg Target) []attackRounds {
	names := strings.Split(cfg.soakAttacks, ",")
	rounds := make([]attackRounds, len(names))
	for i, n := range names {
		rounds[i].Name = strings.TrimSpace(n)
	}
	sleepCtx(ctx, warmUp)
	for ctx.Err() == nil {
		for i := range rounds {
			if ctx.Err() != nil {
				break
			}
			r := &rounds[i]
			a, ok := attacks[r.Name]
			if !ok {
				r.Failures = []string{"no such attack"}
				continue
			}
			actx, cancel := context.WithTimeout(ctx, cfg.timeout)
			began := time.Now()
			limit, err := a.Run(actx, tg)
			cancel()
			if ctx.Err() != nil {
				break // cut short by the end of the soak
			}
			r.Rounds++
			r.Seconds += time.Since(began).Seconds()
			if limit != "" {
				r.LastLimit = limit
			}
			if err == nil {
				r.Held++
			} else if len(r.Failures) < 3 {
				r.Failures = append(r.Failures, err.Error())
			}
			log.Info("attack round", "attack", r.Name, "round", r.Rounds, "err", err, "took", time.Since(began).Round(100*time.Millisecond))
			sleepCtx(ctx, attackPause)
		}
	}
	return rounds
}

// judge fills Memory and Problems.
func (r *soakReport) judge(d time.Duration) {
	w := min(flatWindow, d/4)
	var first, last []soakSample
	for _, s := range r.Samples {
		if s.T < w.Seconds() {
			first = append(first, s)
		}
		if s.T >= (d - w).Seconds() {
			last = append(last, s)
		}
	}
	for _, m := range []struct {
		what   string
		judged bool
		get    func(usage) float64
	}{
		{"RSS (MiB)", true, func(u usage) float64 { return u.RSSMiB }},
		{"Go heap in use (MiB)", true, func(u usage) float64 { return u.HeapMiB }},
		{"Go heap from the OS (MiB)", false, func(u usage) float64 { return u.HeapSysMiB }},
		{"goroutines", false, func(u usage) float64 { return float64(u.Goroutines) }},
		{"descriptors", false, func(u usage) float64 { return float64(u.FDs) }},
	} {
		f := flatness{What: m.what, Judged: m.judged, First: median(first, m.get), Last: median(last, m.get)}
		for _, s := range r.Samples {
			f.Peak = max(f.Peak, m.get(s.usage))
		}
		f.Flat = len(first) > 0 && len(last) > 0 && f.Last <= f.First*(1+flatTolerance)
		r.Memory = append(r.Memory, f)
		if m.judged && !f.Flat {
			r.Problems = append(r.Problems, fmt.Sprintf("%s not flat: median %.1f over the first %v, %.1f over the last", m.what, f.First, w, f.Last))
		}
	}
	for i, n := range r.Natives {
		switch {
		case n.Chunks == 0:
			r.Problems = append(r.Problems, fmt.Sprintf("native viewer %d received no chunk", i))
		case n.Lost > 0:
			r.Problems = append(r.Problems, fmt.Sprintf("native viewer %d lost %d chunks", i, n.Lost))
		}
		if n.DeliveredBad+n.ForwardedBad > 0 {
			r.Problems = append(r.Problems, fmt.Sprintf("native viewer %d delivered %d and forwarded %d unverified chunks", i, n.DeliveredBad, n.ForwardedBad))
		}
	}
	for _, t := range r.Tabs {
		switch {
		case t.Error != "":
			r.Problems = append(r.Problems, fmt.Sprintf("tab %d: %s", t.Index, t.Error))
		case t.Chunks == 0:
			r.Problems = append(r.Problems, fmt.Sprintf("tab %d received no chunk", t.Index))
		case t.Lost > 0 || t.Skipped > 0:
			r.Problems = append(r.Problems, fmt.Sprintf("tab %d lost %d chunks (holes in its deliveries), its player skipped %d", t.Index, t.Lost, t.Skipped))
		}
	}
	if !r.Survived {
		r.Problems = append(r.Problems, "the server did not answer /healthz at the end")
	}
	if r.Panics > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%d panics in the server log", r.Panics))
	}
}

func median(ss []soakSample, get func(usage) float64) float64 {
	if len(ss) == 0 {
		return 0
	}
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = get(s.usage)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (r *soakReport) print(w io.Writer) {
	fmt.Fprintf(w, "\n== soak under attack, %s: honest viewers from %s, attackers from %s (rtmp_bomb also from 127.0.0.1 and 127.0.1.x, chat_ban's troll from 127.0.0.1)\n", r.Duration, r.HonestAddr, r.AttackAddr)
	if r.Note != "" {
		fmt.Fprintf(w, "   note: %s\n", r.Note)
	}
	fmt.Fprintf(w, "\nhonest viewers (lost = chunks between a viewer's first and last it never got):\n")
	for i, n := range r.Natives {
		fmt.Fprintf(w, "   native %d: %d chunks (%d..%d), lost %d; %d sessions, %d quarantined, %d fetched over HTTP while away; verified %d, refused %d, unverified delivered/forwarded %d/%d\n",
			i, n.Chunks, n.First, n.Last, n.Lost, n.Sessions, n.Quarantines, n.FetchedAway, n.Verified, n.VerifyFailures, n.DeliveredBad, n.ForwardedBad)
	}
	for _, t := range r.Tabs {
		fmt.Fprintf(w, "   tab %d: %d chunks (%d..%d), lost %d, player skipped %d; %d stalls, %.1f s stalled in %.0f s played (%.2f%%), longest %.1f s; %d frames decoded, %d dropped; most buffered ranges %d; %d reconnects; %.0f%% of bytes from peers%s\n",
			t.Index, t.Chunks, t.First, t.Last, t.Lost, t.Skipped, t.Stalls, t.StalledMs/1000, t.PlayedS, 100*t.StallRatio, t.MaxStallMs/1000,
			t.Decoded, t.Dropped, t.MaxRanges, t.Reconnects, t.PeerShare, errSuffix(t.Error))
	}
	fmt.Fprintf(w, "\nserver, every %v (median of the first vs the last window; flat = within %.0f%%):\n", sampleEvery, 100*flatTolerance)
	for _, m := range r.Memory {
		verdict := "flat"
		if !m.Flat {
			verdict = "GREW"
		}
		if !m.Judged {
			verdict += " (shown, not judged)"
		}
		fmt.Fprintf(w, "   %-26s %8.1f -> %8.1f  peak %8.1f  %s\n", m.What, m.First, m.Last, m.Peak, verdict)
	}
	fmt.Fprintf(w, "   %d samples; encoder restarts %d; server log: %d ERROR lines, %d panics; healthy at the end: %v\n",
		len(r.Samples), r.Encoder, r.LogErrors, r.Panics, r.Survived)
	for _, l := range r.ErrorLogs {
		fmt.Fprintf(w, "      %s\n", l)
	}
	fmt.Fprintf(w, "\nattacks, one after the other against the same server:\n")
	for _, a := range r.Attacks {
		fmt.Fprintf(w, "   %-15s %d rounds, %d held (%.0f s in all)\n", a.Name, a.Rounds, a.Held, a.Seconds)
		if a.LastLimit != "" {
			fmt.Fprintf(w, "                   last: %s\n", a.LastLimit)
		}
		for _, f := range a.Failures {
			fmt.Fprintf(w, "                   did not hold: %s\n", f)
		}
	}
	if len(r.Problems) == 0 {
		fmt.Fprintf(w, "\nPASS: no honest viewer lost a chunk, memory flat\n")
		return
	}
	fmt.Fprintf(w, "\nFAIL:\n")
	for _, p := range r.Problems {
		fmt.Fprintf(w, "   %s\n", p)
	}
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return "; error: " + e
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return fmt.Errorf("copy %s: %w", from, err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		return fmt.Errorf("copy to %s: %w", to, err)
	}
	return nil
}

// soakMain runs the soak, prints its report (and writes it as JSON to
// cfg.out, and as text beside it) and returns the exit status.
func soakMain(ctx context.Context, cfg config) int {
	rep, err := runSoak(ctx, cfg)
	if rep == nil {
		fmt.Fprintln(os.Stderr, "abuse -soak:", err)
		return 1
	}
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
	}
	var text bytes.Buffer
	rep.print(io.MultiWriter(os.Stdout, &text))
	if cfg.out != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if werr := os.WriteFile(cfg.out, b, 0o644); werr != nil {
			fmt.Fprintln(os.Stderr, "abuse -soak:", werr)
		}
		os.WriteFile(strings.TrimSuffix(cfg.out, ".json")+".txt", text.Bytes(), 0o644)
	}
	if len(rep.Problems) > 0 {
		return 1
	}
	return 0
}
