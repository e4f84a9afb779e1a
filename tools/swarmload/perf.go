package main

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// loadAvg is the machine's 1-minute load average, 0 if unknown.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, _ := strconv.ParseFloat(f, 64)
	return v
}

// lagProbe measures how late a sleeping goroutine wakes: well under a
// millisecond when the process's Ps are free, more when the run's own
// goroutines keep them busy. It does not show the CPU share the kernel
// gives busy threads on a crowded machine (see Perf.SchedLagMs).
type lagProbe struct {
	mu   sync.Mutex
	lags []float64 // ms
}

const lagPeriod = 20 * time.Millisecond

func startLagProbe(ctx context.Context) *lagProbe {
	p := &lagProbe{}
	go func() {
		t := time.NewTimer(lagPeriod)
		defer t.Stop()
		want := time.Now().Add(lagPeriod)
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				p.mu.Lock()
				p.lags = append(p.lags, float64(max(now.Sub(want), 0))/1e6)
				p.mu.Unlock()
				want = time.Now().Add(lagPeriod)
				t.Reset(lagPeriod)
			}
		}
	}()
	return p
}

func (p *lagProbe) dist() Dist {
	p.mu.Lock()
	lags := slices.Clone(p.lags)
	p.mu.Unlock()
	slices.Sort(lags)
	return distOf(lags)
}
