package server

import (
	"context"
	"fmt"
	"net"

	"github.com/pion/webrtc/v4"

	"github.com/shoal-live/shoal/shared/wire"
	"github.com/shoal-live/shoal/signal/ingest/rtmp"
	"github.com/shoal-live/shoal/signal/ingest/whip"
	"github.com/shoal-live/shoal/signal/streams"
)

// The ingest glue: the RTMP listener and the WHIP handler, with sinks
// that begin a streams.Session per publish.

// rtmpSink starts an ingest session per RTMP publish.
type rtmpSink struct{ s *Server }

func (k rtmpSink) Start(stream string, info rtmp.Info) (rtmp.Session, error) {
	in, err := k.s.streams.Begin(stream, "rtmp")
	if err != nil {
		return nil, err
	}
	sess := &rtmpSession{Session: in}
	for _, t := range info.Tracks {
		if t.Kind == "video" {
			sess.width, sess.height = t.Width, t.Height
		}
	}
	return sess, nil
}

// rtmpSession adapts an ingest session to rtmp.Session.
type rtmpSession struct {
	*streams.Session
	width, height int
}

func (r *rtmpSession) Init(mime string, init []byte) {
	r.Session.Init(mime, init, r.width, r.height)
}

// startRTMP listens for RTMP publishers until ctx ends.
func (s *Server) startRTMP(ctx context.Context) error {
	srv, err := rtmp.New(rtmp.Config{
		Authorize:        func(key string) (string, bool) { return s.streams.ForKey(s.streams.Context(), key) },
		Sink:             rtmpSink{s},
		OnRefused:        s.streams.Refused,
		Logger:           s.log.With("ingest", "rtmp"),
		FragmentDuration: s.cfg.FragmentDuration,
		MaxFragmentBytes: wire.MaxPayload,
		MaxConns:         s.cfg.RTMPMaxConns,
		MaxConnsPerAddr:  s.cfg.RTMPMaxConnsPerIP,
	})
	if err != nil {
		return fmt.Errorf("server: rtmp: %w", err)
	}
	ln, err := net.Listen("tcp", s.cfg.RTMPAddr)
	if err != nil {
		return fmt.Errorf("server: rtmp: listen: %w", err)
	}
	s.log.Info("rtmp ingest listening", "addr", ln.Addr().String())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ctx, ln); err != nil && ctx.Err() == nil {
			s.log.Error("rtmp ingest stopped", "err", err)
		}
	}()
	return nil
}

// whipSink starts an ingest session per WHIP publish.
type whipSink struct{ s *Server }

func (k whipSink) Begin(stream string) (whip.Session, error) {
	in, err := k.s.streams.Begin(stream, "whip")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", whip.ErrBusy, err)
	}
	return in, nil
}

// newWHIP builds the WHIP ingest handler, served under /api/whip/.
func (s *Server) newWHIP(ice []webrtc.ICEServer) (*whip.Handler, error) {
	h, err := whip.New(whip.Config{
		Authorize:        func(stream, key string) bool { return s.streams.Authorize(s.streams.Context(), stream, key) },
		Sink:             whipSink{s},
		ICEServers:       ice,
		LoopbackOnly:     s.cfg.LoopbackOnly,
		FragmentDuration: s.cfg.FragmentDuration,
		MaxFragmentBytes: wire.MaxPayload,
		AllowedOrigins:   s.cfg.WHIPAllowedOrigins,
		Logger:           s.log.With("ingest", "whip"),
	})
	if err != nil {
		return nil, fmt.Errorf("server: whip: %w", err)
	}
	return h, nil
}
