package signal

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/shoal-live/shoal/shared/integrity"
	"github.com/shoal-live/shoal/shared/signaling"
)

// chunkSigner returns the signer of stream's chunks, with the stream's key
// from the store (made on first use, kept across restarts).
func (s *Server) chunkSigner(ctx context.Context, stream string) (*integrity.Signer, error) {
	key, err := s.db.SigningKey(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("signal: origin %s: %w", stream, err)
	}
	signer, err := integrity.NewSigner(stream, key)
	if err != nil {
		return nil, fmt.Errorf("signal: origin %s: %w", stream, err)
	}
	return signer, nil
}

// welcomeKey returns the public key a joining peer verifies stream's chunks
// with, or "" for a stream that cannot be live (then the peer refuses every
// chunk). Keys are made only for streams that exist, so joins to made-up
// names cannot fill the store.
func (s *Server) welcomeKey(ctx context.Context, stream string) string {
	if !s.streamExists(ctx, stream) {
		return ""
	}
	signer, err := s.chunkSigner(ctx, stream)
	if err != nil {
		s.log.Error("no stream key for a joining peer", "stream", stream, "err", err)
		return ""
	}
	return integrity.EncodePublicKey(signer.PublicKey())
}

// streamExists reports whether stream has an origin, is configured
// (-stream-keys, the demo) or is in the store.
func (s *Server) streamExists(ctx context.Context, stream string) bool {
	if s.origin(stream) != nil || stream == s.cfg.DemoStream {
		return true
	}
	if _, ok := s.cfg.StreamKeys[stream]; ok {
		return true
	}
	_, err := s.db.StreamByName(ctx, stream)
	return err == nil
}

// onReport handles a peer's report that a neighbour sent it a chunk that
// failed verification (or flooded it): the tracker unlinks the two and,
// once enough distinct peers agree, stops introducing the offender.
func (s *Server) onReport(log *slog.Logger, id string, m signaling.Message) {
	res := s.tracker.Report(id, m.Peer, m.Text)
	if !res.Counted {
		return
	}
	log.Warn("peer reported a neighbour", "reported", m.Peer, "reason", m.Text,
		"reporters", res.Reporters, "quarantined", res.Quarantined)
}
