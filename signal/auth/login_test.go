package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/auth"
)

func TestLogin(t *testing.T) {
	e := newEnv(t, auth.Config{})
	for _, tc := range []struct {
		name     string
		username string
		password string
		header   map[string]string
		want     error
	}{
		{"good", user, password, sameOrigin, nil},
		{"username in other case", "ALICE", password, sameOrigin, nil},
		{"no fetch metadata (old browser, curl)", user, password, nil, nil},
		{"wrong password", user, password + "!", sameOrigin, auth.ErrInvalidCredentials},
		{"empty password", user, "", sameOrigin, auth.ErrInvalidCredentials},
		{"unknown user", "bob", password, sameOrigin, auth.ErrInvalidCredentials},
		{"overlong username", string(make([]byte, 200)), password, sameOrigin, auth.ErrInvalidCredentials},
		{"cross-site", user, password, map[string]string{"Sec-Fetch-Site": "cross-site"}, auth.ErrCrossOrigin},
		{"foreign origin", user, password, map[string]string{"Origin": "https://evil.example"}, auth.ErrCrossOrigin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := request{method: http.MethodPost, target: "/login", header: tc.header, ip: "198.51.100.7"}.build(t)
			acct, err := e.a.Login(w, r, tc.username, tc.password)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Login = %v, want %v", err, tc.want)
			}
			c := sessionCookie(t, w.Result())
			if err != nil {
				if c != nil {
					t.Errorf("a failed login set a cookie: %v", c)
				}
				return
			}
			if acct.ID != e.acct.ID || c == nil {
				t.Fatalf("Login = %+v, cookie %v", acct, c)
			}
			if _, err := e.db.SessionByToken(t.Context(), c.Value); err != nil {
				t.Errorf("the cookie names no session: %v", err)
			}
		})
	}
}

func TestSessionCookieFlags(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cfg        auth.Config
		tls        bool
		wantSecure bool
		wantTTL    time.Duration
	}{
		{"plain HTTP", auth.Config{}, false, false, 14 * 24 * time.Hour},
		{"HTTPS", auth.Config{}, true, true, 14 * 24 * time.Hour},
		{"behind a TLS proxy", auth.Config{SecureCookies: true}, false, true, 14 * 24 * time.Hour},
		{"custom TTL", auth.Config{SessionTTL: time.Hour}, false, false, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.cfg)
			c, err := e.login(request{tls: tc.tls})
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != "shoal_session" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" ||
				c.Secure != tc.wantSecure || c.MaxAge != int(tc.wantTTL.Seconds()) || !c.Expires.Equal(e.clk.Now().Add(tc.wantTTL)) {
				t.Errorf("cookie %+v; want HttpOnly, SameSite=Lax, Path=/, Secure=%v, MaxAge=%v", c, tc.wantSecure, tc.wantTTL)
			}
			if len(c.Value) != 43 {
				t.Errorf("cookie value %q is not a 256-bit token", c.Value)
			}
		})
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, auth.Config{LoginBurst: 3, LoginRefill: time.Minute})
	attempt := func(pw, ip string) error {
		t.Helper()
		r := request{method: http.MethodPost, target: "/login", header: sameOrigin, ip: ip}.build(t)
		_, err := e.a.Login(httptest.NewRecorder(), r, user, pw)
		return err
	}
	const ip, otherIP = "198.51.100.7", "203.0.113.9"
	steps := []struct {
		name    string
		advance time.Duration
		pw, ip  string
		want    error
	}{
		{"wrong 1", 0, "nope", ip, auth.ErrInvalidCredentials},
		{"wrong 2", 0, "nope", ip, auth.ErrInvalidCredentials},
		{"wrong 3", 0, "nope", ip, auth.ErrInvalidCredentials},
		{"limited even with the right password", 0, password, ip, auth.ErrRateLimited},
		{"another address is not limited", 0, "nope", otherIP, auth.ErrInvalidCredentials},
		{"still limited", 59 * time.Second, password, ip, auth.ErrRateLimited},
		{"one try after the refill", time.Second, "nope", ip, auth.ErrInvalidCredentials},
		{"then limited again", 0, password, ip, auth.ErrRateLimited},
		{"next refill: right password", time.Minute, password, ip, nil},
		{"success reset the bucket: wrong 1", 0, "nope", ip, auth.ErrInvalidCredentials},
		{"wrong 2", 0, "nope", ip, auth.ErrInvalidCredentials},
		{"wrong 3", 0, "nope", ip, auth.ErrInvalidCredentials},
		{"limited", 0, "nope", ip, auth.ErrRateLimited},
	}
	for _, s := range steps {
		e.clk.Advance(s.advance)
		err := attempt(s.pw, s.ip)
		if !errors.Is(err, s.want) || (s.want == nil) != (err == nil) {
			t.Fatalf("%s: Login = %v, want %v", s.name, err, s.want)
		}
	}
	err := attempt(password, ip)
	var rl *auth.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 || rl.RetryAfter > time.Minute {
		t.Fatalf("Login = %v, want a RateLimitError with RetryAfter in (0, 1m]", err)
	}
	if got := err.Error(); got != "auth: too many failed logins: try again in 1m0s" {
		t.Errorf("error %q", got)
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t, auth.Config{})
	c, err := e.login(request{})
	if err != nil {
		t.Fatal(err)
	}
	// Cross-origin logout is refused and ends nothing.
	cross := request{method: http.MethodPost, target: "/logout", cookie: c, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}
	if err := e.a.Logout(httptest.NewRecorder(), cross.build(t)); !errors.Is(err, auth.ErrCrossOrigin) {
		t.Errorf("cross-origin Logout = %v, want ErrCrossOrigin", err)
	}
	if _, err := e.db.SessionByToken(t.Context(), c.Value); err != nil {
		t.Fatalf("session ended by a refused logout: %v", err)
	}

	w := httptest.NewRecorder()
	if err := e.a.Logout(w, request{method: http.MethodPost, target: "/logout", cookie: c, header: sameOrigin}.build(t)); err != nil {
		t.Fatal(err)
	}
	cleared := sessionCookie(t, w.Result())
	if cleared == nil || cleared.MaxAge >= 0 || cleared.Value != "" {
		t.Errorf("logout cookie %+v, want one that deletes it", cleared)
	}
	if _, err := e.db.SessionByToken(t.Context(), c.Value); err == nil {
		t.Error("the session survived logout")
	}
	rec := httptest.NewRecorder()
	e.a.RequireAccount(whoami).ServeHTTP(rec, request{target: "/api/me", cookie: c}.build(t))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("after logout the old cookie gets %d, want 401", rec.Code)
	}
}

func TestLoginReplacesSession(t *testing.T) {
	e := newEnv(t, auth.Config{})
	old, err := e.login(request{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.login(request{cookie: old})
	if err != nil {
		t.Fatal(err)
	}
	if c.Value == old.Value {
		t.Fatal("login kept the session token (session fixation)")
	}
	if _, err := e.db.SessionByToken(t.Context(), old.Value); err == nil {
		t.Error("the previous session survived a new login")
	}
}
