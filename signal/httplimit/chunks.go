package httplimit

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"golang.org/x/time/rate"

	"github.com/shoal-live/shoal/signal/jsonhttp"
)

// ChunkFetchRate and ChunkFetchBurst bound fallback chunk fetches per
// client address. A viewer falls back for at most a few chunks per second
// (4 chunks/s is the whole stream); a bigger bucket leaves room for a
// household behind one address.
const (
	ChunkFetchRate  = 100
	ChunkFetchBurst = 200
)

// ChunkFetches limits fallback chunk fetches per client address. Make it
// with NewChunkFetches.
type ChunkFetches struct {
	log    *slog.Logger
	bucket perAddr
}

// NewChunkFetches returns an empty limiter of chunk fetches.
func NewChunkFetches(log *slog.Logger) *ChunkFetches { return &ChunkFetches{log: log} }

// Limit answers 429 to an address fetching faster than ChunkFetchRate.
func (l *ChunkFetches) Limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := middleware.GetClientIP(r.Context())
		if !l.bucket.allow(ip, ChunkFetchRate, ChunkFetchBurst) {
			if l.bucket.firstRefusal(ip) {
				l.log.Warn("chunk fetches rate-limited", "ip", ip, "limit_per_s", ChunkFetchRate)
			}
			w.Header().Set("Retry-After", "1")
			jsonhttp.Error(w, http.StatusTooManyRequests, fmt.Sprintf("too many chunk requests: limit %d per second", ChunkFetchRate))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// perAddr keeps a token bucket per client address, forgetting idle ones.
type perAddr struct {
	mu    sync.Mutex
	m     map[string]*bucket
	swept time.Time
}

type bucket struct {
	lim      *rate.Limiter
	seen     time.Time
	refusing bool // the last request was refused (log once per episode)
}

func (l *perAddr) allow(ip string, r rate.Limit, burst int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.m == nil {
		l.m = make(map[string]*bucket)
	}
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.m {
			if now.Sub(b.seen) > time.Minute {
				delete(l.m, k)
			}
		}
		l.swept = now
	}
	b := l.m[ip]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(r, burst)}
		l.m[ip] = b
	}
	b.seen = now
	ok := b.lim.AllowN(now, 1)
	if ok {
		b.refusing = false
	}
	return ok
}

// firstRefusal reports whether this is the first refusal of a run, so
// that a flood logs one line, not thousands.
func (l *perAddr) firstRefusal(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[ip]
	if b == nil || b.refusing {
		return false
	}
	b.refusing = true
	return true
}
