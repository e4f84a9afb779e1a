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
	"github.com/shoal-live/shoal/signal/clientip"
	"github.com/shoal-live/shoal/signal/demo"
	"github.com/shoal-live/shoal/signal/httplimit"
	"github.com/shoal-live/shoal/signal/ingest/whip"
	"github.com/shoal-live/shoal/signal/origin"
	"github.com/shoal-live/shoal/signal/pages"
	"github.com/shoal-live/shoal/signal/rendezvous"
	"github.com/shoal-live/shoal/signal/store"
	"github.com/shoal-live/shoal/signal/streamapi"
	"github.com/shoal-live/shoal/signal/streams"
	"github.com/shoal-live/shoal/signal/studio"
	"github.com/shoal-live/shoal/signal/tracker"
)

// Server is the Shoal server. Create it with New and run it with Serve.
type Server struct {
	cfg      Config
	log      *slog.Logger
	tracker  *tracker.Tracker
	db       *store.DB
	dbOnce   sync.Once               // Close closes db once, if New opened it
	streams  *streams.Streams        // every stream's origin, ingest, status and existence
	clientIP clientip.Strategy       // who sent a request
	chunks   *httplimit.ChunkFetches // fallback chunk fetches per address
	pages    *pages.Pages            // pages, scripts, styles and the browser peer
	api      *streamapi.API          // /api/streams…
	signal   *rendezvous.Server      // /api/signal and the origins' pipes
	chat     *chat.Hub               // chat rooms (their connections come through signal)
	whip     *whip.Handler           // WHIP ingest
	studio   *studio.Studio          // accounts, sign-in, the studio page and its API
	wg       sync.WaitGroup          // the streams', the ingests' and the chat's goroutines
}

// New builds a server that serves pages from the given file system (see
// package frontend).
func New(cfg Config, frontend fs.FS) (*Server, error) {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg: cfg,
		log: cfg.Logger,
		tracker: tracker.New(tracker.Config{
			Neighbours:  cfg.Neighbours,
			MaxPeers:    cfg.MaxPeersPerSwarm,
			OriginLinks: cfg.OriginLinks,
		}),
		clientIP: clientip.Strategy{TrustedProxies: cfg.TrustedProxies, Header: cfg.TrustedProxyHeader},
		chunks:   httplimit.NewChunkFetches(cfg.Logger),
	}
	var err error
	if s.db = cfg.Store; s.db == nil {
		if s.db, err = store.Open(context.Background(), store.Config{Path: store.Memory}); err != nil {
			return nil, fmt.Errorf("server: in-memory store: %w", err)
		}
	}
	ice := iceServers(cfg.ICEServers)
	s.streams = streams.New(streams.Config{
		Store:   s.db,
		Tracker: s.tracker,
		Join:    func(ctx context.Context, c signaling.Conn) { s.signal.ServeOrigin(ctx, c) },
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
	s.signal = rendezvous.New(rendezvous.Config{
		Tracker:           s.tracker,
		Streams:           s.streams,
		Chat:              s.chat,
		Account:           s.account,
		ICEServers:        cfg.ICEServers,
		AllowedOrigins:    cfg.AllowedOrigins,
		MaxConnsPerAddr:   cfg.MaxConnsPerIP,
		BytesPerSecond:    cfg.SignalBytesPerSecond,
		ByteBurst:         cfg.SignalByteBurst,
		SendQueueBytes:    cfg.SendQueueBytes,
		MessagesPerSecond: cfg.MaxMessagesPerSecond,
		MessageBurst:      cfg.MessageBurst,
		PeerHook:          cfg.peerHook,
		Logger:            cfg.Logger,
	})
	s.api = streamapi.New(streamapi.Config{Streams: s.streams, Swarms: s.tracker, Chat: s.chat, Logger: cfg.Logger})
	if s.whip, err = s.newWHIP(ice); err != nil {
		return nil, err
	}
	if s.pages, err = pages.New(pages.Config{FS: frontend, FrameAncestors: cfg.FrameAncestors, Logger: cfg.Logger}); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.studio = studio.New(studio.Config{
		Store:         s.db,
		Streams:       studioStreams{s},
		Pages:         frontend,
		Page:          s.pages.Page("studio.html"),
		NotFound:      s.pages.NotFound,
		RTMPAddr:      cfg.RTMPAddr,
		SecureCookies: cfg.SecureCookies,
		SetupToken:    cfg.SetupToken,
		Logger:        cfg.Logger,
	})
	return s, nil
}

// iceServers is the STUN/TURN URLs as pion takes them, for the origins
// and the WHIP handler.
func iceServers(urls []string) []webrtc.ICEServer {
	ice := make([]webrtc.ICEServer, 0, len(urls))
	for _, u := range urls {
		ice = append(ice, webrtc.ICEServer{URLs: []string{u}})
	}
	return ice
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
		ReadHeaderTimeout: httplimit.ReadHeaderTimeout, // and BodyReadTimeout in httplimit.Body
		IdleTimeout:       httplimit.IdleTimeout,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	hln := httplimit.NewListener(ln, s.cfg.MaxHTTPConnsPerIP, s.clientIP, s.log)
	go func() { errc <- hs.Serve(hln) }()
	s.log.Info("serving", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		cancel()
		s.wg.Wait()
		return fmt.Errorf("server: serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	err := hs.Shutdown(sctx) // hijacked WebSockets end with ctx via BaseContext
	s.whip.Close()
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
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

// startDemo feeds the demo stream: the looping test clip, published as an
// ingest session like a broadcaster's, or synthetic chunks with
// -demo-source synthetic, straight into its origin (no session, no video).
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
		return fmt.Errorf("server: demo clip: %w", err)
	}
	in, err := s.streams.Begin(s.cfg.DemoStream, "demo")
	if err != nil {
		return fmt.Errorf("server: demo: %w", err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer in.End(nil)
		start := func(mime string, init []byte) { in.Init(mime, init, 0, 0) }
		err := clip.Play(ctx, s.cfg.FragmentDuration, start, in.Fragment) // as a publisher's fragments are
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
