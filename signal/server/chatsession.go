package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"
	"golang.org/x/time/rate"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/auth"
	"github.com/shoal-live/shoal/signal/chat"
)

// Chat rides on the signaling WebSocket: a connection whose first message
// is chat-join (instead of join) is a chat connection and never a swarm
// peer. The browser's wasm peer owns its own signaling connection, so a
// page opens a second one for chat (frontend/lib/chat.js). Reusing
// /api/signal keeps one protocol, one decoder, one origin check and one
// per-address connection limit.

// chatSaltName names the store secret that salts the chat's address
// hashes: kept in the store, so bans by address hold across restarts.
const chatSaltName = "chat-address-salt"

// newChat makes the server's chat hub: rooms of streams in the store are
// persisted and moderated by their owners; the demo stream and streams
// given by -stream-keys get memory-only rooms.
func (s *Server) newChat() (*chat.Hub, error) {
	salt, err := s.db.Secret(context.Background(), chatSaltName, 32)
	if err != nil {
		return nil, fmt.Errorf("signal: chat: %w", err)
	}
	return chat.New(chat.Config{
		Salt:        salt,
		MaxAge:      s.cfg.ChatMaxAge,
		MaxMessages: s.cfg.ChatMaxMessages,
		Store:       s.db,
		Known:       s.streams.Known,
		Logger:      s.log.With("part", "chat"),
	}), nil
}

// startChat runs the hub's head counts and history pruning until ctx ends.
func (s *Server) startChat(ctx context.Context) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.chat.Run(ctx)
	}()
}

type (
	chatAccountKey struct{}
	chatAddrKey    struct{}
)

// withChatAccount returns r's context carrying the client's address (the
// server's client-IP strategy: bans by address match it) and the id of the
// account whose session cookie r carries, if any: the owner of a stream
// moderates its chat. The WebSocket upgrade checks the Origin, and the
// cookie is SameSite=Lax, so another site cannot open a chat connection as
// the owner.
func (s *Server) withChatAccount(r *http.Request) context.Context {
	ctx := context.WithValue(r.Context(), chatAddrKey{}, middleware.GetClientIP(r.Context()))
	c, err := r.Cookie(auth.CookieName)
	if err != nil || c.Value == "" || s.db == nil {
		return ctx
	}
	sess, err := s.db.SessionByToken(ctx, c.Value)
	if err != nil {
		return ctx
	}
	return context.WithValue(ctx, chatAccountKey{}, sess.AccountID)
}

// serveChat runs a chat connection after its chat-join, until it closes,
// and returns why it ended; fail sends a last error (see serveSignal).
func (s *Server) serveChat(ctx context.Context, conn signaling.Conn, sess *session, join signaling.Message, log *slog.Logger, fail func(code, text string)) string {
	reason, code := s.chatLoop(ctx, conn, sess, join, log)
	if code != "" {
		fail(code, reason)
	}
	return reason
}

func (s *Server) chatLoop(ctx context.Context, conn signaling.Conn, sess *session, join signaling.Message, log *slog.Logger) (reason, code string) {
	account, _ := ctx.Value(chatAccountKey{}).(int64)
	addr, _ := ctx.Value(chatAddrKey{}).(string)
	c, err := s.chat.Join(ctx, join.Stream, account, addr, sess.Deliver)
	switch {
	case errors.Is(err, chat.ErrNoRoom):
		return "this stream has no chat", signaling.CodeChatUnavailable
	case err != nil:
		log.Error("chat join failed", "stream", join.Stream, "err", err)
		return "chat is unavailable right now", signaling.CodeInternal
	}
	defer c.Leave()
	log = log.With("chat", join.Stream, "moderator", c.Moderator())
	log.Info("chat joined")
	defer log.Info("chat left")

	limit := rate.NewLimiter(rate.Limit(s.cfg.MaxMessagesPerSecond), s.cfg.MessageBurst)
	bad := 0
	for {
		m, err := conn.Recv(ctx)
		if err != nil {
			if !isDecodeError(err) {
				return "connection closed", ""
			}
			if bad++; bad >= maxBadMessages {
				return "too many malformed messages", signaling.CodeBadMessage
			}
			sess.Deliver(signaling.Errorf(signaling.CodeBadMessage, "%v", err))
			continue
		}
		if !limit.Allow() {
			log.Warn("signaling rate limit exceeded")
			return "rate limit exceeded", signaling.CodeRateLimited
		}
		c.Handle(ctx, m)
	}
}
