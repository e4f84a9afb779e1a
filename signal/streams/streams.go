package streams

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/shoal-live/shoal/shared/integrity"
	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/origin"
	"github.com/shoal-live/shoal/signal/store"
)

// Tracker is what Streams needs of the tracker: it tells the swarm of the
// live edge and counts a swarm's viewers.
type Tracker interface {
	// Live tells stream's swarm of its newest chunk and keyframe; it
	// must not block.
	Live(stream string, newest, keyframe uint64)
	// Viewers is how many viewers stream's swarm has.
	Viewers(stream string) int
}

// Store is what Streams needs of the store: the streams accounts made,
// found by name or key, and each stream's signing key.
type Store interface {
	StreamByName(ctx context.Context, name string) (store.Stream, error)
	StreamByKey(ctx context.Context, key string) (store.Stream, error)
	SigningKey(ctx context.Context, stream string) (ed25519.PrivateKey, error)
}

// Config sets up Streams.
type Config struct {
	Store   Store
	Tracker Tracker
	// Join runs the server's end of a new origin's signaling pipe (the
	// origin joining its stream's swarm) until ctx ends or the pipe
	// closes.
	Join func(ctx context.Context, conn signaling.Conn)
	// Demo names the demo stream ("" for none): it exists without a key.
	Demo string
	// Keys maps the streams given on the command line (-stream-keys) to
	// the keys that publish to them; the store's streams have their own.
	Keys map[string]string
	// Idle is how long an origin started for a publisher runs on after
	// the publisher left before it stops (Config.OriginIdle of the
	// server); it must be positive.
	Idle time.Duration
	// Origin is the template of every origin: Copies, ICEServers,
	// LoopbackOnly and Logger are used; the rest is filled in.
	Origin origin.Config
	Logger *slog.Logger
}

// Streams owns the streams of this server. Create it with New and run it
// with Run.
type Streams struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex         // the one lock: see the package documentation
	m      map[string]*stream // by name: streams with an origin or a status
	ctx    context.Context    // Run's, once it runs
	closed bool               // Run's ctx ended: no origin starts any more
	wg     sync.WaitGroup     // origins, their pipes and their idle watches
	// between, if set, runs between a publisher's check and its claim:
	// tests widen the window there that two locks once left open.
	between func()
	// idleChecked, if set, hears each idle check that left an origin
	// running (tests count them).
	idleChecked func(stream string)
}

// stream is one stream's record, guarded by Streams.mu.
type stream struct {
	o       *origin.Origin // nil while none runs
	stopped chan struct{}  // closed once o has stopped
	// stop is set for an origin Begin started: it stops Idle after its
	// publisher left (idle). The demo's runs until Run's ctx ends.
	stop       context.CancelFunc
	publishing bool
	idleSince  time.Time // when the last publisher left
	session    *Session  // the running ingest session, if any
	status     IngestStatus
	publicErr  string // the public text of status.Error
}

// New makes Streams; nothing runs until Run.
func New(cfg Config) *Streams {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Streams{cfg: cfg, log: cfg.Logger, m: make(map[string]*stream)}
}

// Run lets origins start under ctx, until ctx ends; then it waits for them
// to stop.
func (s *Streams) Run(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	<-ctx.Done()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.wg.Wait()
}

// Running reports whether Run has started and not ended.
func (s *Streams) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctx != nil && !s.closed
}

// Start starts stream's origin for good, until ctx ends (the demo's): it
// never stops for want of a publisher.
func (s *Streams) Start(ctx context.Context, name string) (*origin.Origin, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.startOrigin(ctx, name)
	if err != nil {
		return nil, err
	}
	return st.o, nil
}

