package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/shoal-live/shoal/signal/store"
)

// Names on the wire.
const (
	// CookieName is the session cookie.
	CookieName = "shoal_session"
	// CSRFField is the form field that carries the CSRF token.
	CSRFField = "csrf_token"
	// CSRFHeader is the request header that carries the CSRF token, for
	// fetch() calls.
	CSRFHeader = "X-CSRF-Token"
)

// Defaults of [Config].
const (
	DefaultSessionTTL  = 14 * 24 * time.Hour
	DefaultLoginPath   = "/login"
	DefaultLoginBurst  = 5
	DefaultLoginRefill = time.Minute
	// loginKeys bounds the failed-login records kept in memory.
	loginKeys = 10000
)

// Store is what Auth needs from the store (a *store.DB has it all).
type Store interface {
	AccountByUsername(ctx context.Context, username string) (store.Account, error)
	AccountByID(ctx context.Context, id int64) (store.Account, error)
	CreateSession(ctx context.Context, accountID int64, expires time.Time) (string, store.Session, error)
	SessionByToken(ctx context.Context, token string) (store.Session, error)
	DeleteSession(ctx context.Context, token string) error
	DeleteAccountSessions(ctx context.Context, accountID int64) (int, error)
	SetPassword(ctx context.Context, accountID int64, passwordHash string) (int, error)
}

// Config configures [New]. Only Store is required.
type Config struct {
	Store Store
	// SessionTTL is how long a login lasts; DefaultSessionTTL (14 days) if
	// zero. Sessions are not extended by use.
	SessionTTL time.Duration
	// SecureCookies marks the session cookie Secure on every response.
	// Without it the cookie is Secure only on requests that arrived over
	// TLS; set it when a TLS-terminating proxy stands in front (the
	// server trusts no proxy header).
	SecureCookies bool
	// TrustedOrigins are other origins ("https://studio.example.com")
	// whose pages may send state-changing requests. Same-origin requests
	// are always allowed.
	TrustedOrigins []string
	// LoginPath is where RequireAccount sends a browser without a session,
	// with ?next=<the page it asked for>; DefaultLoginPath if empty.
	LoginPath string
	// LoginBurst failed logins are allowed for one username from one
	// address, then one more per LoginRefill; DefaultLoginBurst and
	// DefaultLoginRefill if zero.
	LoginBurst  int
	LoginRefill time.Duration
	// ClientIP is the address the login rate limit counts by. Defaults to
	// the one chi's ClientIPFrom* middleware recorded, else the TCP peer
	// of r.RemoteAddr.
	ClientIP func(r *http.Request) string
	// Now is the clock; defaults to time.Now.
	Now func() time.Time
}

// Auth authenticates broadcasters: logins, session cookies, and the
// middleware that guards their pages and API. Its methods are safe for
// concurrent use.
type Auth struct {
	store     Store
	ttl       time.Duration
	secure    bool
	loginPath string
	clientIP  func(*http.Request) string
	now       func() time.Time
	cop       *http.CrossOriginProtection
	limits    *limiter
	hashSlots chan struct{} // bounds concurrent argon2id work (19 MiB each)
	dummyHash string        // verified for unknown usernames, so they take as long
}

// New returns an Auth for cfg.
func New(cfg Config) (*Auth, error) {
	if cfg.Store == nil {
		return nil, errors.New("auth: new: Config.Store is nil")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.LoginPath == "" {
		cfg.LoginPath = DefaultLoginPath
	}
	if cfg.LoginBurst <= 0 {
		cfg.LoginBurst = DefaultLoginBurst
	}
	if cfg.LoginRefill <= 0 {
		cfg.LoginRefill = DefaultLoginRefill
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = clientIP
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cop := http.NewCrossOriginProtection()
	for _, o := range cfg.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("auth: new: trusted origin: %w", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse(w, r, http.StatusForbidden, ErrCrossOrigin.Error())
	}))
	dummy, err := HashPassword("no such account, but take as long")
	if err != nil {
		return nil, fmt.Errorf("auth: new: %w", err)
	}
	return &Auth{
		store:     cfg.Store,
		ttl:       cfg.SessionTTL,
		secure:    cfg.SecureCookies,
		loginPath: cfg.LoginPath,
		clientIP:  cfg.ClientIP,
		now:       cfg.Now,
		cop:       cop,
		limits:    newLimiter(cfg.LoginBurst, cfg.LoginRefill, loginKeys),
		hashSlots: make(chan struct{}, runtime.GOMAXPROCS(0)),
		dummyHash: dummy,
	}, nil
}

// clientIP is the default Config.ClientIP.
func clientIP(r *http.Request) string {
	if ip := middleware.GetClientIP(r.Context()); ip != "" {
		return ip
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// ctxKey keys the request context values of this package.
type ctxKey int

const (
	accountKey ctxKey = iota
	csrfKey
)

// AccountFrom returns the account [Auth.RequireAccount] or
// [Auth.LoadAccount] found for the request.
func AccountFrom(ctx context.Context) (store.Account, bool) {
	a, ok := ctx.Value(accountKey).(store.Account)
	return a, ok
}

// CSRFToken returns the CSRF token of the request's session, for a page to
// put in its forms (a hidden input named [CSRFField]) or hand to its
// scripts (which send it in the [CSRFHeader] header); "" without a session.
func CSRFToken(ctx context.Context) string {
	t, _ := ctx.Value(csrfKey).(string)
	return t
}

// csrfToken derives a session's CSRF token from its session token: an
// attacker who cannot read the cookie cannot compute it, and it reveals
// nothing of the cookie. It needs no storage and dies with the session.
func csrfToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("shoal csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// isAPI reports whether r is for the JSON API, which answers errors in JSON
// rather than redirecting.
func isAPI(r *http.Request) bool {
	return r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")
}

// refuse answers an error: {"error": msg} for the API, plain text for
// pages.
func refuse(w http.ResponseWriter, r *http.Request, code int, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	if isAPI(r) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]string{"error": msg})
		return
	}
	http.Error(w, msg, code)
}

// LocalRedirect returns next if it is a path on this site, "/" otherwise:
// use it on a login form's ?next= so that it cannot send the browser to
// another site.
func LocalRedirect(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	return next
}
