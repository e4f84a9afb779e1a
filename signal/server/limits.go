package server

import (
	"fmt"
	"github.com/shoal-live/shoal/signal/jsonhttp"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"golang.org/x/time/rate"
)

// HTTP limits beside the signaling ones in session.go (connections per
// address, messages per second, message and SDP sizes, peers per swarm).
const (
	// MaxRequestBody bounds every request body; handlers set tighter
	// limits of their own (a WHIP offer, a login form).
	MaxRequestBody = 1 << 20
	// ChunkFetchRate and ChunkFetchBurst bound fallback chunk fetches per
	// client address. A viewer falls back for at most a few chunks per
	// second (4 chunks/s is the whole stream); a bigger bucket leaves room
	// for a household behind one address.
	ChunkFetchRate  = 100
	ChunkFetchBurst = 200
)

// limits holds the server's per-address HTTP rate limiters.
type limits struct {
	chunks ipLimiter
}

// bodyLimit refuses a request whose declared body is over MaxRequestBody
// with 413, and caps the rest, so that no handler reads an unbounded body.
func (s *Server) bodyLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxRequestBody {
			s.log.Warn("request body too large", "method", r.Method, "path", r.URL.Path,
				"bytes", r.ContentLength, "limit", MaxRequestBody, "ip", middleware.GetClientIP(r.Context()))
			jsonhttp.Error(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body too large: limit %d bytes", MaxRequestBody))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			// A body must arrive within BodyReadTimeout: a client that
			// sends headers and then stalls holds a connection no longer.
			// Once it is read the deadline goes, or net/http's background
			// read would hit it and cancel a handler that takes its time
			// (a WHIP answer waits for ICE gathering).
			rc := http.NewResponseController(w)
			rc.SetReadDeadline(time.Now().Add(BodyReadTimeout))
			r.Body = &deadlineBody{ReadCloser: http.MaxBytesReader(w, r.Body, MaxRequestBody), rc: rc}
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the connection's read deadline when its body has
// been read to the end.
type deadlineBody struct {
	io.ReadCloser
	rc *http.ResponseController
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// limitChunkFetches answers 429 to an address fetching fallback chunks
// faster than ChunkFetchRate.
func (s *Server) limitChunkFetches(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := middleware.GetClientIP(r.Context())
		if !s.limits.chunks.allow(ip, ChunkFetchRate, ChunkFetchBurst) {
			if s.limits.chunks.firstRefusal(ip) {
				s.log.Warn("chunk fetches rate-limited", "ip", ip, "limit_per_s", ChunkFetchRate)
			}
			w.Header().Set("Retry-After", "1")
			jsonhttp.Error(w, http.StatusTooManyRequests, fmt.Sprintf("too many chunk requests: limit %d per second", ChunkFetchRate))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ipLimiter keeps a token bucket per client address, forgetting idle ones.
type ipLimiter struct {
	mu    sync.Mutex
	m     map[string]*ipBucket
	swept time.Time
}

type ipBucket struct {
	lim      *rate.Limiter
	seen     time.Time
	refusing bool // the last request was refused (log once per episode)
}

func (l *ipLimiter) allow(ip string, r rate.Limit, burst int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.m == nil {
		l.m = make(map[string]*ipBucket)
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
		b = &ipBucket{lim: rate.NewLimiter(r, burst)}
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
func (l *ipLimiter) firstRefusal(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[ip]
	if b == nil || b.refusing {
		return false
	}
	b.refusing = true
	return true
}