// startOrigin starts name's origin under ctx. Called with mu held.
func (s *Streams) startOrigin(ctx context.Context, name string) (*stream, error) {
	if !signaling.ValidStream(name) {
		return nil, fmt.Errorf("streams: invalid stream name %q", name)
	}
	if s.closed {
		return nil, fmt.Errorf("streams: %s: %w", name, context.Canceled)
	}
	st := s.m[name]
	if st != nil && st.o != nil {
		return nil, fmt.Errorf("streams: stream %q already has an origin", name)
	}
	signer, err := s.signer(ctx, name)
	if err != nil {
		return nil, err
	}
	peerEnd, serverEnd := signaling.Pipe()
	oc := s.cfg.Origin
	oc.Stream, oc.Signal, oc.Signer = name, peerEnd, signer
	// Viewers hear the live edge through the tracker (welcome and "live"
	// messages, docs/PROTOCOL.md §1).
	oc.OnPublish = func(newest, keyframe uint64) { s.cfg.Tracker.Live(name, newest, keyframe) }
	o, err := origin.New(oc)
	if err != nil {
		return nil, err
	}
	if st == nil {
		st = &stream{}
		s.m[name] = st
	}
	// A new origin starts with a clean status.
	*st = stream{o: o, stopped: make(chan struct{})}
	stopped := st.stopped
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.cfg.Join(ctx, serverEnd)
	}()
	go func() {
		defer s.wg.Done()
		if err := o.Run(ctx); err != nil {
			s.log.Error("origin stopped", "stream", name, "err", err)
		}
		close(stopped)
		s.mu.Lock()
		defer s.mu.Unlock()
		if st := s.m[name]; st != nil && st.o == o { // not stopped by idle: ctx ended
			st.o, st.stop, st.publishing = nil, nil, false
			st.status.Connected = false
		}
	}()
	return st, nil
}

// signer returns the signer of stream's chunks, with the stream's key from
// the store (made on first use, kept across restarts).
func (s *Streams) signer(ctx context.Context, name string) (*integrity.Signer, error) {
	key, err := s.cfg.Store.SigningKey(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("streams: origin %s: %w", name, err)
	}
	signer, err := integrity.NewSigner(name, key)
	if err != nil {
		return nil, fmt.Errorf("streams: origin %s: %w", name, err)
	}
	return signer, nil
}

