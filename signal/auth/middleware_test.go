package auth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/auth"
)

func TestRequireAccount(t *testing.T) {
	e := newEnv(t, auth.Config{SessionTTL: time.Hour, TrustedOrigins: []string{"https://studio.example"}})
	cookie, err := e.login(request{})
	if err != nil {
		t.Fatal(err)
	}
	token := e.csrfOf(cookie)
	otherCookie, err := e.login(request{ip: "203.0.113.9"})
	if err != nil {
		t.Fatal(err)
	}
	otherToken := e.csrfOf(otherCookie)
	if otherToken == token {
		t.Fatal("two sessions share a CSRF token")
	}
	garbage := &http.Cookie{Name: auth.CookieName, Value: "not-a-session"}
	withToken := func(extra map[string]string) map[string]string {
		h := map[string]string{auth.CSRFHeader: token}
		for k, v := range sameOrigin {
			h[k] = v
		}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}

	for _, tc := range []struct {
		name         string
		q            request
		wantCode     int
		wantBody     string // substring
		wantLocation string
	}{
		{"page without session", request{target: "/studio?tab=keys"}, http.StatusSeeOther, "", "/login?next=%2Fstudio%3Ftab%3Dkeys"},
		{"API without session", request{target: "/api/streams"}, http.StatusUnauthorized, `"error":"login required"`, ""},
		{"API with a garbage cookie", request{target: "/api/streams", cookie: garbage}, http.StatusUnauthorized, "login required", ""},
		{"page with session", request{target: "/studio", cookie: cookie}, http.StatusOK, "hello alice", ""},
		{"API with session", request{target: "/api/streams", cookie: cookie}, http.StatusOK, "hello alice", ""},
		{"cross-site GET is safe", request{target: "/studio", cookie: cookie, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, http.StatusOK, "hello alice", ""},

		{"POST with the header token", request{method: "POST", target: "/api/streams", cookie: cookie, header: withToken(nil)}, http.StatusOK, "hello alice", ""},
		{"POST form with the field token", request{method: "POST", target: "/studio/title", cookie: cookie, header: sameOrigin,
			form: url.Values{auth.CSRFField: {token}, "title": {"x"}}}, http.StatusOK, "hello alice", ""},
		{"DELETE with the token, no fetch metadata", request{method: "DELETE", target: "/api/streams/live", cookie: cookie,
			header: map[string]string{auth.CSRFHeader: token}}, http.StatusOK, "hello alice", ""},
		{"POST from a trusted origin", request{method: "POST", target: "/api/streams", cookie: cookie,
			header: withToken(map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://studio.example"})}, http.StatusOK, "hello alice", ""},

		{"POST without token", request{method: "POST", target: "/api/streams", cookie: cookie, header: sameOrigin}, http.StatusForbidden, "CSRF", ""},
		{"POST form without token", request{method: "POST", target: "/studio/title", cookie: cookie, header: sameOrigin,
			form: url.Values{"title": {"x"}}}, http.StatusForbidden, "CSRF", ""},
		{"POST with a forged token", request{method: "POST", target: "/api/streams", cookie: cookie,
			header: withToken(map[string]string{auth.CSRFHeader: strings.Repeat("A", 43)})}, http.StatusForbidden, "CSRF", ""},
		{"POST with another session's token", request{method: "POST", target: "/api/streams", cookie: cookie,
			header: withToken(map[string]string{auth.CSRFHeader: otherToken})}, http.StatusForbidden, "CSRF", ""},
		{"POST with the session token as CSRF token", request{method: "POST", target: "/api/streams", cookie: cookie,
			header: withToken(map[string]string{auth.CSRFHeader: cookie.Value})}, http.StatusForbidden, "CSRF", ""},
		{"cross-site POST with a valid token", request{method: "POST", target: "/api/streams", cookie: cookie,
			header: withToken(map[string]string{"Sec-Fetch-Site": "cross-site"})}, http.StatusForbidden, "cross-origin", ""},
		{"foreign Origin POST with a valid token", request{method: "PUT", target: "/api/streams/live", cookie: cookie,
			header: map[string]string{auth.CSRFHeader: token, "Origin": "https://evil.example"}}, http.StatusForbidden, "cross-origin", ""},
		{"POST without session", request{method: "POST", target: "/api/streams", header: withToken(nil)}, http.StatusUnauthorized, "login required", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			e.a.RequireAccount(whoami).ServeHTTP(w, tc.q.build(t))
			if w.Code != tc.wantCode || !strings.Contains(w.Body.String(), tc.wantBody) || w.Header().Get("Location") != tc.wantLocation {
				t.Errorf("%s %s: %d %q Location %q; want %d %q Location %q", tc.q.method, tc.q.target,
					w.Code, w.Body.String(), w.Header().Get("Location"), tc.wantCode, tc.wantBody, tc.wantLocation)
			}
			if strings.HasPrefix(tc.q.target, "/api/") && w.Code >= 400 {
				var body map[string]string
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["error"] == "" {
					t.Errorf("API error body %q is not {\"error\": …}", w.Body.String())
				}
			}
		})
	}

	t.Run("expired session", func(t *testing.T) {
		e.clk.Advance(time.Hour)
		for _, q := range []request{{target: "/api/streams", cookie: cookie}, {target: "/studio", cookie: cookie}} {
			w := httptest.NewRecorder()
			e.a.RequireAccount(whoami).ServeHTTP(w, q.build(t))
			if w.Code != http.StatusUnauthorized && w.Code != http.StatusSeeOther {
				t.Errorf("%s with an expired session: %d %q", q.target, w.Code, w.Body.String())
			}
			if c := sessionCookie(t, w.Result()); c == nil || c.MaxAge >= 0 {
				t.Errorf("%s: the stale cookie was not cleared: %+v", q.target, c)
			}
		}
	})
}

func TestRequireAccountStoreFailure(t *testing.T) {
	e := newEnv(t, auth.Config{})
	cookie, err := e.login(request{})
	if err != nil {
		t.Fatal(err)
	}
	e.db.Close()
	w := httptest.NewRecorder()
	e.a.RequireAccount(whoami).ServeHTTP(w, request{target: "/api/streams", cookie: cookie}.build(t))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("with the store down: %d %q, want 500", w.Code, w.Body.String())
	}
}

func TestLoadAccount(t *testing.T) {
	e := newEnv(t, auth.Config{})
	cookie, err := e.login(request{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		q    request
		want string
	}{
		{"anonymous", request{target: "/watch/live"}, "hello nobody"},
		{"logged in", request{target: "/watch/live", cookie: cookie}, "hello alice"},
		{"garbage cookie", request{target: "/watch/live", cookie: &http.Cookie{Name: auth.CookieName, Value: "x"}}, "hello nobody"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			e.a.LoadAccount(whoami).ServeHTTP(w, tc.q.build(t))
			if w.Code != http.StatusOK || w.Body.String() != tc.want {
				t.Errorf("%d %q, want 200 %q", w.Code, w.Body.String(), tc.want)
			}
		})
	}
}

func TestProtect(t *testing.T) {
	e := newEnv(t, auth.Config{})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("done")) })
	for _, tc := range []struct {
		name   string
		q      request
		wantOK bool
	}{
		{"same-origin POST", request{method: "POST", target: "/login", header: sameOrigin}, true},
		{"POST without browser headers (OBS, curl)", request{method: "POST", target: "/api/whip/live"}, true},
		{"user-typed navigation", request{method: "POST", target: "/login", header: map[string]string{"Sec-Fetch-Site": "none"}}, true},
		{"cross-site POST", request{method: "POST", target: "/login", header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, false},
		{"same-site (other subdomain) POST", request{method: "POST", target: "/login", header: map[string]string{"Sec-Fetch-Site": "same-site"}}, false},
		{"foreign Origin, no Sec-Fetch-Site", request{method: "POST", target: "/api/x", header: map[string]string{"Origin": "https://evil.example"}}, false},
		{"cross-site GET", request{target: "/watch/live", header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			e.a.Protect(ok).ServeHTTP(w, tc.q.build(t))
			if got := w.Code == http.StatusOK && w.Body.String() == "done"; got != tc.wantOK {
				t.Errorf("%d %q, want allowed=%v", w.Code, w.Body.String(), tc.wantOK)
			}
			if !tc.wantOK && w.Code != http.StatusForbidden {
				t.Errorf("refused with %d, want 403", w.Code)
			}
		})
	}
}

func TestLocalRedirect(t *testing.T) {
	for _, tc := range []struct{ next, want string }{
		{"/studio?tab=keys", "/studio?tab=keys"},
		{"/", "/"},
		{"", "/"},
		{"https://evil.example/", "/"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"/a\r\nSet-Cookie: x", "/"},
	} {
		if got := auth.LocalRedirect(tc.next); got != tc.want {
			t.Errorf("LocalRedirect(%q) = %q, want %q", tc.next, got, tc.want)
		}
	}
}
