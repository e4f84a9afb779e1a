package signal

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/shoal-live/shoal/signal/origin"
)

// admission lets publishers in, one per stream, and keeps the origins it
// starts for them: an origin (a pion peer, a 50 ms ticker, 256 chunks)
// runs while its stream is published and for Config.OriginIdle after the
// publisher leaves, then stops; the next publish starts another. Viewers
// stay in the stream's swarm meanwhile and the new origin meets them as
// it joins, numbering its chunks above the old one's (origin.FirstSeq).
//
// mu is the one lock of ingest admission: a publisher's check (is the
// stream free?) and its claim (it is mine) happen under it, as do starting
// and stopping origins, so an RTMP and a WHIP publisher cannot both get in
// and a publisher cannot arrive at an origin being stopped.
type admission struct {
	mu   sync.Mutex
	runs map[string]*originRun // by stream; origins started here
	// last is the ingest status of streams that have no origin (it
	// stopped, or a publisher was refused before it started one), for
	// the status pages: a refusal's error stays visible. Only streams
	// with a valid key get here.
	last map[string]origin.IngestStatus
	// between, if set, runs between a publisher's check and its claim:
	// tests widen the window there that two locks once left open.
	between func()
}

// originRun is an origin started for ingest.
type originRun struct {
	o          *origin.Origin
	stop       context.CancelFunc
	stopped    <-chan struct{}
	publishing bool
	idleSince  time.Time // when the last publisher left
}

// admit claims stream for a publisher over protocol, starting its origin
// if it has none. It fails when the stream already has a publisher.
func (s *Server) admit(stream, protocol string) (*origin.Origin, error) {
	a := &s.admission
	a.mu.Lock()
	defer a.mu.Unlock()
	run := a.runs[stream]
	o := s.origin(stream) // the demo's, or one a test started
	if run != nil {
		o = run.o
	}
	if o == nil {
		ctx, stop := context.WithCancel(s.runCtx())
		started, stopped, err := s.startOrigin(ctx, stream)
		if err != nil {
			stop()
			return nil, err
		}
		o, run = started, &originRun{o: started, stop: stop, stopped: stopped}
		if a.runs == nil {
			a.runs = make(map[string]*originRun)
		}
		a.runs[stream] = run
		delete(a.last, stream)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.stopWhenIdle(ctx, stream, run)
		}()
	}
	if st := o.Status(); st.Connected {
		return nil, fmt.Errorf("stream %q already has a %s publisher", stream, st.Protocol)
	}
	if a.between != nil {
		a.between()
	}
	o.SetStatus(origin.IngestStatus{Connected: true, Protocol: protocol, Since: time.Now()})
	if run != nil {
		run.publishing = true
	}
	return o, nil
}

// release lets o's stream go: under the admission lock, end marks the
// publisher gone (in o's status), and o's idle time starts.
func (s *Server) release(stream string, o *origin.Origin, end func()) {
	a := &s.admission
	a.mu.Lock()
	defer a.mu.Unlock()
	end()
	if run := a.runs[stream]; run != nil && run.o == o {
		run.publishing, run.idleSince = false, time.Now()
	}
}

// stopWhenIdle stops run's origin once its stream has had no publisher
// for OriginIdle, or returns when ctx ends.
func (s *Server) stopWhenIdle(ctx context.Context, stream string, run *originRun) {
	idle := s.cfg.OriginIdle
	t := time.NewTicker(min(max(idle/4, 10*time.Millisecond), 5*time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a := &s.admission
		a.mu.Lock()
		if run.publishing || time.Since(run.idleSince) < idle {
			a.mu.Unlock()
			continue
		}
		delete(a.runs, stream)
		run.stop()
		<-run.stopped // gone from s.origins before anyone is admitted again
		a.setLast(stream, run.o.Status())
		a.mu.Unlock()
		s.log.Info("origin stopped: no publisher", "stream", stream, "idle", idle)
		return
	}
}

// setLast records st as stream's ingest status while it has no origin.
// Called with mu held.
func (a *admission) setLast(stream string, st origin.IngestStatus) {
	if a.last == nil {
		a.last = make(map[string]origin.IngestStatus)
	}
	st.Connected = false
	a.last[stream] = st
}

// refusedWithoutOrigin records a refused publisher's error for a stream
// that has no origin.
func (s *Server) refusedWithoutOrigin(stream string, err error) {
	a := &s.admission
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.origin(stream) == nil {
		a.setLast(stream, origin.IngestStatus{Error: err.Error()})
	}
}

// lastIngest returns the ingest status of a stream without an origin:
// its last origin's, or its last refusal's; the zero status if none.
func (s *Server) lastIngest(stream string) origin.IngestStatus {
	a := &s.admission
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last[stream]
}
