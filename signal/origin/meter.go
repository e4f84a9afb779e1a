package origin

import (
	"sync"
	"sync/atomic"
	"time"
)

// meterWindow is how far back IngestMeter's rates look.
const meterWindow = 5 * time.Second

// IngestMeter measures a broadcaster's feed as its fragments arrive: the
// bitrate and the keyframe interval, for the studio's live status. It is
// safe for concurrent use.
type IngestMeter struct {
	mu        sync.Mutex
	samples   []meterSample   // the last meterWindow of fragments
	keyStarts []time.Duration // media times of the last keyframes, at most maxKeyframes
	fragments int64
	bytes     int64
}

// maxKeyframes is how many keyframes the keyframe interval averages over.
const maxKeyframes = 6

type meterSample struct {
	at    time.Time
	bytes int
}

// MeterReading is what an IngestMeter has seen.
type MeterReading struct {
	// BitsPerSecond is the feed's rate over the last few seconds.
	BitsPerSecond float64
	// KeyframeInterval is the mean media time between the last few
	// keyframes; zero until two have arrived.
	KeyframeInterval time.Duration
	// Fragments and Bytes count the whole session.
	Fragments int64
	Bytes     int64
}

// Record notes one fragment of size bytes that arrived at now, starting at
// media time start, and whether it begins with a keyframe.
func (m *IngestMeter) Record(now time.Time, size int, start time.Duration, keyframe bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.samples = append(m.samples, meterSample{at: now, bytes: size})
	m.trim(now)
	m.fragments++
	m.bytes += int64(size)
	if keyframe {
		if n := len(m.keyStarts); n > 0 && start <= m.keyStarts[n-1] {
			m.keyStarts = m.keyStarts[:0] // a new timeline: start over
		}
		m.keyStarts = append(m.keyStarts, start)
		if len(m.keyStarts) > maxKeyframes {
			m.keyStarts = append(m.keyStarts[:0], m.keyStarts[1:]...)
		}
	}
}

// trim drops the samples older than the window.
func (m *IngestMeter) trim(now time.Time) {
	i := 0
	for i < len(m.samples) && now.Sub(m.samples[i].at) > meterWindow {
		i++
	}
	m.samples = append(m.samples[:0], m.samples[i:]...)
}

// Read returns the meter's reading at now.
func (m *IngestMeter) Read(now time.Time) MeterReading {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.trim(now)
	r := MeterReading{Fragments: m.fragments, Bytes: m.bytes}
	if n := len(m.keyStarts); n >= 2 {
		r.KeyframeInterval = (m.keyStarts[n-1] - m.keyStarts[0]) / time.Duration(n-1)
	}
	if len(m.samples) >= 2 {
		total := 0
		for _, s := range m.samples[1:] {
			total += s.bytes
		}
		if span := now.Sub(m.samples[0].at); span > 0 {
			r.BitsPerSecond = float64(total) * 8 / span.Seconds()
		}
	}
	return r
}

// uploadCounter counts the payload bytes the origin sent to viewers: pushed
// by its peer over the swarm and served to fallback fetches.
type uploadCounter struct {
	pushed  atomic.Int64 // the origin peer's Uploaded, as of its last stats
	fetched atomic.Int64
}

// CountFetched adds n bytes served to a fallback fetch to the origin's
// upload.
func (o *Origin) CountFetched(n int) { o.up.fetched.Add(int64(n)) }

// Uploaded returns the payload bytes the origin has sent to viewers so far,
// pushed over the swarm (as of the origin peer's last stats, every 500 ms)
// and served to fallback fetches: what the swarm did not carry.
func (o *Origin) Uploaded() int64 { return o.up.pushed.Load() + o.up.fetched.Load() }
