package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// profiler takes the server's profiles around one attack (-profile): the
// allocations so far before it starts, a CPU profile of its first seconds,
// and the heap and allocations once it is done. Errors go to stderr: a
// profile is a diagnostic, never the attack's verdict.
type profiler struct {
	tg   Target
	base string // dir/name
	cpu  chan struct{}
}

func startProfile(ctx context.Context, tg Target, dir, name string, seconds int) *profiler {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "abuse: profile:", err)
		return nil
	}
	p := &profiler{tg: tg, base: filepath.Join(dir, name), cpu: make(chan struct{})}
	p.fetch(ctx, "allocs", ".allocs-before.pprof")
	go func() {
		defer close(p.cpu)
		p.fetch(ctx, fmt.Sprintf("profile?seconds=%d", seconds), ".cpu.pprof")
	}()
	return p
}

// finish takes the heap and allocation profiles and waits for the CPU one.
func (p *profiler) finish(ctx context.Context) {
	p.fetch(ctx, "heap", ".heap.pprof")
	p.fetch(ctx, "allocs", ".allocs.pprof")
	<-p.cpu
	fmt.Fprintf(os.Stderr, "abuse: profiles in %s.*.pprof\n", p.base)
}

func (p *profiler) fetch(ctx context.Context, what, suffix string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.tg.Debug+"/debug/pprof/"+what, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "abuse: profile:", err)
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "abuse: profile:", err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "abuse: profile %s: %s\n", what, resp.Status)
		return
	}
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(p.base+suffix, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "abuse: profile:", err)
	}
}
