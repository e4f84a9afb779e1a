package node

import "time"

// A live chunk is worth sending only while it can still arrive in time to
// be played. A data channel's send buffer drains no faster than the
// connection (or, in a browser, the machine) allows; when either cannot
// keep up, an unbounded buffer turns every chunk after the first late one
// into a late one too: each waits behind seconds of its elders, arrives
// after the player gave up on it, and has cost both machines the work of
// carrying it. (Six tabs on two cores: peers' chunks arrived 3-8 s after
// they were cut with a 4 MiB bound, 0.1 s with a 256 KiB one; see
// docs/BENCHMARKS.md.) So the node measures the stream's byte rate from
// the chunks it sends and lets a channel hold at most Config.MaxQueue of
// it: a chunk that would wait longer is not sent, and the neighbour gets
// it the way it gets any chunk it misses (a request to another
// neighbour, or the origin over HTTP).

const (
	// rateSamples is how many of the newest chunks the rate is measured
	// over (4 s of 125 ms chunks).
	rateSamples = 32
	// queueFloor is the least a channel may hold, whatever the rate: a
	// few chunks of a low-rate stream.
	queueFloor = 128 << 10
	// queueUnknown is the bound before the rate is known.
	queueUnknown = 256 << 10
)

// streamRate measures a stream's byte rate from its chunks' sizes and
// media timestamps (ms), each chunk counted once, in sequence order.
type streamRate struct {
	ts      [rateSamples]int64
	size    [rateSamples]int
	n, next int
	lastSeq uint64
}

// add counts chunk seq (timestamp ts, size bytes) unless it is not newer
// than the newest counted. A timestamp that goes back, or jumps more than
// a minute ahead (a new run of the origin), starts the measure again.
func (r *streamRate) add(seq uint64, ts int64, size int) {
	if r.n > 0 {
		if seq <= r.lastSeq {
			return
		}
		newest := r.ts[(r.next+rateSamples-1)%rateSamples]
		if ts < newest || ts-newest > time.Minute.Milliseconds() {
			r.n, r.next = 0, 0
		}
	}
	r.lastSeq = seq
	r.ts[r.next], r.size[r.next] = ts, size
	r.next = (r.next + 1) % rateSamples
	r.n = min(r.n+1, rateSamples)
}

// bytesPerSecond is the rate over the counted chunks: the bytes of all
// but the oldest over the time from the oldest to the newest. ok is false
// until they span 200 ms.
func (r *streamRate) bytesPerSecond() (rate float64, ok bool) {
	if r.n < 2 {
		return 0, false
	}
	oldest := (r.next + rateSamples - r.n) % rateSamples
	newest := (r.next + rateSamples - 1) % rateSamples
	span := r.ts[newest] - r.ts[oldest]
	if span < 200 {
		return 0, false
	}
	bytes := 0
	for i := 1; i < r.n; i++ {
		bytes += r.size[(oldest+i)%rateSamples]
	}
	return float64(bytes) * 1000 / float64(span), true
}

// queueBudget is how many bytes a channel's send buffer may hold before
// chunk sends to it are dropped: maxQueue of the stream at its measured
// rate, at least queueFloor.
func (r *streamRate) queueBudget(maxQueue time.Duration) uint64 {
	rate, ok := r.bytesPerSecond()
	if !ok {
		return queueUnknown
	}
	return max(queueFloor, uint64(rate*maxQueue.Seconds()))
}
