package studio

import (
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/shoal-live/shoal/signal/auth"
	"github.com/shoal-live/shoal/signal/jsonhttp"
	"github.com/shoal-live/shoal/signal/store"
	"github.com/shoal-live/shoal/signal/streams"
)

// Streams is what the studio needs of the server's streams.
type Streams interface {
	// State is the stream's live state: its ingest status, meter,
	// newest chunk, viewers.
	State(name string) streams.State
	// Reserved reports whether name, in any case, is one of the server's
	// own streams (the demo, -stream-keys), which no account may take.
	Reserved(name string) bool
	// End disconnects whoever publishes the stream, over RTMP or WHIP,
	// and reports whether anyone did.
	End(name string) bool
}

// Config sets up the studio.
type Config struct {
	// Store holds the accounts, sessions, streams and bans.
	Store   *store.DB
	Streams Streams
	// Pages holds the sign-in templates login.html and setup.html.
	Pages fs.FS
	// Page serves the studio page (studio.html) as the server serves its
	// pages; NotFound answers a missing page or route.
	Page     http.Handler
	NotFound http.HandlerFunc
	// RTMPAddr is where RTMP ingest listens ("" when it is off), for
	// the OBS settings the studio shows.
	RTMPAddr string
	// SecureCookies and SetupToken: see the server's Config.
	SecureCookies bool
	SetupToken    string
	Logger        *slog.Logger
}

// Studio is the broadcaster's side of the server: accounts, sign-in, and
// the studio page's API (api.go). Its Auth is made on first use, so a
// server that never serves pays nothing for it.
type Studio struct {
	cfg     Config
	db      *store.DB
	streams Streams
	log     *slog.Logger

	once    sync.Once
	auth    *auth.Auth
	authErr error
	setupMu sync.Mutex // one first-account setup at a time

	tokenOnce sync.Once
	token     string // what /setup requires (account.go)

	mu      sync.Mutex
	offload map[string][]uploadSample // per stream, the last few status polls
}

// New makes the studio; Mount serves it.
func New(cfg Config) *Studio {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Studio{cfg: cfg, db: cfg.Store, streams: cfg.Streams, log: cfg.Logger}
}

// authn returns the studio's Auth, made on first use.
func (s *Studio) authn() (*auth.Auth, error) {
	s.once.Do(func() {
		s.auth, s.authErr = auth.New(auth.Config{
			Store:         s.db,
			SecureCookies: s.cfg.SecureCookies,
		})
	})
	return s.auth, s.authErr
}

// Mount adds the sign-in pages (/login, /setup, /logout), the studio page
// (/studio) and its API (/api/studio) to r.
func (s *Studio) Mount(r chi.Router) {
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
			r.Handle("/studio", s.cfg.Page)
			r.Route("/api/studio", s.api)
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
func (s *Studio) renderSignIn(w http.ResponseWriter, r *http.Request, name string, code int, p signInPage) {
	t, err := template.ParseFS(s.cfg.Pages, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			s.cfg.NotFound(w, r)
			return
		}
		s.log.Error("sign-in page", "page", name, "err", err)
		jsonhttp.Error(w, http.StatusInternalServerError, "internal error")
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
func (s *Studio) noAccounts(r *http.Request) (bool, error) {
	n, err := s.db.CountAccounts(r.Context())
	return n == 0, err
}

func (s *Studio) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	none, err := s.noAccounts(r)
	if err != nil {
		s.log.Error("login page", "err", err)
		jsonhttp.Error(w, http.StatusInternalServerError, "internal error")
		return
	}
	s.renderSignIn(w, r, "login.html", http.StatusOK, signInPage{Next: r.URL.Query().Get("next"), NoAccounts: none})
}

// handleLogin signs a broadcaster in from the login form and sends the
// browser on to ?next (a path on this site) or the studio.
func (s *Studio) handleLogin(w http.ResponseWriter, r *http.Request) {
	a, _ := s.authn()
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		// A body that is late (BodyReadTimeout), cut off or too large:
		// the client's fault, and a flood of them must not flood the log.
		s.log.Debug("sign-in form unreadable", "err", err)
		jsonhttp.Error(w, http.StatusBadRequest, "unreadable form")
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
		jsonhttp.Error(w, http.StatusForbidden, "cross-origin sign-in refused")
	case r.Context().Err() != nil: // the client went away
		s.log.Debug("sign-in abandoned", "username", username, "err", err)
	default:
		s.log.Error("sign-in failed", "username", username, "err", err)
		jsonhttp.Error(w, http.StatusInternalServerError, "internal error")
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

func (s *Studio) handleLogout(w http.ResponseWriter, r *http.Request) {
	a, _ := s.authn()
	if err := a.Logout(w, r); err != nil {
		s.log.Error("sign-out failed", "err", err)
		jsonhttp.Error(w, http.StatusInternalServerError, "internal error")
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Studio) handleSetupPage(w http.ResponseWriter, r *http.Request) {
	none, err := s.noAccounts(r)
	if err != nil {
		s.log.Error("setup page", "err", err)
		jsonhttp.Error(w, http.StatusInternalServerError, "internal error")
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
func (s *Studio) handleSetup(w http.ResponseWriter, r *http.Request) {
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

	s.setupMu.Lock()
	none, err := s.noAccounts(r)
	if err == nil && !none {
		s.setupMu.Unlock()
		s.log.Warn("setup refused: accounts exist")
		jsonhttp.Error(w, http.StatusForbidden, "an account exists already: sign in at /login")
		return
	}
	if err == nil {
		if password != r.PostFormValue("confirm") {
			err = errPasswordsDiffer
		} else {
			_, err = auth.CreateAccount(r.Context(), s.db, username, password)
		}
	}
	s.setupMu.Unlock()
	switch {
	case err == nil:
	case errors.Is(err, auth.ErrWeakPassword), errors.Is(err, store.ErrInvalid), errors.Is(err, errPasswordsDiffer):
		page.Error = setupError(err)
		s.renderSignIn(w, r, "setup.html", http.StatusBadRequest, page)
		return
	default:
		s.log.Error("setup failed", "err", err)
		jsonhttp.Error(w, http.StatusInternalServerError, "internal error")
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
