package node

import (
	"testing"
	"time"
)

func TestQueueBudget(t *testing.T) {
	type chunk struct {
		seq  uint64
		ts   int64
		size int
	}
	// steady returns n chunks of size bytes every every ms from seq 1, ts 1000.
	steady := func(n int, every int64, size int) []chunk {
		var cs []chunk
		for i := range n {
			cs = append(cs, chunk{seq: uint64(i + 1), ts: 1000 + int64(i)*every, size: size})
		}
		return cs
	}
	// 1.5 Mbit/s in 125 ms chunks: 23,437 bytes each, 187,500 B/s.
	const chunk15 = 23437
	tests := []struct {
		name     string
		chunks   []chunk
		maxQueue time.Duration
		wantRate float64 // 0: not known yet
		want     uint64
	}{
		{name: "nothing sent yet", maxQueue: time.Second, want: queueUnknown},
		{name: "one chunk: no rate", chunks: steady(1, 125, chunk15), maxQueue: time.Second, want: queueUnknown},
		{name: "under 200 ms of stream", chunks: steady(2, 125, chunk15), maxQueue: time.Second, want: queueUnknown},
		{name: "1.5 Mbit/s, 1.5 s", chunks: steady(10, 125, chunk15), maxQueue: 1500 * time.Millisecond,
			wantRate: 187496, want: 281244},
		{name: "only the newest 32 count", chunks: append(steady(40, 125, 1000), chunk{seq: 41, ts: 1000 + 40*125, size: 1000}),
			maxQueue: time.Second, wantRate: 8000, want: queueFloor},
		{name: "6 Mbit/s, 1 s", chunks: steady(32, 125, 4*chunk15), maxQueue: time.Second, wantRate: 749984, want: 749984},
		{name: "a low rate keeps the floor", chunks: steady(20, 125, 500), maxQueue: time.Second, wantRate: 4000, want: queueFloor},
		{name: "repeats and older chunks count once", chunks: append(steady(10, 125, chunk15),
			chunk{seq: 10, ts: 1000 + 9*125, size: 1 << 20}, chunk{seq: 3, ts: 1250, size: 1 << 20}),
			maxQueue: 1500 * time.Millisecond, wantRate: 187496, want: 281244},
		{name: "timestamps going back start again", chunks: append(steady(10, 125, 1<<20),
			chunk{seq: 11, ts: 0, size: chunk15}, chunk{seq: 12, ts: 125, size: chunk15}, chunk{seq: 13, ts: 250, size: chunk15}),
			maxQueue: 1500 * time.Millisecond, wantRate: 187496, want: 281244},
		{name: "a jump of over a minute starts again", chunks: append(steady(10, 125, 1<<20),
			chunk{seq: 11, ts: 100000, size: chunk15}, chunk{seq: 12, ts: 100125, size: chunk15}),
			maxQueue: time.Second, want: queueUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r streamRate
			for _, c := range tt.chunks {
				r.add(c.seq, c.ts, c.size)
			}
			rate, ok := r.bytesPerSecond()
			if ok != (tt.wantRate != 0) || int(rate) != int(tt.wantRate) {
				t.Errorf("rate %.0f B/s (known %v), want %.0f", rate, ok, tt.wantRate)
			}
			if got := r.queueBudget(tt.maxQueue); got != tt.want {
				t.Errorf("budget %d bytes, want %d", got, tt.want)
			}
		})
	}
}
