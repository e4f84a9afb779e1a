package studio

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/shoal-live/shoal/signal/auth"
	"github.com/shoal-live/shoal/signal/jsonhttp"
	"github.com/shoal-live/shoal/signal/store"
)

// The first account. /setup makes it while there is none, but only for
// whoever holds the setup token: a random value the server logs at start
// (Config.SetupToken to choose it). Without the token, the first person to
// reach a freshly started server's /setup, anyone on the internet, would
// own it. Binding /setup to loopback instead would break behind a reverse
// proxy on the same host (every visitor arrives from 127.0.0.1) and on a
// remote machine; the token works everywhere, and `go tool task run`
// prints it in the server's log as a link.

// setupToken returns the token /setup requires, made on first use.
func (s *Studio) setupToken() string {
	s.tokenOnce.Do(func() {
		s.token = s.cfg.SetupToken
		if s.token == "" {
			s.token = rand.Text() // 26 base32 characters, 130 random bits
		}
	})
	return s.token
}

// validSetupToken reports whether got is the setup token, in constant time.
func (s *Studio) validSetupToken(got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.setupToken())) == 1
}

// LogSetupURL logs the setup link while there is no account.
func (s *Studio) LogSetupURL(httpAddr net.Addr) {
	if n, err := s.db.CountAccounts(context.Background()); err != nil || n > 0 {
		return
	}
	host := "localhost"
	if a, ok := httpAddr.(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
		host = a.IP.String()
	}
	_, port, _ := net.SplitHostPort(httpAddr.String())
	s.log.Warn("no broadcaster account yet: open the setup link to make the first one (or run `shoal -create-account NAME`)",
		"setup", fmt.Sprintf("http://%s/setup?token=%s", net.JoinHostPort(host, port), s.setupToken()))
}

// handleChangePassword changes the signed-in broadcaster's password
// ({"current", "new"}) and ends every other session of the account; the
// browser that asked gets a new session cookie (and so a new CSRF token).
func (s *Studio) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Current string `json:"current"`
		New     string `json:"new"`
	}
	if err := jsonhttp.Read(w, r, &in); err != nil {
		jsonhttp.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	a, _ := s.authn()
	acct, _ := auth.AccountFrom(r.Context())
	n, err := a.ChangePassword(w, r, in.Current, in.New)
	var rl *auth.RateLimitError
	switch {
	case err == nil:
		s.log.Info("password changed", "username", acct.Username, "sessions_ended", n)
		jsonhttp.Write(w, http.StatusOK, map[string]int{"signedOut": n})
	case errors.Is(err, auth.ErrInvalidCredentials):
		s.log.Warn("password change refused", "username", acct.Username, "err", err)
		jsonhttp.Error(w, http.StatusForbidden, "the current password is wrong")
	case errors.As(err, &rl):
		s.log.Warn("password change refused", "username", acct.Username, "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Round(time.Second).Seconds())))
		jsonhttp.Error(w, http.StatusTooManyRequests, "too many wrong passwords: try again in "+rl.RetryAfter.Round(time.Second).String())
	case errors.Is(err, auth.ErrWeakPassword):
		jsonhttp.Error(w, http.StatusBadRequest, "choose a password of at least "+strconv.Itoa(auth.MinPasswordLen)+" characters")
	case errors.Is(err, auth.ErrCrossOrigin):
		jsonhttp.Error(w, http.StatusForbidden, "cross-origin request refused")
	default:
		s.log.Error("password change failed", "username", acct.Username, "err", err)
		jsonhttp.Error(w, http.StatusInternalServerError, "internal error")
	}
}

// handleSignOutEverywhere ends every session of the signed-in account,
// this browser's included.
func (s *Studio) handleSignOutEverywhere(w http.ResponseWriter, r *http.Request) {
	a, _ := s.authn()
	acct, _ := auth.AccountFrom(r.Context())
	n, err := a.LogoutEverywhere(w, r)
	if err != nil {
		s.log.Error("sign out everywhere failed", "username", acct.Username, "err", err)
		jsonhttp.Error(w, http.StatusInternalServerError, "internal error")
		return
	}
	s.log.Info("signed out everywhere", "username", acct.Username, "sessions_ended", n)
	jsonhttp.Write(w, http.StatusOK, map[string]int{"signedOut": n})
}

// studioBan is a chat ban as the studio lists it. An address ban's value,
// a salted hash, is never shown: Label names whom it was for.
type studioBan struct {
	ID int64 `json:"id"`
	// Kind is "nickname" or "address".
	Kind    string     `json:"kind"`
	Label   string     `json:"label"`
	Reason  string     `json:"reason,omitempty"`
	Created time.Time  `json:"created"`
	Until   *time.Time `json:"until"` // null: for good
}

// handleListBans lists the chat bans in force in the stream, oldest first.
func (s *Studio) handleListBans(w http.ResponseWriter, r *http.Request, st store.Stream) {
	bans, err := s.db.ListBans(r.Context(), st.ID)
	if err != nil {
		s.storeError(w, err)
		return
	}
	out := make([]studioBan, 0, len(bans))
	for _, b := range bans {
		sb := studioBan{ID: b.ID, Kind: "nickname", Label: b.Label, Reason: b.Reason, Created: b.Created}
		if b.Kind == store.BanFingerprint {
			sb.Kind = "address"
		} else if sb.Label == "" {
			sb.Label = b.Value
		}
		if !b.Forever() {
			u := b.Until
			sb.Until = &u
		}
		out = append(out, sb)
	}
	jsonhttp.Write(w, http.StatusOK, out)
}

// handleLiftBan lifts one ban of the stream: 204, or 404 if it is not in
// force.
func (s *Studio) handleLiftBan(w http.ResponseWriter, r *http.Request, st store.Stream) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		jsonhttp.Error(w, http.StatusNotFound, "no such ban")
		return
	}
	ok, err := s.db.LiftBan(r.Context(), st.ID, id)
	if err != nil {
		s.storeError(w, err)
		return
	}
	if !ok {
		jsonhttp.Error(w, http.StatusNotFound, "no such ban")
		return
	}
	s.log.Info("chat ban lifted", "stream", st.Name, "ban", id)
	w.WriteHeader(http.StatusNoContent)
}
