package server

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/chat"
	"github.com/shoal-live/shoal/signal/cmaf"
	"github.com/shoal-live/shoal/signal/demo"
	"github.com/shoal-live/shoal/signal/ingest/whip"
	"github.com/shoal-live/shoal/signal/origin"
	"github.com/shoal-live/shoal/signal/static"
	"github.com/shoal-live/shoal/signal/store"
	"github.com/shoal-live/shoal/signal/streams"
	"github.com/shoal-live/shoal/signal/studio"
	"github.com/shoal-live/shoal/signal/tracker"
)

// Server is the Shoal server. Create it with New and run it with Serve.
type Server struct {
	cfg     Config
	log     *slog.Logger
	tracker *tracker.Tracker
	pages   fs.FS
	static  *static.Files // pages, scripts, styles and the browser peer
	whip    *whip.Handler
	db      *store.DB
	dbOnce  sync.Once        // Close closes db once, if New opened it
	streams *streams.Streams // every stream's origin, ingest and status
	studio  *studio.Studio   // accounts, sign-in, the studio page and its API
	chat    *chat.Hub

	mu    sync.Mutex
	perIP map[string]*addrState // signaling connections and byte budget per address (peerconn.go)
	// addrsSwept is when sweepAddrs last looked through perIP.
	addrsSwept time.Time
	limits     limits
	ctx        context.Context // Serve's, once it runs
	wg         sync.WaitGroup  // the streams', the ingests' and the chat's goroutines
}

// New builds a server that serves pages from the given file system (see
// package frontend).
func New(cfg Config, pages fs.FS) (*Server, error) {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:   cfg,
		log:   cfg.Logger,
		pages: pages,
		perIP: make(map[string]*addrState),
		tracker: tracker.New(tracker.Config{
			Neighbours:  cfg.Neighbours,
			MaxPeers:    cfg.MaxPeersPerSwarm,
			OriginLinks: cfg.OriginLinks,
		}),
	}
	var err error
	if s.db = cfg.Store; s.db == nil {
		if s.db, err = store.Open(context.Background(), store.Config{Path: store.Memory}); err != nil {
			return nil, fmt.Errorf("signal: in-memory store: %w", err)
		}
	}
	ice := make([]webrtc.ICEServer, 0, len(cfg.ICEServers))
	for _, u := range cfg.ICEServers {
		ice = append(ice, webrtc.ICEServer{URLs: []string{u}})
	}
	s.streams = streams.New(streams.Config{
		Store:   s.db,
		Tracker: s.tracker,
		Join:    func(ctx context.Context, c signaling.Conn) { s.serveSignal(ctx, c, "origin", true) },
		Demo:    cfg.DemoStream,
		Keys:    cfg.StreamKeys,
		Idle:    cfg.OriginIdle,
		Origin: origin.Config{
			Copies:       cfg.OriginCopies,
			ICEServers:   ice,
			LoopbackOnly: cfg.LoopbackOnly,
			Logger:       cfg.Logger.With("role", "origin"),
		},
		Logger: cfg.Logger,
	})
	if s.chat, err = s.newChat(); err != nil {
		return nil, err
	}
	if s.whip, err = s.newWHIP(); err != nil {
		return nil, err
	}
	if s.static, err = static.New(pages, static.Options{Fingerprint: fingerprinted, Skip: notServed}); err != nil {
		return nil, fmt.Errorf("signal: %w", err)
	}
	s.logStatic()
	s.studio = studio.New(studio.Config{
		Store:         s.db,
		Streams:       studioStreams{s},
		Pages:         pages,
		Page:          s.page("studio.html"),
		NotFound:      s.notFound,
		RTMPAddr:      cfg.RTMPAddr,
		SecureCookies: cfg.SecureCookies,
		SetupToken:    cfg.SetupToken,
		Logger:        cfg.Logger,
	})
	return s, nil
}

// Store returns the server's persistent store (Config.Store, or the
// in-memory one New made), for handlers that live in other packages.
func (s *Server) Store() *store.DB { return s.db }