// stopWhenIdle stops st's origin once its stream has had no publisher for
// Idle, or returns when ctx ends.
func (s *Streams) stopWhenIdle(ctx context.Context, name string, st *stream, o *origin.Origin) {
	idle := s.cfg.Idle
	t := time.NewTicker(min(max(idle/4, 10*time.Millisecond), 5*time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		if st.o != o {
			s.mu.Unlock()
			return
		}
		if st.publishing || time.Since(st.idleSince) < idle {
			s.mu.Unlock()
			if s.idleChecked != nil {
				s.idleChecked(name)
			}
			continue
		}
		st.stop()
		<-st.stopped // stopped before anyone is admitted again
		st.o, st.stop = nil, nil
		st.status.Connected = false
		s.mu.Unlock()
		s.log.Info("origin stopped: no publisher", "stream", name, "idle", idle)
		return
	}
}

// Origin returns stream's origin, nil if none runs: where its chunks and
// init segment are.
func (s *Streams) Origin(name string) *origin.Origin {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.m[name]; st != nil {
		return st.o
	}
	return nil
}

// Known reports whether stream has an origin here or is configured (the
// demo, Config.Keys), without asking the store.
func (s *Streams) Known(name string) bool {
	if name == s.cfg.Demo && name != "" {
		return true
	}
	if _, ok := s.cfg.Keys[name]; ok {
		return true
	}
	return s.Origin(name) != nil
}

// Exists reports whether stream exists: it is Known or in the store. It
// is the one answer to "does this stream exist?"; Lookup gives the same
// answer with the stream's row.
func (s *Streams) Exists(ctx context.Context, name string) bool {
	if s.Known(name) {
		return true
	}
	_, ok, err := s.Lookup(ctx, name)
	return ok && err == nil
}

// Lookup answers Exists and returns the stream's row in the store, nil
// when the store holds none: the stream may still exist (the demo,
// Config.Keys, a running origin). err is a failure of the store, not its
// "not found"; exists is then false.
func (s *Streams) Lookup(ctx context.Context, name string) (st *store.Stream, exists bool, err error) {
	row, err := s.cfg.Store.StreamByName(ctx, name)
	switch {
	case err == nil:
		return &row, true, nil
	case errors.Is(err, store.ErrNotFound):
		return nil, s.Known(name), nil
	default:
		return nil, false, fmt.Errorf("streams: %s: %w", name, err)
	}
}

// Reserved reports whether name, in any case, is one of the server's own
// streams (the demo, Config.Keys), which no account may take.
func (s *Streams) Reserved(name string) bool {
	if strings.EqualFold(name, s.cfg.Demo) {
		return true
	}
	for k := range s.cfg.Keys {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// WelcomeKey returns the public key a joining peer verifies stream's
// chunks with, or "" for a stream that cannot be live (then the peer
// refuses every chunk). Keys are made only for streams that exist, so
// joins to made-up names cannot fill the store.
func (s *Streams) WelcomeKey(ctx context.Context, name string) string {
	if !s.Exists(ctx, name) {
		return ""
	}
	signer, err := s.signer(ctx, name)
	if err != nil {
		s.log.Error("no stream key for a joining peer", "stream", name, "err", err)
		return ""
	}
	return integrity.EncodePublicKey(signer.PublicKey())
}

// Viewers is how many viewers watch stream (its swarm, less the origin).
func (s *Streams) Viewers(name string) int { return s.cfg.Tracker.Viewers(name) }

// State is a stream as the pages, the public API and the studio show it,
// read at once.
type State struct {
	// Origin is whether an origin runs for the stream here; without one
	// the stream is offline and Ingest is its last session's or refusal's.
	Origin bool
	// Live is the one answer to "is it live?": viewers get chunks now.
	// An ingest session is running (origin.Live), or the stream publishes
	// chunks without one and without video (the synthetic demo, which has
	// no session). A stream whose session ended is not live, though its
	// origin still holds chunks.
	Live bool
	// Media is whether the stream carries video (has an init segment);
	// Chunks whether it has published any chunk, the newest NewestSeq.
	Media, Chunks bool
	NewestSeq     uint64
	// Ingest is the ingest status, its error in full (for the stream's
	// owner); PublicIngest is the same with the error in public words.
	Ingest, PublicIngest IngestStatus
	// Meter is the running ingest session's reading (zero without one);
	// Uploaded the payload bytes the origin sent viewers so far.
	Meter    origin.MeterReading
	Uploaded int64
	Viewers  int
}

// State returns stream's state.
func (s *Streams) State(name string) State {
	now := time.Now()
	var out State
	s.mu.Lock()
	if st := s.m[name]; st != nil {
		out.Ingest, out.PublicIngest = st.status, public(st.status, st.publicErr)
		if o := st.o; o != nil {
			out.Origin = true
			_, out.Media = o.Init()
			out.NewestSeq, out.Chunks = o.Newest()
			out.Live = o.Live() || (!out.Media && out.Chunks)
			out.Uploaded = o.Uploaded()
		}
		if in := st.session; in != nil {
			out.Meter = in.meter.Read(now)
		}
	}
	s.mu.Unlock()
	out.Viewers = s.Viewers(name) // the tracker's lock, never under ours
	return out
}

// NewKey returns a random stream key: 26 characters of base32, 128 bits of
// entropy.
func NewKey() string {
	var b [16]byte
	rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// ForKey returns the stream a stream key publishes to: one of Config.Keys,
// else a stream in the store.
func (s *Streams) ForKey(ctx context.Context, key string) (string, bool) {
	for name, k := range s.cfg.Keys {
		if subtle.ConstantTimeCompare([]byte(k), []byte(key)) == 1 {
			return name, true
		}
	}
	st, err := s.cfg.Store.StreamByKey(ctx, key)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("stream key lookup failed", "err", err)
		}
		return "", false
	}
	return st.Name, true
}

// Authorize reports whether key publishes to stream: its key from
// Config.Keys or the store.
func (s *Streams) Authorize(ctx context.Context, name, key string) bool {
	if k, ok := s.cfg.Keys[name]; ok && subtle.ConstantTimeCompare([]byte(k), []byte(key)) == 1 {
		return true
	}
	st, err := s.cfg.Store.StreamByName(ctx, name)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("stream key lookup failed", "stream", name, "err", err)
		}
		return false
	}
	return subtle.ConstantTimeCompare([]byte(st.Key), []byte(key)) == 1
}

// Context is the context origins started for publishers run under: Run's,
// or Background before it runs. Ingest callbacks that have no context of
// their own (an RTMP or WHIP publisher's key check) ask the store under it.
func (s *Streams) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runCtx()
}

// runCtx is Context, called with mu held.
func (s *Streams) runCtx() context.Context {
	if s.ctx == nil {
		return context.Background()
	}
	return s.ctx
}
