package rtmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/shoal-live/shoal/signal/cmaf"
)

const (
	// DefaultAddr is RTMP's usual port.
	DefaultAddr = ":1935"
	// DefaultReadTimeout bounds each read from a publisher, and the
	// handshake plus track analysis, when Config leaves it zero.
	DefaultReadTimeout = 10 * time.Second
	// DefaultMaxConns and DefaultMaxConnsPerAddr bound the connections
	// served at once, in all and from one remote address (an encoder
	// needs one; a reconnecting one briefly two).
	DefaultMaxConns        = 64
	DefaultMaxConnsPerAddr = 4
	// DefaultMaxChunkSize bounds the chunk size a client may set: OBS and
	// ffmpeg use 4096, and SRS refuses anything over 65536 too.
	DefaultMaxChunkSize = 64 << 10
	// DefaultMaxMessageBytes bounds one message (a video access unit)
	// once the stream key is accepted: a 4K keyframe fits. Before, a
	// client sends only commands, and maxMessagePreAuth applies.
	DefaultMaxMessageBytes = 8 << 20
	maxMessagePreAuth      = 64 << 10
)

// Sink receives the streams that publishers start.
type Sink interface {
	// Start is called when a publisher's tracks are known and supported.
	// It returns the consumer of this publish session; an error refuses
	// the publisher.
	Start(stream string, info Info) (Session, error)
}

// Session consumes one publish session. Its methods are called in order on
// one goroutine and must not block: see the package documentation.
type Session interface {
	// Init delivers the init segment and the MIME type for a
	// SourceBuffer. It comes before the first Fragment, and again if
	// the H.264 parameter sets change.
	Init(mime string, init []byte)
	// Fragment delivers the next fragment. f.Data is the Session's.
	Fragment(f cmaf.Fragment)
	// End is called once: err is nil when the publisher stopped,
	// ErrServerClosed on shutdown, otherwise what broke the session.
	End(err error)
}

// Info describes a publish session when it starts.
type Info struct {
	Remote string       // publisher's address
	MIME   string       // SourceBuffer type, as given to Init
	Tracks []cmaf.Track // codec, picture size, sample rate
}

// Config configures a Server.
type Config struct {
	// Authorize maps a stream key to the stream it publishes; ok false
	// refuses the publisher. Required. It is called on the connection's
	// goroutine.
	Authorize func(key string) (stream string, ok bool)
	// Sink receives the streams. Required.
	Sink Sink
	// OnRefused, if set, hears of a publisher with a valid key that failed
	// before its stream started (an unsupported codec, say), so the
	// failure can be shown to the broadcaster. It runs on the
	// connection's goroutine.
	OnRefused func(stream string, err error)
	// Logger receives one line per connection outcome; nil discards.
	Logger *slog.Logger
	// FragmentDuration and MaxFragmentBytes configure each session's
	// cmaf.Muxer; zero takes cmaf's defaults.
	FragmentDuration time.Duration
	MaxFragmentBytes int
	// ReadTimeout bounds each read from a publisher; zero means
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// MaxConns and MaxConnsPerAddr bound connections served at once, in
	// all and per remote IP address; more are closed as they come. Zero
	// means DefaultMaxConns, DefaultMaxConnsPerAddr.
	MaxConns, MaxConnsPerAddr int
	// MaxChunkSize bounds the chunk size a client may set, and so what is
	// allocated for a chunk before its bytes arrive; MaxMessageBytes
	// bounds a message once the key is accepted. Zero means
	// DefaultMaxChunkSize, DefaultMaxMessageBytes.
	MaxChunkSize, MaxMessageBytes int
}

