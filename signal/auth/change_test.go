package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shoal-live/shoal/signal/auth"
)

// guarded runs h behind RequireAccount for a same-origin POST with the
// session's CSRF token, as the studio page sends it.
func (e *env) guarded(cookie *http.Cookie, h func(w http.ResponseWriter, r *http.Request)) *http.Response {
	e.t.Helper()
	w := httptest.NewRecorder()
	hdr := map[string]string{auth.CSRFHeader: e.csrfOf(cookie)}
	for k, v := range sameOrigin {
		hdr[k] = v
	}
	e.a.RequireAccount(http.HandlerFunc(h)).ServeHTTP(w, request{method: http.MethodPost, target: "/api/studio/x", cookie: cookie, header: hdr}.build(e.t))
	return w.Result()
}

// stillIn reports whether cookie's session still works.
func (e *env) stillIn(cookie *http.Cookie) bool {
	e.t.Helper()
	w := httptest.NewRecorder()
	e.a.RequireAccount(whoami).ServeHTTP(w, request{target: "/api/studio/session", cookie: cookie}.build(e.t))
	return w.Code == http.StatusOK
}

func TestChangePassword(t *testing.T) {
	const newPassword = "a much better passphrase"
	for _, tc := range []struct {
		name      string
		current   string
		next      string
		want      error
		changed   bool
		tries     int // wrong attempts first
		wantEnded int
	}{
		{name: "changed", current: password, next: newPassword, changed: true, wantEnded: 2},
		{name: "wrong current password", current: "guess", next: newPassword, want: auth.ErrInvalidCredentials},
		{name: "weak new password", current: password, next: "short", want: auth.ErrWeakPassword},
		{name: "guessing is rate-limited like logins", current: password, next: newPassword, tries: 5, want: auth.ErrRateLimited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, auth.Config{})
			var browsers []*http.Cookie
			for range 3 {
				c, err := e.login(request{})
				if err != nil {
					t.Fatal(err)
				}
				browsers = append(browsers, c)
			}
			me := browsers[0]
			for range tc.tries {
				e.guarded(me, func(w http.ResponseWriter, r *http.Request) {
					if _, err := e.a.ChangePassword(w, r, "wrong guess", newPassword); !errors.Is(err, auth.ErrInvalidCredentials) {
						t.Errorf("a wrong guess: %v", err)
					}
				})
			}
			var ended int
			var err error
			res := e.guarded(me, func(w http.ResponseWriter, r *http.Request) {
				ended, err = e.a.ChangePassword(w, r, tc.current, tc.next)
			})
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) || ended != tc.wantEnded {
				t.Fatalf("ChangePassword = %d, %v; want %d, %v", ended, err, tc.wantEnded, tc.want)
			}
			acct, _ := e.db.AccountByID(t.Context(), e.acct.ID)
			if ok, _ := auth.VerifyPassword(acct.PasswordHash, newPassword); ok != tc.changed {
				t.Errorf("new password verifies: %v, want %v", ok, tc.changed)
			}
			for i, c := range browsers {
				if in := e.stillIn(c); in == tc.changed {
					t.Errorf("browser %d signed in: %v, want %v", i, in, !tc.changed)
				}
			}
			fresh := sessionCookie(t, res)
			if tc.changed != (fresh != nil && fresh.Value != "") {
				t.Fatalf("new cookie %v after the change: want one %v", fresh, tc.changed)
			}
			if fresh != nil && !e.stillIn(fresh) {
				t.Error("the asking browser's new session does not work")
			}
		})
	}
}

func TestLogoutEverywhere(t *testing.T) {
	e := newEnv(t, auth.Config{})
	var browsers []*http.Cookie
	for range 3 {
		c, err := e.login(request{})
		if err != nil {
			t.Fatal(err)
		}
		browsers = append(browsers, c)
	}
	var n int
	var err error
	res := e.guarded(browsers[1], func(w http.ResponseWriter, r *http.Request) {
		n, err = e.a.LogoutEverywhere(w, r)
	})
	if err != nil || n != 3 {
		t.Fatalf("LogoutEverywhere = %d, %v; want 3", n, err)
	}
	if c := sessionCookie(t, res); c == nil || c.MaxAge >= 0 {
		t.Errorf("the cookie is not cleared: %v", c)
	}
	for i, c := range browsers {
		if e.stillIn(c) {
			t.Errorf("browser %d is still signed in", i)
		}
	}
	if _, err := e.login(request{}); err != nil {
		t.Errorf("signing in again: %v", err)
	}
	// Without RequireAccount in front there is no account to sign out.
	if _, err := e.a.LogoutEverywhere(httptest.NewRecorder(), request{method: http.MethodPost, target: "/x", header: sameOrigin}.build(t)); err == nil {
		t.Error("LogoutEverywhere without an account succeeded")
	}
}
