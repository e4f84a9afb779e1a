package signal

import (
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/shoal-live/shoal/signal/auth"
	"github.com/shoal-live/shoal/signal/store"
)

// studio is the broadcaster's side of the server: accounts, sign-in, and
// the studio page's API (studio_api.go). Its Auth is made on first use, so
// a Server that never serves pays nothing for it.
type studio struct {
	once    sync.Once
	auth    *auth.Auth
	authErr error
	setupMu sync.Mutex // one first-account setup at a time

	tokenOnce sync.Once
	token     string // what /setup requires (studio_account.go)

	mu      sync.Mutex
	offload map[string][]uploadSample // per stream, the last few status polls
}

// endIngest disconnects whoever publishes stream, over RTMP or WHIP, and
// reports whether anyone did.
func (s *Server) endIngest(stream string) bool {
	ended := s.streams.EndSession(stream)
	if s.whip.EndStream(stream) > 0 {
		ended = true
	}
	return ended
}

// authn returns the server's Auth, made on first use.
func (s *Server) authn() (*auth.Auth, error) {
	s.studio.once.Do(func() {
		s.studio.auth, s.studio.authErr = auth.New(auth.Config{
			Store:         s.db,
			SecureCookies: s.cfg.SecureCookies,
		})
	})
	return s.studio.auth, s.studio.authErr
}

// mountStudio adds the sign-in pages, the studio page and its API to r.
func (s *Server) mountStudio(r chi.Router) {
	a, err := s.authn()
	if err != nil {
		s.log.Error("studio disabled", "err", err)
		return
	}
	r.Group(func(r chi.Router) {
		r.Use(a.Protect) // no cross-origin POST, PUT, PATCH or DELETE
		r.Get("/login", s.handleLoginPage)
		r.Post("/login", s.handleLogin)
		r.Get("/setup", s.handleSetupPage)
		r.Post("/setup", s.handleSetup)
		r.Group(func(r chi.Router) {
			r.Use(a.RequireAccount) // a session, and its CSRF token on every mutation
			r.Post("/logout", s.handleLogout)
			r.Get("/studio", s.page("studio.html"))
			r.Route("/api/studio", s.studioAPI)
		})
	})
}

// signInPage is what the login and setup templates show.
type signInPage struct {
	Next, Username, Error string
	NoAccounts            bool
	// Token is the setup token the setup form sends back; NeedToken
	// shows the setup page without a form (no or a wrong token).
	Token     string
	NeedToken bool
}

// renderSignIn renders the login or setup page with code.
func (s *Server) renderSignIn(w http.ResponseWriter, r *http.Request, name string, code int, p signInPage) {
	t, err := template.ParseFS(s.pages, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			s.notFound(w, r)
			return
		}
		s.log.Error("sign-in page", "page", name, "err", err)
		httpError(w, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if err := t.Execute(w, p); err != nil {
		s.log.Warn("sign-in page", "page", name, "err", err)
	}
}

// noAccounts reports whether the first account is still to be made.
func (s *Server) noAccounts(r *http.Request) (bool, error) {
	n, err := s.db.CountAccounts(r.Context())
	return n == 0, err
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	none, err := s.noAccounts(r)
	if err != nil {
		s.log.Error("login page", "err", err)
		httpError(w, http.StatusInternalServerError, "internal error")
		return
	}
	s.renderSignIn(w, r, "login.html", http.StatusOK, signInPage{Next: r.URL.Query().Get("next"), NoAccounts: none})
}

// handleLogin signs a broadcaster in from the login form and sends the
// browser on to ?next (a path on this site) or the studio.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	a, _ := s.authn()
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		// A body that is late (BodyReadTimeout), cut off or too large:
		// the client's fault, and a flood of them must not flood the log.
		s.log.Debug("sign-in form unreadable", "err", err)
		httpError(w, http.StatusBadRequest, "unreadable form")
		return
	}
	username, password := r.PostFormValue("username"), r.PostFormValue("password")
	next := r.PostFormValue("next")
	_, err := a.Login(w, r, username, password)
	page := signInPage{Next: next, Username: username}
	var rl *auth.RateLimitError
	switch {
	case err == nil:
		s.log.Info("signed in", "username", username)
		http.Redirect(w, r, studioRedirect(next), http.StatusSeeOther)
	case errors.Is(err, auth.ErrInvalidCredentials):
		s.log.Warn("sign-in refused", "username", username, "err", err)
		page.Error = "Wrong username or password."
		s.renderSignIn(w, r, "login.html", http.StatusUnauthorized, page)
	case errors.As(err, &rl):
		s.log.Warn("sign-in refused", "username", username, "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Round(time.Second).Seconds())))
		page.Error = "Too many failed sign-ins. Try again in " + rl.RetryAfter.Round(time.Second).String() + "."
		s.renderSignIn(w, r, "login.html", http.StatusTooManyRequests, page)
	case errors.Is(err, auth.ErrCrossOrigin):
		httpError(w, http.StatusForbidden, "cross-origin sign-in refused")
	case r.Context().Err() != nil: // the client went away
		s.log.Debug("sign-in abandoned", "username", username, "err", err)
	default:
		s.log.Error("sign-in failed", "username", username, "err", err)
		httpError(w, http.StatusInternalServerError, "internal error")
	}
}

