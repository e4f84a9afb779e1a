package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(2, time.Minute, 100)
	for _, s := range []struct {
		at       time.Duration
		key      string
		want     bool
		wantWait time.Duration
	}{
		{0, "a", true, 0},
		{0, "a", true, 0},
		{0, "a", false, time.Minute},
		{0, "b", true, 0},
		{30 * time.Second, "a", false, 30 * time.Second},
		{time.Minute, "a", true, 0},
		{time.Minute, "a", false, time.Minute},
		{10 * time.Minute, "a", true, 0}, // refilled to the burst, no more
		{10 * time.Minute, "a", true, 0},
		{10 * time.Minute, "a", false, time.Minute},
	} {
		ok, wait := l.take(s.key, t0.Add(s.at))
		if ok != s.want || wait != s.wantWait {
			t.Fatalf("take(%s) at +%v = %v, %v; want %v, %v", s.key, s.at, ok, wait, s.want, s.wantWait)
		}
	}
	l.reset("a")
	if ok, _ := l.take("a", t0.Add(10*time.Minute)); !ok {
		t.Error("reset did not refill")
	}
}

func TestLimiterBounded(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(2, time.Minute, 10)
	l.take("victim", t0)
	l.take("victim", t0)
	for i := range 5 { // refilled by the time the set is full: evicted first
		l.take(fmt.Sprint("idle", i), t0)
	}
	for i := range 1000 {
		l.take(fmt.Sprint("flood", i), t0.Add(5*time.Minute))
		if len(l.buckets) > 10 {
			t.Fatalf("%d buckets, max 10", len(l.buckets))
		}
	}
}
