package origin

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/shoal-live/shoal/shared/wire"
)

// Synthetic publishes a made-up stream until ctx ends: one chunk of size
// bytes every interval, carrying its sequence number and timestamp in its
// first 16 bytes and bytes derived from the sequence number after that, so
// a receiver can check a chunk with CheckSynthetic. Numbers start at
// FirstSeq, as an origin's do.
func Synthetic(ctx context.Context, interval time.Duration, size int, publish func(wire.Chunk)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	seq := FirstSeq(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			publish(SyntheticChunk(seq, now.UnixMilli(), size))
			seq++
		}
	}
}

// SyntheticChunk builds synthetic chunk seq.
func SyntheticChunk(seq uint64, ts int64, size int) wire.Chunk {
	size = max(16, min(size, wire.MaxPayload))
	p := make([]byte, size)
	binary.BigEndian.PutUint64(p, seq)
	binary.BigEndian.PutUint64(p[8:], uint64(ts))
	x := seq*0x9E3779B97F4A7C15 + 1
	for i := 16; i < size; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		p[i] = byte(x)
	}
	return wire.Chunk{Seq: seq, Timestamp: ts, Payload: p}
}

// CheckSynthetic reports whether c is exactly what SyntheticChunk made.
func CheckSynthetic(c wire.Chunk) bool {
	if len(c.Payload) < 16 {
		return false
	}
	want := SyntheticChunk(c.Seq, c.Timestamp, len(c.Payload))
	return string(want.Payload) == string(c.Payload)
}