// studioRedirect is where a sign-in goes: next if it is a path on this
// site, else the studio.
func studioRedirect(next string) string {
	if next == "" {
		return "/studio"
	}
	if to := auth.LocalRedirect(next); to != "/" {
		return to
	}
	return "/studio"
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	a, _ := s.authn()
	if err := a.Logout(w, r); err != nil {
		s.log.Error("sign-out failed", "err", err)
		httpError(w, http.StatusInternalServerError, "internal error")
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) handleSetupPage(w http.ResponseWriter, r *http.Request) {
	none, err := s.noAccounts(r)
	if err != nil {
		s.log.Error("setup page", "err", err)
		httpError(w, http.StatusInternalServerError, "internal error")
		return
	}
	if !none {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	token := r.URL.Query().Get("token")
	if !s.validSetupToken(token) {
		s.renderSignIn(w, r, "setup.html", http.StatusForbidden, signInPage{NeedToken: true})
		return
	}
	s.renderSignIn(w, r, "setup.html", http.StatusOK, signInPage{Token: token})
}

// handleSetup makes the first account, only while there is none, and
// signs it in.
func (s *Server) handleSetup(w http.ResponseWriter, r *http.Request) {
	a, _ := s.authn()
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	username, password := r.PostFormValue("username"), r.PostFormValue("password")
	token := r.PostFormValue("token")
	page := signInPage{Username: username, Token: token}
	if !s.validSetupToken(token) {
		s.log.Warn("setup refused: no or a wrong setup token")
		page.NeedToken, page.Token = true, ""
		s.renderSignIn(w, r, "setup.html", http.StatusForbidden, page)
		return
	}

	s.studio.setupMu.Lock()
	none, err := s.noAccounts(r)
	if err == nil && !none {
		s.studio.setupMu.Unlock()
		s.log.Warn("setup refused: accounts exist")
		httpError(w, http.StatusForbidden, "an account exists already: sign in at /login")
		return
	}
	if err == nil {
		if password != r.PostFormValue("confirm") {
			err = errPasswordsDiffer
		} else {
			_, err = auth.CreateAccount(r.Context(), s.db, username, password)
		}
	}
	s.studio.setupMu.Unlock()
	switch {
	case err == nil:
	case errors.Is(err, auth.ErrWeakPassword), errors.Is(err, store.ErrInvalid), errors.Is(err, errPasswordsDiffer):
		page.Error = setupError(err)
		s.renderSignIn(w, r, "setup.html", http.StatusBadRequest, page)
		return
	default:
		s.log.Error("setup failed", "err", err)
		httpError(w, http.StatusInternalServerError, "internal error")
		return
	}
	s.log.Info("created the first broadcaster account", "username", username)
	if _, err := a.Login(w, r, username, password); err != nil {
		s.log.Error("sign-in after setup failed", "err", err)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/studio", http.StatusSeeOther)
}

// errPasswordsDiffer refuses a setup form whose two passwords differ.
var errPasswordsDiffer = errors.New("the passwords differ")

// setupError says what was wrong with a setup form, for people.
func setupError(err error) string {
	switch {
	case errors.Is(err, auth.ErrWeakPassword):
		return "Choose a password of at least " + strconv.Itoa(auth.MinPasswordLen) + " characters."
	case errors.Is(err, store.ErrInvalid):
		return "A username is 1 to " + strconv.Itoa(store.MaxUsernameLen) + " letters, digits, '_', '.' or '-'."
	default:
		return "The two passwords differ."
	}
}
