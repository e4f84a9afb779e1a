// Package hist summarises latencies for the simulator (tools/swarmsim) and
// the real-network check (tools/swarmload), so that both report the same
// distributions the same way: a histogram in 1 ms bins up to two minutes,
// its quantiles, and a CDF to plot.
package hist

import (
	"math"
	"strconv"
	"time"
)

// MaxMs is the last bin; longer samples count in it.
const MaxMs = 120_000

// Dist summarises a distribution in milliseconds.
type Dist struct {
	N    int64   `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// Point is one point of a CDF: a share Y of the samples is at most X ms.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Hist is a histogram of durations in 1 ms bins. The zero value is empty
// and ready to use.
type Hist struct {
	bins []int64
	n    int64
	sum  float64
	max  int64
}

// Add counts one sample of ns nanoseconds.
func (h *Hist) Add(ns int64) {
	ms := max(ns/int64(time.Millisecond), 0)
	if h.bins == nil {
		h.bins = make([]int64, MaxMs+1)
	}
	h.bins[min(ms, MaxMs)]++
	h.n++
	h.sum += float64(ns) / 1e6
	h.max = max(h.max, ns)
}

// N is the number of samples.
func (h *Hist) N() int64 { return h.n }

// Quantile returns the q-quantile in ms (0 when empty).
func (h *Hist) Quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	want := int64(math.Ceil(q * float64(h.n)))
	var c int64
	for i, b := range h.bins {
		c += b
		if c >= max(want, 1) {
			return float64(i)
		}
	}
	return MaxMs
}

// Dist returns the summary.
func (h *Hist) Dist() Dist {
	if h.n == 0 {
		return Dist{}
	}
	return Dist{N: h.n, Mean: Round(h.sum / float64(h.n)), P50: h.Quantile(.5), P90: h.Quantile(.9),
		P95: h.Quantile(.95), P99: h.Quantile(.99), Max: float64(h.max / int64(time.Millisecond))}
}

// CDF returns about points points of the cumulative distribution.
func (h *Hist) CDF(points int) []Point {
	if h.n == 0 {
		return nil
	}
	var out []Point
	var c int64
	step := max(h.n/int64(points), 1)
	next := step
	for i, b := range h.bins {
		if b == 0 {
			continue
		}
		c += b
		if c >= next || c == h.n {
			out = append(out, Point{X: float64(i), Y: Round(float64(c) / float64(h.n))})
			for next <= c {
				next += step
			}
		}
	}
	return out
}

// Round keeps 6 significant digits, for readable JSON.
func Round(f float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 6, 64), 64)
	return v
}
