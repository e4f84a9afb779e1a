package rendezvous

import (
	"context"
	"errors"
	"log/slog"

	"golang.org/x/time/rate"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/chat"
)

// Chat rides on the signaling WebSocket: a connection whose first message
// is chat-join (instead of join) is a chat connection and never a swarm
// peer. The browser's wasm peer owns its own signaling connection, so a
// page opens a second one for chat (frontend/lib/chat.js). Reusing
// /api/signal keeps one protocol, one decoder, one origin check and one
// per-address connection limit. The WebSocket upgrade checks the Origin,
// and the session cookie is SameSite=Lax, so another site cannot open a
// chat connection as a stream's owner.

// serveChat runs a chat connection after its chat-join, until it closes,
// and returns why it ended; fail sends a last error (see serve).
func (s *Server) serveChat(ctx context.Context, conn signaling.Conn, sess *session, join signaling.Message, cl client,
	log *slog.Logger, fail func(code, text string)) string {
	if s.cfg.Chat == nil {
		fail(signaling.CodeChatUnavailable, "this stream has no chat")
		return "this stream has no chat"
	}
	c, err := s.cfg.Chat.Join(ctx, join.Stream, cl.account(), cl.addr, sess.Deliver)
	switch {
	case errors.Is(err, chat.ErrNoRoom):
		fail(signaling.CodeChatUnavailable, "this stream has no chat")
		return "this stream has no chat"
	case err != nil:
		log.Error("chat join failed", "stream", join.Stream, "err", err)
		fail(signaling.CodeInternal, "chat is unavailable right now")
		return "chat is unavailable right now"
	}
	defer c.Leave()
	log = log.With("chat", join.Stream, "moderator", c.Moderator())
	log.Info("chat joined")
	defer log.Info("chat left")

	limit := rate.NewLimiter(rate.Limit(s.cfg.MessagesPerSecond), s.cfg.MessageBurst)
	reason, code := readLoop(ctx, conn, sess, log, limit, func(m signaling.Message) { c.Handle(ctx, m) }, nil)
	if code != "" {
		fail(code, reason)
	}
	return reason
}
