package auth_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/auth"
	"github.com/shoal-live/shoal/signal/store"
)

const (
	user     = "alice"
	password = "correct horse battery"
	host     = "shoal.example"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is an Auth over an in-memory store with the account alice.
type env struct {
	t    *testing.T
	db   *store.DB
	a    *auth.Auth
	clk  *clock
	acct store.Account
}

func newEnv(t *testing.T, cfg auth.Config) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	db, err := store.Open(ctx, store.Config{Path: store.Memory, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	acct, err := auth.CreateAccount(ctx, db, user, password)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = db
	cfg.Now = clk.Now
	a, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: db, a: a, clk: clk, acct: acct}
}

// request is a request to http://shoal.example from 192.0.2.1, made
// cross-origin or not by its headers.
type request struct {
	method, target string
	form           url.Values // sent as an urlencoded body
	header         map[string]string
	cookie         *http.Cookie
	tls            bool
	ip             string
}

func (q request) build(t *testing.T) *http.Request {
	t.Helper()
	var body io.Reader
	if q.form != nil {
		body = strings.NewReader(q.form.Encode())
	}
	method := q.method
	if method == "" {
		method = http.MethodGet
	}
	r := httptest.NewRequestWithContext(t.Context(), method, "http://"+host+q.target, body)
	if q.form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	if q.cookie != nil {
		r.AddCookie(q.cookie)
	}
	if q.tls {
		r.TLS = &tls.ConnectionState{}
	}
	r.RemoteAddr = "192.0.2.1:4242"
	if q.ip != "" {
		r.RemoteAddr = q.ip + ":4242"
	}
	return r
}

// sameOrigin is what a browser sends with a form POST from the site's own page.
var sameOrigin = map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://" + host}

// login logs alice in and returns her session cookie.
func (e *env) login(q request) (*http.Cookie, error) {
	e.t.Helper()
	if q.method == "" {
		q.method = http.MethodPost
	}
	if q.target == "" {
		q.target = "/login"
	}
	if q.header == nil {
		q.header = sameOrigin
	}
	w := httptest.NewRecorder()
	_, err := e.a.Login(w, q.build(e.t), user, password)
	if err != nil {
		return nil, err
	}
	return sessionCookie(e.t, w.Result()), nil
}

// sessionCookie returns the session cookie a response sets, or nil.
func sessionCookie(t *testing.T, res *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == auth.CookieName {
			return c
		}
	}
	return nil
}

// csrfOf returns the CSRF token of the session in cookie, as a page would
// get it.
func (e *env) csrfOf(cookie *http.Cookie) string {
	e.t.Helper()
	var token string
	h := e.a.RequireAccount(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token = auth.CSRFToken(r.Context())
	}))
	h.ServeHTTP(httptest.NewRecorder(), request{target: "/studio", cookie: cookie}.build(e.t))
	if token == "" {
		e.t.Fatal("no CSRF token for the session")
	}
	return token
}

// whoami answers "hello <username>" for the account in the context.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	a, ok := auth.AccountFrom(r.Context())
	if !ok {
		fmt.Fprint(w, "hello nobody")
		return
	}
	fmt.Fprintf(w, "hello %s", a.Username)
})
