package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/shoal-live/shoal/signal/auth"
	"github.com/shoal-live/shoal/signal/chat"
)

// chatSaltName names the store secret that salts the chat's address
// hashes: kept in the store, so bans by address hold across restarts.
const chatSaltName = "chat-address-salt"

// newChat makes the server's chat hub: rooms of streams in the store are
// persisted and moderated by their owners; the demo stream and streams
// given by -stream-keys get memory-only rooms. Chat connections arrive
// over the signaling WebSocket (package rendezvous).
func (s *Server) newChat() (*chat.Hub, error) {
	salt, err := s.db.Secret(context.Background(), chatSaltName, 32)
	if err != nil {
		return nil, fmt.Errorf("server: chat: %w", err)
	}
	return chat.New(chat.Config{
		Salt:        salt,
		MaxAge:      s.cfg.ChatMaxAge,
		MaxMessages: s.cfg.ChatMaxMessages,
		Streams:     s.streams,
		Store:       s.db,
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

// account is the id of the account whose session cookie r carries, 0 for
// none: the owner of a stream moderates its chat.
func (s *Server) account(r *http.Request) int64 {
	c, err := r.Cookie(auth.CookieName)
	if err != nil || c.Value == "" {
		return 0
	}
	sess, err := s.db.SessionByToken(r.Context(), c.Value)
	if err != nil {
		return 0
	}
	return sess.AccountID
}