// Server is an RTMP ingest server. Create it with New.
type Server struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Authorize == nil || cfg.Sink == nil {
		return nil, fmt.Errorf("%w: Authorize and Sink are required", ErrInvalidConfig)
	}
	if cfg.ReadTimeout < 0 || cfg.FragmentDuration < 0 || cfg.MaxFragmentBytes < 0 ||
		cfg.MaxConns < 0 || cfg.MaxConnsPerAddr < 0 || cfg.MaxChunkSize < 0 || cfg.MaxMessageBytes < 0 {
		return nil, fmt.Errorf("%w: negative timeout, duration, size or limit", ErrInvalidConfig)
	}
	if cfg.MaxChunkSize > 0 && cfg.MaxChunkSize < 128 || cfg.MaxMessageBytes > 10<<20 {
		return nil, fmt.Errorf("%w: MaxChunkSize under RTMP's 128 or MaxMessageBytes over 10 MiB", ErrInvalidConfig)
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	setDefault := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setDefault(&cfg.MaxConns, DefaultMaxConns)
	setDefault(&cfg.MaxConnsPerAddr, DefaultMaxConnsPerAddr)
	setDefault(&cfg.MaxChunkSize, DefaultMaxChunkSize)
	setDefault(&cfg.MaxMessageBytes, DefaultMaxMessageBytes)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, log: log}, nil
}

// ListenAndServe listens on TCP addr (DefaultAddr if empty) and serves
// until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	if addr == "" {
		addr = DefaultAddr
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("rtmp: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve accepts publishers on ln until ctx ends, then closes ln and every
// connection, waits for their goroutines and returns nil. It returns an
// error if ln fails otherwise. Serve closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var (
		mu      sync.Mutex
		conns   = make(map[net.Conn]struct{})
		perAddr = make(map[string]int)
		wg      sync.WaitGroup
		refused refusals
	)
	closeAll := func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for c := range conns {
			c.Close()
		}
	}
	stop := context.AfterFunc(ctx, closeAll)
	defer stop()

	var err error
	backoff := time.Duration(0)
	for {
		conn, aerr := ln.Accept()
		if aerr != nil {
			if ctx.Err() != nil {
				break
			}
			var ne net.Error
			if errors.As(aerr, &ne) && ne.Timeout() || isTemporary(aerr) {
				// Out of file descriptors and the like: wait, as
				// net/http does, rather than stop ingesting.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("rtmp: accept failed, retrying", "err", aerr, "in", backoff)
				select {
				case <-time.After(backoff):
					continue
				case <-ctx.Done():
				}
				break
			}
			err = fmt.Errorf("rtmp: accept: %w", aerr)
			break
		}
		backoff = 0
		mu.Lock()
		if ctx.Err() != nil {
			mu.Unlock()
			conn.Close()
			continue // Accept fails next, the listener being closed
		}
		host := remoteHost(conn)
		if len(conns) >= s.cfg.MaxConns || perAddr[host] >= s.cfg.MaxConnsPerAddr {
			over := len(conns) >= s.cfg.MaxConns
			mu.Unlock()
			conn.Close()
			refused.note(s.log, host, over, s.cfg.MaxConns, s.cfg.MaxConnsPerAddr)
			continue
		}
		conns[conn] = struct{}{}
		perAddr[host]++
		mu.Unlock()
		wg.Go(func() {
			defer func() {
				mu.Lock()
				delete(conns, conn)
				if perAddr[host]--; perAddr[host] <= 0 {
					delete(perAddr, host)
				}
				mu.Unlock()
			}()
			s.handle(ctx, conn)
		})
	}
	closeAll()
	wg.Wait()
	return err
}

// isTemporary reports accept errors worth retrying, such as EMFILE.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// remoteHost is the IP address of conn's peer (the whole address if it
// has no port).
func remoteHost(conn net.Conn) string {
	a := conn.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(a); err == nil {
		return host
	}
	return a
}

// refusals logs connections refused for the caps, at most one line every
// 10 s with how many were refused meanwhile, so that a flood of
// connections does not become a flood of log lines.
type refusals struct {
	last  time.Time
	count int
}

func (r *refusals) note(log *slog.Logger, host string, total bool, maxConns, maxPerAddr int) {
	r.count++
	now := time.Now()
	if now.Sub(r.last) < 10*time.Second {
		return
	}
	limit := fmt.Sprintf("%d per address", maxPerAddr)
	if total {
		limit = fmt.Sprintf("%d in all", maxConns)
	}
	log.Warn("rtmp: connections refused", "err", ErrTooManyConns, "limit", limit,
		"last_remote", host, "refused", r.count)
	r.last, r.count = now, 0
}
