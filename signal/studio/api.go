package studio

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/shoal-live/shoal/signal/auth"
	"github.com/shoal-live/shoal/signal/jsonhttp"
	"github.com/shoal-live/shoal/signal/store"
)

// api is the studio page's JSON API, under /api/studio, behind
// auth.RequireAccount: a broadcaster sees and changes only their own
// streams; another's answer 404 as if they did not exist.
func (s *Studio) api(r chi.Router) {
	r.Get("/session", s.handleStudioSession)
	r.Post("/password", s.handleChangePassword)      // account.go
	r.Delete("/sessions", s.handleSignOutEverywhere) // every session of the account
	r.Get("/streams", s.handleOwnStreams)
	r.Post("/streams", s.handleCreateStream)
	r.Route("/streams/{stream}", func(r chi.Router) {
		r.Get("/", s.ownStream(s.handleGetStream))
		r.Patch("/", s.ownStream(s.handleUpdateStream))
		r.Delete("/", s.ownStream(s.handleDeleteStream))
		r.Get("/key", s.ownStream(s.handleStreamKey))
		r.Post("/key", s.ownStream(s.handleRegenerateKey))
		r.Post("/end", s.ownStream(s.handleEndStream))
		r.Get("/status", s.ownStream(s.handleStudioStatus))
		r.Get("/bans", s.ownStream(s.handleListBans)) // chat bans in force
		r.Delete("/bans/{id}", s.ownStream(s.handleLiftBan))
	})
}

