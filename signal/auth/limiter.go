package auth

import (
	"math"
	"sync"
	"time"
)

// limiter is a set of token buckets, one per key, for failed logins. A key's
// bucket holds up to burst tokens and gains one every refill; each attempt
// takes one, and a success empties the record. Buckets that have refilled
// are forgotten, and the set never holds more than max keys.
type limiter struct {
	burst  float64
	refill time.Duration
	max    int

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

func newLimiter(burst int, refill time.Duration, max int) *limiter {
	return &limiter{burst: float64(burst), refill: refill, max: max, buckets: make(map[string]*bucket)}
}

// level returns the bucket's tokens at now.
func (l *limiter) level(b *bucket, now time.Time) float64 {
	return min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.refill))
}

// take spends a token of key's bucket. If there is none it returns false
// and how long until there is one.
func (l *limiter) take(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens, b.at = l.level(b, now), now
	if b.tokens < 1 {
		return false, time.Duration(math.Ceil((1 - b.tokens) * float64(l.refill)))
	}
	b.tokens--
	return true, 0
}

// reset forgets key: its attempts succeeded.
func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.buckets, key)
}

// evict makes room: it drops the buckets that have refilled, which are no
// different from absent ones, and if that is not enough, arbitrary ones.
func (l *limiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if l.level(b, now) >= l.burst {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < l.max {
			break
		}
		delete(l.buckets, k)
	}
}
