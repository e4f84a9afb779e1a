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

// lagProbe measures how late a sleeping goroutine wakes: on an idle
// machine well under a millisecond; when the run (or anything else on the
// machine) wants more CPU than there is, tens of milliseconds, and every
// packet, tick and timer in the run is late by as much.
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