// studioStream is a stream as the studio API shows it. The key is left out
// except where asked for (GET and POST …/key).
type studioStream struct {
	Name        string    `json:"name"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Created     time.Time `json:"created"`
	WatchURL    string    `json:"watchUrl"`
	// RTMPServer is OBS's "Server" for RTMP ("" when RTMP is off); the
	// stream key goes in "Stream Key".
	RTMPServer string `json:"rtmpServer"`
	// WHIPURL is OBS's "Server" for WHIP; the key is the Bearer Token.
	WHIPURL string `json:"whipUrl"`
	Key     string `json:"key,omitempty"`
}

func (s *Studio) studioStream(r *http.Request, st store.Stream) studioStream {
	scheme := "http"
	if r.TLS != nil || s.cfg.SecureCookies {
		scheme = "https"
	}
	out := studioStream{
		Name: st.Name, Title: st.Title, Description: st.Description, Created: st.Created,
		WatchURL: scheme + "://" + r.Host + "/watch/" + st.Name,
		WHIPURL:  scheme + "://" + r.Host + "/api/whip/" + st.Name,
	}
	if s.cfg.RTMPAddr != "" {
		host := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		_, port, err := net.SplitHostPort(s.cfg.RTMPAddr)
		if err != nil || port == "" {
			port = "1935"
		}
		out.RTMPServer = "rtmp://" + net.JoinHostPort(strings.Trim(host, "[]"), port) + "/live"
	}
	return out
}

// storeError answers a store error: 400 for a refused value, 409 for a
// taken name, 404 for a missing row, 500 otherwise.
func (s *Studio) storeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, store.ErrInvalid):
		_, msg, _ := strings.Cut(err.Error(), store.ErrInvalid.Error()+": ")
		jsonhttp.Error(w, http.StatusBadRequest, msg)
	case errors.Is(err, store.ErrConflict):
		jsonhttp.Error(w, http.StatusConflict, "that name is taken")
	case errors.Is(err, store.ErrNotFound):
		jsonhttp.Error(w, http.StatusNotFound, "no such stream")
	default:
		s.log.Error("studio: store", "err", err)
		jsonhttp.Error(w, http.StatusInternalServerError, "internal error")
	}
}

func (s *Studio) handleStudioSession(w http.ResponseWriter, r *http.Request) {
	acct, _ := auth.AccountFrom(r.Context())
	jsonhttp.Write(w, http.StatusOK, map[string]any{
		"username":  acct.Username,
		"csrfToken": auth.CSRFToken(r.Context()),
		"csrfField": auth.CSRFField,
		"rtmp":      s.cfg.RTMPAddr != "",
	})
}

func (s *Studio) handleOwnStreams(w http.ResponseWriter, r *http.Request) {
	acct, _ := auth.AccountFrom(r.Context())
	list, err := s.db.StreamsByOwner(r.Context(), acct.ID)
	if err != nil {
		s.storeError(w, err)
		return
	}
	out := make([]studioStream, 0, len(list))
	for _, st := range list {
		out = append(out, s.studioStream(r, st))
	}
	jsonhttp.Write(w, http.StatusOK, out)
}

func (s *Studio) handleCreateStream(w http.ResponseWriter, r *http.Request) {
	var in struct{ Name, Title, Description string }
	if err := jsonhttp.Read(w, r, &in); err != nil {
		jsonhttp.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	// The store checks the name (400 with its rule, storeError).
	if s.streams.Reserved(in.Name) {
		jsonhttp.Error(w, http.StatusConflict, "that name is taken")
		return
	}
	acct, _ := auth.AccountFrom(r.Context())
	st, err := s.db.CreateStream(r.Context(), store.NewStream{
		Name: in.Name, Title: strings.TrimSpace(in.Title), Description: strings.TrimSpace(in.Description), OwnerID: acct.ID,
	})
	if err != nil {
		s.storeError(w, err)
		return
	}
	s.log.Info("stream created", "stream", st.Name, "owner", acct.Username)
	jsonhttp.Write(w, http.StatusCreated, s.studioStream(r, st))
}

// ownStream wraps a handler of one stream: it finds {stream} and lets the
// request through only if the signed-in account owns it (404 otherwise,
// the same answer as for a stream that does not exist).
func (s *Studio) ownStream(h func(http.ResponseWriter, *http.Request, store.Stream)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		acct, _ := auth.AccountFrom(r.Context())
		st, err := s.db.StreamByName(r.Context(), chi.URLParam(r, "stream"))
		if err == nil && st.OwnerID != acct.ID {
			err = store.ErrNotFound
		}
		if err != nil {
			s.storeError(w, err)
			return
		}
		h(w, r, st)
	}
}

func (s *Studio) handleGetStream(w http.ResponseWriter, r *http.Request, st store.Stream) {
	jsonhttp.Write(w, http.StatusOK, s.studioStream(r, st))
}

func (s *Studio) handleUpdateStream(w http.ResponseWriter, r *http.Request, st store.Stream) {
	var in struct {
		Title, Description *string
	}
	if err := jsonhttp.Read(w, r, &in); err != nil {
		jsonhttp.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	title, desc := st.Title, st.Description
	if in.Title != nil {
		title = strings.TrimSpace(*in.Title)
	}
	if in.Description != nil {
		desc = strings.TrimSpace(*in.Description)
	}
	st, err := s.db.UpdateStream(r.Context(), st.ID, title, desc)
	if err != nil {
		s.storeError(w, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, s.studioStream(r, st))
}

func (s *Studio) handleDeleteStream(w http.ResponseWriter, r *http.Request, st store.Stream) {
	if err := s.db.DeleteStream(r.Context(), st.ID); err != nil {
		s.storeError(w, err)
		return
	}
	s.streams.End(st.Name)
	s.log.Info("stream deleted", "stream", st.Name)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Studio) handleStreamKey(w http.ResponseWriter, r *http.Request, st store.Stream) {
	out := s.studioStream(r, st)
	out.Key = st.Key
	jsonhttp.Write(w, http.StatusOK, out)
}

// handleRegenerateKey gives the stream a new key. The session publishing
// now, if any, goes on; the old key cannot start another.
func (s *Studio) handleRegenerateKey(w http.ResponseWriter, r *http.Request, st store.Stream) {
	st, err := s.db.RegenerateStreamKey(r.Context(), st.ID)
	if err != nil {
		s.storeError(w, err)
		return
	}
	s.log.Info("stream key regenerated", "stream", st.Name)
	out := s.studioStream(r, st)
	out.Key = st.Key
	jsonhttp.Write(w, http.StatusOK, out)
}

// handleEndStream disconnects the stream's publisher.
func (s *Studio) handleEndStream(w http.ResponseWriter, r *http.Request, st store.Stream) {
	ended := s.streams.End(st.Name)
	jsonhttp.Write(w, http.StatusOK, map[string]bool{"ended": ended})
}
