package signal

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/shoal-live/shoal/shared/wire"
	"github.com/shoal-live/shoal/signal/cmaf"
	"github.com/shoal-live/shoal/signal/ingest/rtmp"
	"github.com/shoal-live/shoal/signal/ingest/whip"
	"github.com/shoal-live/shoal/signal/origin"
	"github.com/shoal-live/shoal/signal/store"
)

// streamForKey returns the stream a stream key publishes to: one of
// Config.StreamKeys, else a stream in the store.
func (s *Server) streamForKey(key string) (string, bool) {
	for stream, k := range s.cfg.StreamKeys {
		if subtle.ConstantTimeCompare([]byte(k), []byte(key)) == 1 {
			return stream, true
		}
	}
	st, err := s.db.StreamByKey(s.runCtx(), key)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("stream key lookup failed", "err", err)
		}
		return "", false
	}
	return st.Name, true
}

// keyFor returns stream's key, if it has one.
func (s *Server) keyFor(stream string) (string, bool) {
	k, ok := s.cfg.StreamKeys[stream]
	return k, ok
}

// NewStreamKey returns a random stream key: 26 characters of base32, 128
// bits of entropy.
func NewStreamKey() string {
	var b [16]byte
	rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// ingestSession feeds one broadcaster's session into a stream's origin.
type ingestSession struct {
	s        *Server
	o        *origin.Origin
	stream   string
	protocol string
	started  bool
	meter    origin.IngestMeter
	ended    chan struct{} // closed to end the session early (the studio's "end stream")
	endOnce  sync.Once
}

// beginIngest finds or starts the stream's origin for a new session
// (admit, origins.go: one publisher per stream).
func (s *Server) beginIngest(stream, protocol string) (*ingestSession, error) {
	o, err := s.admit(stream, protocol)
	if err != nil {
		return nil, err
	}
	s.log.Info("ingest started", "stream", stream, "protocol", protocol)
	in := &ingestSession{s: s, o: o, stream: stream, protocol: protocol, ended: make(chan struct{})}
	s.ingests.add(in)
	return in, nil
}

// Init starts the session's media: players fetch this init segment.
func (in *ingestSession) Init(mime string, init []byte, width, height int) {
	in.o.StartSession(mime, init)
	st := in.o.Status()
	st.MIME, st.Width, st.Height, st.Error = mime, width, height, ""
	in.o.SetStatus(st)
	in.started = true
}

// Fragment publishes one CMAF fragment to the swarm.
func (in *ingestSession) Fragment(f cmaf.Fragment) {
	if !in.started {
		return
	}
	in.meter.Record(time.Now(), len(f.Data), f.Start, f.Keyframe)
	if err := in.o.PublishFragment(f.Data, f.Keyframe); err != nil {
		in.s.log.Warn("ingest fragment dropped: lower the bitrate or the keyframe size", "stream", in.stream, "err", err)
	}
}

// End closes the session; err says why it failed, nil for a clean end.
func (in *ingestSession) End(err error) {
	in.s.ingests.remove(in)
	in.o.EndSession()
	st := in.o.Status()
	st.Connected = false
	switch {
	case errors.Is(err, rtmp.ErrEnded) || errors.Is(err, whip.ErrEnded):
		st.Error = ""
		in.s.log.Info("ingest ended from the studio", "stream", in.stream, "protocol", in.protocol)
	case err != nil:
		st.Error = err.Error() // for the studio; the public status shows ingestErrs' text
		in.s.ingestErrs.set(in.stream, err)
		in.s.log.Warn("ingest failed", "stream", in.stream, "protocol", in.protocol, "err", err)
	default:
		in.s.log.Info("ingest ended", "stream", in.stream, "protocol", in.protocol)
	}
	in.s.release(in.stream, in.o, func() { in.o.SetStatus(st) })
}

// ingestRefused records why a publisher with a valid key was turned away,
// in the stream's ingest status. It starts no origin: a refused publisher
// costs the server nothing that outlives its connection.
func (s *Server) ingestRefused(stream string, err error) {
	s.ingestErrs.set(stream, err)
	if o := s.origin(stream); o != nil {
		st := o.Status()
		st.Error = err.Error()
		o.SetStatus(st)
		return
	}
	s.refusedWithoutOrigin(stream, err)
}

// runCtx is the context Serve runs under, for origins started later.
func (s *Server) runCtx() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		return context.Background()
	}
	return s.ctx
}

// rtmpSink starts an ingest session per RTMP publish.
type rtmpSink struct{ s *Server }

func (k rtmpSink) Start(stream string, info rtmp.Info) (rtmp.Session, error) {
	in, err := k.s.beginIngest(stream, "rtmp")
	if err != nil {
		return nil, err
	}
	sess := &rtmpSession{ingestSession: in}
	for _, t := range info.Tracks {
		if t.Kind == "video" {
			sess.width, sess.height = t.Width, t.Height
		}
	}
	return sess, nil
}

// rtmpSession adapts an ingest session to rtmp.Session.
type rtmpSession struct {
	*ingestSession
	width, height int
}

func (r *rtmpSession) Init(mime string, init []byte) {
	r.ingestSession.Init(mime, init, r.width, r.height)
}

// startRTMP listens for RTMP publishers until ctx ends.
func (s *Server) startRTMP(ctx context.Context) error {
	srv, err := rtmp.New(rtmp.Config{
		Authorize:        s.streamForKey,
		Sink:             rtmpSink{s},
		OnRefused:        s.ingestRefused,
		Logger:           s.log.With("ingest", "rtmp"),
		FragmentDuration: s.cfg.FragmentDuration,
		MaxFragmentBytes: wire.MaxPayload,
		MaxConns:         s.cfg.RTMPMaxConns,
		MaxConnsPerAddr:  s.cfg.RTMPMaxConnsPerIP,
	})
	if err != nil {
		return fmt.Errorf("signal: rtmp: %w", err)
	}
	ln, err := net.Listen("tcp", s.cfg.RTMPAddr)
	if err != nil {
		return fmt.Errorf("signal: rtmp: listen: %w", err)
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
	in, err := k.s.beginIngest(stream, "whip")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", whip.ErrBusy, err)
	}
	return in, nil
}

// authorizeWHIP checks a WHIP bearer token against the stream's key, from
// Config.StreamKeys or the store.
func (s *Server) authorizeWHIP(stream, key string) bool {
	if k, ok := s.keyFor(stream); ok && subtle.ConstantTimeCompare([]byte(k), []byte(key)) == 1 {
		return true
	}
	st, err := s.db.StreamByName(s.runCtx(), stream)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("stream key lookup failed", "stream", stream, "err", err)
		}
		return false
	}
	return subtle.ConstantTimeCompare([]byte(st.Key), []byte(key)) == 1
}

// newWHIP builds the WHIP ingest handler, served under /api/whip/.
func (s *Server) newWHIP() (*whip.Handler, error) {
	var ice []webrtc.ICEServer
	for _, u := range s.cfg.ICEServers {
		ice = append(ice, webrtc.ICEServer{URLs: []string{u}})
	}
	h, err := whip.New(whip.Config{
		Authorize:        s.authorizeWHIP,
		Sink:             whipSink{s},
		ICEServers:       ice,
		LoopbackOnly:     s.cfg.LoopbackOnly,
		FragmentDuration: s.cfg.FragmentDuration,
		MaxFragmentBytes: wire.MaxPayload,
		AllowedOrigins:   s.cfg.WHIPAllowedOrigins,
		Logger:           s.log.With("ingest", "whip"),
	})
	if err != nil {
		return nil, fmt.Errorf("signal: whip: %w", err)
	}
	return h, nil
}
