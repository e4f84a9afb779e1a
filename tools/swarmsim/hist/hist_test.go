package hist

import (
	"testing"
	"time"
)

func TestHist(t *testing.T) {
	var h Hist
	if d := h.Dist(); d != (Dist{}) || h.CDF(10) != nil {
		t.Fatalf("empty: %+v", d)
	}
	for ms := 1; ms <= 100; ms++ {
		h.Add(int64(ms) * int64(time.Millisecond))
	}
	h.Add(int64(10 * time.Minute)) // beyond the last bin
	d := h.Dist()
	cases := []struct {
		name      string
		got, want float64
	}{
		{"p50", d.P50, 51}, {"p90", d.P90, 91}, {"p99", d.P99, 100},
		{"max", d.Max, 600_000}, {"n", float64(d.N), 101},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	cdf := h.CDF(10)
	if last := cdf[len(cdf)-1]; last.Y != 1 || last.X != MaxMs {
		t.Errorf("CDF ends at %+v, want (MaxMs, 1)", last)
	}
}
