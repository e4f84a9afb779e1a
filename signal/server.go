package signal

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
	dbOnce  sync.Once   // Close closes db once, if New opened it
	ingests liveIngests // running ingest sessions, for the studio
	studio  studio      // accounts, sign-in and the studio's API
	chat    *chat.Hub

	ingestErrs publicIngestErrors // what the public status says of an ingest error
	admission  admission          // ingest admission and the origins it starts and stops (origins.go)

	mu      sync.Mutex
	origins map[string]*origin.Origin
	perIP   map[string]int
	limits  limits
	ctx     context.Context // Serve's, once it runs
	wg      sync.WaitGroup  // origin and ingest goroutines
}

// New builds a server that serves pages from the given file system (see
// package frontend).
func New(cfg Config, pages fs.FS) (*Server, error) {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		pages:   pages,
		origins: make(map[string]*origin.Origin),
		perIP:   make(map[string]int),
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
	if s.cfg.DemoStream != "" {
		o, err := s.StartOrigin(ctx, s.cfg.DemoStream)
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
	s.logSetupURL(ln.Addr())
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
	o.SetStatus(origin.IngestStatus{Connected: true, Protocol: "demo", Since: time.Now()})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer o.EndSession()
		start := func(mime string, init []byte) {
			o.StartSession(mime, init)
			st := o.Status()
			st.MIME = mime
			o.SetStatus(st)
		}
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

// StartOrigin starts the origin peer of a stream; it runs until ctx ends.
func (s *Server) StartOrigin(ctx context.Context, stream string) (*origin.Origin, error) {
	o, _, err := s.startOrigin(ctx, stream)
	return o, err
}

// startOrigin is StartOrigin; done closes once the origin has stopped and
// left s.origins.
func (s *Server) startOrigin(ctx context.Context, stream string) (o *origin.Origin, done <-chan struct{}, err error) {
	if !signaling.ValidStream(stream) {
		return nil, nil, fmt.Errorf("signal: invalid stream name %q", stream)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.origins[stream]; ok {
		return nil, nil, fmt.Errorf("signal: stream %q already has an origin", stream)
	}
	peerEnd, serverEnd := signaling.Pipe()
	ice := make([]webrtc.ICEServer, 0, len(s.cfg.ICEServers))
	for _, u := range s.cfg.ICEServers {
		ice = append(ice, webrtc.ICEServer{URLs: []string{u}})
	}
	signer, err := s.chunkSigner(ctx, stream)
	if err != nil {
		return nil, nil, err
	}
	o, err = origin.New(origin.Config{
		Signer:       signer,
		Stream:       stream,
		Signal:       peerEnd,
		Copies:       s.cfg.OriginCopies,
		ICEServers:   ice,
		LoopbackOnly: s.cfg.LoopbackOnly,
		Logger:       s.log.With("role", "origin"),
		// Viewers hear the live edge through the tracker (welcome and
		// "live" messages, docs/PROTOCOL.md §1).
		OnPublish: func(newest, keyframe uint64) { s.tracker.Live(stream, newest, keyframe) },
	})
	if err != nil {
		return nil, nil, err
	}
	s.origins[stream] = o
	stopped := make(chan struct{})
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.serveSignal(ctx, serverEnd, "origin", true)
	}()
	go func() {
		defer s.wg.Done()
		if err := o.Run(ctx); err != nil {
			s.log.Error("origin stopped", "stream", stream, "err", err)
		}
		s.mu.Lock()
		if s.origins[stream] == o {
			delete(s.origins, stream)
		}
		s.mu.Unlock()
		close(stopped)
	}()
	return o, stopped, nil
}

func (s *Server) origin(stream string) *origin.Origin {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.origins[stream]
}
