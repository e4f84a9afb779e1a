package main

import (
	"bufio"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

//go:embed page
var pageFS embed.FS

// freeAddr is a free TCP address on loopback.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startCmd runs name with args until ctx ends, its output in logPath;
// interrupted, not killed, so that it can clean up.
func startCmd(ctx context.Context, logPath, dir, name string, args ...string) (*exec.Cmd, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		cmd.Wait()
		log.Close()
	}()
	return cmd, nil
}

// startShoal runs bin/shoal the way the brief asks: one RTMP stream "live"
// with key, the origin pushing one copy of the stream (-origin-copies 1),
// loopback ICE (unless blockRTC: then the origin, in a namespace with only
// loopback, has no ICE candidate a tab can reach), a private data
// directory, no demo stream.
func startShoal(ctx context.Context, bin, addr, rtmpAddr, key, dataDir, logPath string, blockRTC bool) (*exec.Cmd, error) {
	args := []string{"-addr", addr, "-rtmp-addr", rtmpAddr, "-data-dir", dataDir,
		"-stream-keys", "live=" + key, "-origin-copies", "1", "-demo", ""}
	if !blockRTC {
		args = append(args, "-ice-loopback")
	}
	cmd, err := startCmd(ctx, logPath, "", bin, args...)
	if err != nil {
		return nil, err
	}
	return cmd, waitHTTP(ctx, "http://"+addr+"/healthz", 20*time.Second, func(*http.Response) bool { return true })
}

// startTracker runs tracker.mjs and waits for its "listening".
func startTracker(ctx context.Context, dir, port, logPath string) (*exec.Cmd, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "node", "tracker.mjs", "--port", port)
	cmd.Dir = dir
	cmd.Stderr = log
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the tracker: %w", err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if sc.Text() == "listening" && !ok {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
		cmd.Wait()
		log.Close()
	}()
	select {
	case ok := <-ready:
		if !ok {
			return nil, fmt.Errorf("the tracker exited before listening; see %s", logPath)
		}
		return cmd, nil
	case <-time.After(20 * time.Second):
		return nil, errors.New("the tracker did not listen within 20 s")
	}
}

// waitHTTP polls url until ok accepts a 200 answer.
func waitHTTP(ctx context.Context, url string, within time.Duration, ok func(*http.Response) bool) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			good := resp.StatusCode == http.StatusOK && ok(resp)
			resp.Body.Close()
			if good {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("GET %s: not ready within %v: %v", url, within, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// streamLive accepts Shoal's /api/streams/<s>/status once chunks flow.
func streamLive(resp *http.Response) bool {
	var st struct {
		Live      bool  `json:"live"`
		NewestSeq int64 `json:"newestSeq"`
	}
	return json.NewDecoder(resp.Body).Decode(&st) == nil && st.Live && st.NewestSeq >= 16
}

// hlsServer serves the HLS output (/hls/), the comparison page (/bench/)
// and the three npm bundles it loads (/npm/).
func hlsServer(hlsDir, nodeModules string) http.Handler {
	mux := http.NewServeMux()
	hls := http.StripPrefix("/hls/", http.FileServer(http.Dir(hlsDir)))
	mux.Handle("/hls/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		switch filepath.Ext(r.URL.Path) {
		case ".m3u8":
			w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		case ".m4s", ".mp4":
			w.Header().Set("Content-Type", "video/mp4")
		}
		hls.ServeHTTP(w, r)
	}))
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	page, _ := fs.Sub(pageFS, "page")
	mux.Handle("/bench/", http.StripPrefix("/bench/", http.FileServer(http.FS(page))))
	npm := http.StripPrefix("/npm/", http.FileServer(http.Dir(nodeModules)))
	mux.Handle("/npm/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range []string{"/npm/hls.js/dist/", "/npm/p2p-media-loader-core/dist/", "/npm/p2p-media-loader-hlsjs/dist/"} {
			if strings.HasPrefix(r.URL.Path, p) && !strings.Contains(r.URL.Path, "..") {
				npm.ServeHTTP(w, r)
				return
			}
		}
		http.NotFound(w, r)
	}))
	return mux
}

// hlsReady accepts a playlist with at least three segments.
func hlsReady(resp *http.Response) bool {
	sc := bufio.NewScanner(resp.Body)
	n := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#EXTINF") {
			n++
		}
	}
	return n >= 3
}

// cpuSeconds is the CPU time (user + system) of pid so far, from
// /proc/<pid>/stat; ok is false once the process is gone.
func cpuSeconds(pid int) (float64, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const clkTck = 100 // USER_HZ on Linux
	return (utime + stime) / clkTck, true
}

// loadAvg is /proc/loadavg's first three fields.
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// stopProcess interrupts p (SIGTERM, a graceful shutdown) and waits up to
// grace for it to be gone (its parent's Wait reaps it), then kills it.
func stopProcess(p *os.Process, grace time.Duration) error {
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	for deadline := time.Now().Add(grace); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if p.Signal(syscall.Signal(0)) != nil {
			return nil
		}
	}
	return p.Kill()
}
