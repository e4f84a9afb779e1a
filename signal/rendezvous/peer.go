package rendezvous

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"golang.org/x/time/rate"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/tracker"
)

// servePeer runs a swarm peer after its join, until it leaves or
// misbehaves, and returns why it ended; fail sends a last error (see
// serve).
func (s *Server) servePeer(ctx context.Context, conn signaling.Conn, sess *session, join signaling.Message, isOrigin bool,
	log *slog.Logger, fail func(code, text string)) string {
	welcome := signaling.Message{ServerTime: time.Now().UnixMilli(), ICEServers: s.ice}
	welcome.StreamKey = s.cfg.Streams.WelcomeKey(ctx, join.Stream) // peers verify every chunk against it
	if !isOrigin {
		welcome.Newest = s.liveEdge(join.Stream) // joiners fetch the first chunks at once
	}
	id, err := s.cfg.Tracker.Join(join.Stream, sess, isOrigin, welcome)
	if err != nil {
		log.Warn("join refused", "stream", join.Stream, "err", err)
		fail(signaling.CodeSwarmFull, err.Error())
		return err.Error()
	}
	defer s.cfg.Tracker.Leave(id)
	log = log.With("peer", id, "stream", join.Stream)
	log.Info("peer joined", "origin", isOrigin)
	reason := "bye"
	defer func() { log.Info("peer left", "reason", reason) }()

	handled := 0 // messages dealt with, for Config.PeerHook
	hook := func(open bool) {
		if h := s.cfg.PeerHook; h != nil {
			h(id, handled, open)
		}
	}
	defer hook(false)

	var limit *rate.Limiter // none for the origin
	if !isOrigin {
		limit = rate.NewLimiter(rate.Limit(s.cfg.MessagesPerSecond), s.cfg.MessageBurst)
	}
	handle := func(m signaling.Message) {
		switch m.Type {
		case signaling.TypeOffer, signaling.TypeAnswer, signaling.TypeCandidate:
			if err := s.cfg.Tracker.Relay(id, m); errors.Is(err, tracker.ErrRelayLimit) {
				sess.Deliver(signaling.Errorf(signaling.CodeRateLimited, "%v", err))
			} else if err != nil {
				sess.Deliver(signaling.Errorf(signaling.CodeNoSuchPeer, "%v", err))
			}
		case signaling.TypeDrop:
			s.cfg.Tracker.Drop(id, m.Peer, m.Text)
		case signaling.TypeReport:
			s.onReport(log, id, m)
		default:
			sess.Deliver(signaling.Errorf(signaling.CodeBadMessage, "unexpected %q message", m.Type))
		}
	}
	var code string
	reason, code = readLoop(ctx, conn, sess, log, limit, handle, func() { handled++; hook(true) })
	if code != "" {
		fail(code, reason)
	}
	return reason
}

// liveEdge returns the newest chunk the stream's origin holds, 0 when it
// holds none (or the stream has no origin here).
func (s *Server) liveEdge(stream string) uint64 {
	if o := s.cfg.Streams.Origin(stream); o != nil {
		if n, ok := o.Newest(); ok {
			return n
		}
	}
	return 0
}

// onReport handles a peer's report that a neighbour sent it a chunk that
// failed verification (or flooded it): the tracker unlinks the two and,
// once enough distinct peers agree, stops introducing the offender.
func (s *Server) onReport(log *slog.Logger, id string, m signaling.Message) {
	res := s.cfg.Tracker.Report(id, m.Peer, m.Text)
	if !res.Counted {
		return
	}
	log.Warn("peer reported a neighbour", "reported", m.Peer, "reason", m.Text,
		"reporters", res.Reporters, "quarantined", res.Quarantined)
}