// Serve serves on ln until ctx ends, then shuts down gracefully: it stops
// accepting, lets requests in flight finish (up to 10 s) and stops the
// origins.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	defer s.Close()
	defer ln.Close() // also on the early returns below
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.streams.Run(ctx)
	}()
	if s.cfg.DemoStream != "" {
		o, err := s.streams.Start(ctx, s.cfg.DemoStream)
		if err != nil {
			return err
		}
		if err := s.startDemo(ctx, o); err != nil {
			return err
		}
	}
	if s.cfg.RTMPAddr != "" {
		if err := s.startRTMP(ctx); err != nil {
			return err
		}
	}
	s.startChat(ctx)
	s.logPublishURLs(ln.Addr())
	s.studio.LogSetupURL(ln.Addr())
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: ReadHeaderTimeout, // and BodyReadTimeout in bodyLimit: see connlimit.go
		IdleTimeout:       IdleTimeout,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	hln := newConnLimitListener(ln, s.cfg.MaxHTTPConnsPerIP, s.cfg.TrustedProxies, s.log)
	go func() { errc <- hs.Serve(hln) }()
	s.log.Info("serving", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		cancel()
		s.wg.Wait()
		return fmt.Errorf("signal: serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	err := hs.Shutdown(sctx) // hijacked WebSockets end with ctx via BaseContext
	s.whip.Close()
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("signal: shutdown: %w", err)
	}
	return nil
}

// logPublishURLs tells the operator how to point OBS at each stream; of
// each key only a hint (keys are never logged).
func (s *Server) logPublishURLs(httpAddr net.Addr) {
	host := "localhost"
	if a, ok := httpAddr.(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
		host = a.IP.String()
	}
	_, httpPort, _ := net.SplitHostPort(httpAddr.String())
	for stream, key := range s.cfg.StreamKeys {
		args := []any{"stream", stream, "watch", fmt.Sprintf("http://%s:%s/watch/%s", host, httpPort, stream)}
		if s.cfg.RTMPAddr != "" {
			_, rtmpPort, _ := net.SplitHostPort(s.cfg.RTMPAddr)
			args = append(args, "rtmp_server", fmt.Sprintf("rtmp://%s:%s/live", host, rtmpPort), "stream_key", keyHint(key))
		}
		args = append(args, "whip_server", fmt.Sprintf("http://%s:%s/api/whip/%s", host, httpPort, stream), "bearer_token", keyHint(key))
		s.log.Info("publish with OBS (Settings → Stream: Custom… for RTMP, or WHIP)", args...)
	}
}

// startDemo feeds the demo stream: the looping test clip, or synthetic
// chunks with -demo-source synthetic.
func (s *Server) startDemo(ctx context.Context, o *origin.Origin) error {
	if s.cfg.DemoSource == "synthetic" {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			origin.Synthetic(ctx, s.cfg.DemoInterval, s.cfg.DemoChunkSize, o.Publish)
		}()
		return nil
	}
	clip, err := demo.Parse(demo.Clip)
	if err != nil {
		return fmt.Errorf("signal: demo clip: %w", err)
	}
	in, err := s.streams.Begin(s.cfg.DemoStream, "demo")
	if err != nil {
		return fmt.Errorf("signal: demo: %w", err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer in.End(nil)
		start := func(mime string, init []byte) { in.Init(mime, init, 0, 0) }
		err := clip.Play(ctx, s.cfg.FragmentDuration, start, func(f cmaf.Fragment) {
			if err := o.PublishFragment(f.Data, f.Keyframe); err != nil {
				s.log.Warn("demo fragment dropped", "err", err)
			}
		})
		if err != nil {
			s.log.Error("demo stream stopped", "err", err)
		}
	}()
	return nil
}

// keyHint is what the log shows of a stream key: its first 4 characters,
// enough to tell keys apart, never the key.
func keyHint(key string) string {
	if len(key) <= 8 {
		return "…"
	}
	return key[:4] + "…"
}

// studioStreams is what the studio sees of the streams: their state, the
// reserved names, and "end stream", which ends an RTMP session (or the
// demo's) through the streams and a WHIP one through its handler.
type studioStreams struct{ s *Server }

func (v studioStreams) State(name string) streams.State { return v.s.streams.State(name) }
func (v studioStreams) Reserved(name string) bool       { return v.s.streams.Reserved(name) }
func (v studioStreams) End(name string) bool {
	ended := v.s.streams.EndSession(name)
	if v.s.whip.EndStream(name) > 0 {
		ended = true
	}
	return ended
}
