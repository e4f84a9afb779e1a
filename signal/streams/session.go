package streams

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/shoal-live/shoal/signal/cmaf"
	"github.com/shoal-live/shoal/signal/ingest/rtmp"
	"github.com/shoal-live/shoal/signal/ingest/whip"
	"github.com/shoal-live/shoal/signal/origin"
)

// Session feeds one broadcaster's session into a stream's origin. Its
// methods are called in order on one goroutine (see rtmp.Session and
// whip.Session, which it implements with Init's picture size).
type Session struct {
	s        *Streams
	o        *origin.Origin
	stream   string
	protocol string
	started  bool
	meter    origin.IngestMeter
	ended    chan struct{} // closed to end the session early (the studio's "end stream")
	endOnce  sync.Once
}

// Begin claims stream for a publisher over protocol ("rtmp", "whip",
// "demo"), starting its origin if it has none. It fails when the stream
// already has a publisher: one publisher per stream.
func (s *Streams) Begin(name, protocol string) (*Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.m[name]
	if st == nil || st.o == nil {
		ctx, stop := context.WithCancel(s.runCtx())
		var err error
		if st, err = s.startOrigin(ctx, name); err != nil {
			stop()
			return nil, err
		}
		st.stop = stop
		o := st.o
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.stopWhenIdle(ctx, name, st, o)
		}()
	}
	if st.status.Connected {
		return nil, fmt.Errorf("stream %q already has a %s publisher", name, st.status.Protocol)
	}
	if s.between != nil {
		s.between()
	}
	st.status = IngestStatus{Connected: true, Protocol: protocol, Since: time.Now()}
	st.publishing = true
	in := &Session{s: s, o: st.o, stream: name, protocol: protocol, ended: make(chan struct{})}
	st.session = in
	s.log.Info("ingest started", "stream", name, "protocol", protocol)
	return in, nil
}

// Init starts the session's media: players fetch this init segment.
func (in *Session) Init(mime string, init []byte, width, height int) {
	in.o.StartSession(mime, init)
	in.s.update(in, func(st *stream) {
		st.status.MIME, st.status.Width, st.status.Height, st.status.Error = mime, width, height, ""
	})
	in.started = true
}

// Fragment publishes one CMAF fragment to the swarm.
func (in *Session) Fragment(f cmaf.Fragment) {
	if !in.started {
		return
	}
	in.meter.Record(time.Now(), len(f.Data), f.Start, f.Keyframe)
	if err := in.o.PublishFragment(f.Data, f.Keyframe); err != nil {
		in.s.log.Warn("ingest fragment dropped: lower the bitrate or the keyframe size", "stream", in.stream, "err", err)
	}
}

// End closes the session; err says why it failed, nil for a clean end.
// The stream's origin then idles (Config.Idle) before it stops.
func (in *Session) End(err error) {
	fromStudio := errors.Is(err, rtmp.ErrEnded) || errors.Is(err, whip.ErrEnded)
	switch {
	case fromStudio:
		in.s.log.Info("ingest ended from the studio", "stream", in.stream, "protocol", in.protocol)
	case err != nil:
		in.s.log.Warn("ingest failed", "stream", in.stream, "protocol", in.protocol, "err", err)
	default:
		in.s.log.Info("ingest ended", "stream", in.stream, "protocol", in.protocol)
	}
	in.o.EndSession()
	in.s.mu.Lock()
	defer in.s.mu.Unlock()
	st := in.s.m[in.stream]
	if st == nil || st.o != in.o {
		return // the origin stopped already (the server is shutting down)
	}
	if st.session == in {
		st.session = nil
	}
	st.status.Connected = false
	switch {
	case fromStudio:
		st.status.Error = ""
	case err != nil:
		st.status.Error = err.Error() // for the studio; the public status shows publicErr
		st.publicErr = publicIngestError(err)
	}
	st.publishing, st.idleSince = false, time.Now()
}

// Ended is closed when the studio ends the session (rtmp.Ender).
func (in *Session) Ended() <-chan struct{} { return in.ended }

// update changes the status of in's stream while in is its session.
func (s *Streams) update(in *Session, f func(*stream)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.m[in.stream]; st != nil && st.o == in.o {
		f(st)
	}
}

// EndSession asks whoever publishes stream over RTMP (or as the demo) to
// stop, and reports whether anyone did; WHIP sessions end through their
// handler (whip.Handler.EndStream).
func (s *Streams) EndSession(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.m[name]
	if st == nil || st.session == nil {
		return false
	}
	in := st.session
	in.endOnce.Do(func() { close(in.ended) })
	return true
}

// Refused records why a publisher with a valid key was turned away, in
// the stream's ingest status. It starts no origin: a refused publisher
// costs the server nothing that outlives its connection.
func (s *Streams) Refused(name string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.m[name]
	if st == nil {
		st = &stream{}
		s.m[name] = st
	}
	if st.o == nil {
		st.status = IngestStatus{}
	}
	st.status.Error = err.Error()
	st.publicErr = publicIngestError(err)
}
