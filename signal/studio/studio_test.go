package studio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shoal-live/shoal/signal/auth"
	"github.com/shoal-live/shoal/signal/server"
	"github.com/shoal-live/shoal/signal/store"
)

// studioPages are the pages the studio routes render, from the frontend.
func studioPages(t *testing.T) fstest.MapFS {
	t.Helper()
	fs := fstest.MapFS{}
	for _, name := range []string{"login.html", "setup.html", "studio.html"} {
		b, err := os.ReadFile("../../frontend/" + name)
		if err != nil {
			t.Fatal(err)
		}
		fs[name] = &fstest.MapFile{Data: b}
	}
	return fs
}

// studioServer starts a server with its own in-memory store, and with
// accounts alice and bob unless empty is set.
func studioServer(t *testing.T, cfg server.Config, empty bool) (base string, db *store.DB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := store.Open(ctx, store.Config{Path: store.Memory})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if !empty {
		for _, u := range []string{"alice", "bob"} {
			if _, err := auth.CreateAccount(ctx, db, u, u+"-password-1"); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(cancel)
	cfg.Store = db
	cfg.RTMPAddr = ""
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(cfg, studioPages(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	// The studio's routes as the server mounts them, with its middleware
	// (client address, security headers, body limits).
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs.URL, db
}

// client is a browser without redirects: each call shows one answer.
var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type call struct {
	method, path string
	form         url.Values // sent as a form
	json         any        // sent as JSON
	cookie       string     // session token
	csrf         string     // X-CSRF-Token
	hdr          map[string]string
}

func do(t *testing.T, base string, c call) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	ctype := ""
	switch {
	case c.form != nil:
		body, ctype = strings.NewReader(c.form.Encode()), "application/x-www-form-urlencoded"
	case c.json != nil:
		b, _ := json.Marshal(c.json)
		body, ctype = strings.NewReader(string(b)), "application/json"
	}
	if c.method == "" {
		c.method = http.MethodGet
	}
	req, err := http.NewRequest(c.method, base+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: auth.CookieName, Value: c.cookie})
	}
	if c.csrf != "" {
		req.Header.Set(auth.CSRFHeader, c.csrf)
	}
	for k, v := range c.hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// login signs in and returns the session token and its CSRF token.
func login(t *testing.T, base, user string) (token, csrf string) {
	t.Helper()
	resp, body := do(t, base, call{method: "POST", path: "/login", form: url.Values{"username": {user}, "password": {user + "-password-1"}}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: status %d: %s", user, resp.StatusCode, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == auth.CookieName {
			token = c.Value
		}
	}
	if token == "" {
		t.Fatalf("login %s: no session cookie", user)
	}
	_, body = do(t, base, call{path: "/api/studio/session", cookie: token})
	var s struct{ Username, CSRFToken string }
	if err := json.Unmarshal([]byte(body), &s); err != nil || s.CSRFToken == "" || s.Username != user {
		t.Fatalf("session of %s: %q (%v)", user, body, err)
	}
	return token, s.CSRFToken
}

func TestLogin(t *testing.T) {
	base, _ := studioServer(t, server.Config{}, false)
	tests := []struct {
		name, user, password, next string
		hdr                        map[string]string
		status                     int
		location                   string // for 303
		cookie                     bool
	}{
		{name: "right password", user: "alice", password: "alice-password-1", status: 303, location: "/studio", cookie: true},
		{name: "username in another case", user: "ALICE", password: "alice-password-1", status: 303, location: "/studio", cookie: true},
		{name: "next on this site", user: "alice", password: "alice-password-1", next: "/studio#x", status: 303, location: "/studio#x", cookie: true},
		{name: "next on another site", user: "alice", password: "alice-password-1", next: "//evil.example/", status: 303, location: "/studio", cookie: true},
		{name: "wrong password", user: "alice", password: "bob-password-1", status: 401},
		{name: "empty password", user: "alice", password: "", status: 401},
		{name: "unknown user", user: "carol", password: "carol-password-1", status: 401},
		{name: "cross-site form", user: "alice", password: "alice-password-1", hdr: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403},
		{name: "foreign origin", user: "alice", password: "alice-password-1", hdr: map[string]string{"Origin": "https://evil.example"}, status: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, base, call{method: "POST", path: "/login", hdr: tc.hdr,
				form: url.Values{"username": {tc.user}, "password": {tc.password}, "next": {tc.next}}})
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.location != "" && resp.Header.Get("Location") != tc.location {
				t.Errorf("Location %q, want %q", resp.Header.Get("Location"), tc.location)
			}
			var got *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == auth.CookieName && c.Value != "" {
					got = c
				}
			}
			if (got != nil) != tc.cookie {
				t.Fatalf("session cookie %v, want %v", got, tc.cookie)
			}
			if got != nil && (!got.HttpOnly || got.SameSite != http.SameSiteLaxMode || got.Secure) {
				t.Errorf("cookie attributes: HttpOnly %v SameSite %v Secure %v; want HttpOnly, Lax, not Secure over http",
					got.HttpOnly, got.SameSite, got.Secure)
			}
			if tc.status == 401 && !strings.Contains(body, "Wrong username or password") {
				t.Errorf("the form does not say why: %s", body)
			}
		})
	}

	t.Run("rate limited after repeated failures", func(t *testing.T) {
		status := 0
		for range 8 {
			resp, _ := do(t, base, call{method: "POST", path: "/login", form: url.Values{"username": {"bob"}, "password": {"guess-guess-guess"}}})
			status = resp.StatusCode
		}
		if status != http.StatusTooManyRequests {
			t.Fatalf("status %d after 8 wrong passwords, want 429", status)
		}
	})
}

func TestSecureCookies(t *testing.T) {
	base, _ := studioServer(t, server.Config{SecureCookies: true}, false)
	resp, _ := do(t, base, call{method: "POST", path: "/login", form: url.Values{"username": {"alice"}, "password": {"alice-password-1"}}})
	for _, c := range resp.Cookies() {
		if c.Name == auth.CookieName && !c.Secure {
			t.Fatal("session cookie not Secure with SecureCookies")
		}
	}
}

// TestSessions: a page or API call needs a live session; an expired,
// unknown or signed-out one is refused.
func TestSessions(t *testing.T) {
	base, db := studioServer(t, server.Config{}, false)
	ctx := context.Background()
	alice, err := db.AccountByUsername(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	expired, _, err := db.CreateSession(ctx, alice.ID, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	good, _ := login(t, base, "alice")
	out, _ := login(t, base, "alice")
	outCSRF := ""
	{
		_, body := do(t, base, call{path: "/api/studio/session", cookie: out})
		var s struct{ CSRFToken string }
		json.Unmarshal([]byte(body), &s)
		outCSRF = s.CSRFToken
	}
	resp, body := do(t, base, call{method: "POST", path: "/logout", cookie: out, csrf: outCSRF})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: status %d: %s", resp.StatusCode, body)
	}

	tests := []struct {
		name, cookie, path string
		status             int
	}{
		{"live session, API", good, "/api/studio/streams", 200},
		{"live session, page", good, "/studio", 200},
		{"no session, API", "", "/api/studio/streams", 401},
		{"no session, page", "", "/studio", 303},
		{"expired session, API", expired, "/api/studio/streams", 401},
		{"expired session, page", expired, "/studio", 303},
		{"unknown token", strings.Repeat("A", 43), "/api/studio/streams", 401},
		{"signed out", out, "/api/studio/streams", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, base, call{path: tc.path, cookie: tc.cookie})
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status == 303 && !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
				t.Errorf("redirect to %q, want the login page", resp.Header.Get("Location"))
			}
		})
	}
}

// TestCSRF: every state-changing studio request needs the session's CSRF
// token and a same-origin browser.
func TestCSRF(t *testing.T) {
	base, _ := studioServer(t, server.Config{}, false)
	token, csrf := login(t, base, "alice")
	_, bobCSRF := login(t, base, "bob")
	n := 0
	tests := []struct {
		name   string
		csrf   string
		hdr    map[string]string
		status int
	}{
		{"right token", csrf, nil, 201},
		{"missing token", "", nil, 403},
		{"forged token", "Zm9yZ2VkLXRva2VuLWZvcmdlZC10b2tlbi1mb3JnZWQtdG9r", nil, 403},
		{"another session's token", bobCSRF, nil, 403},
		{"right token, cross-site", csrf, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"right token, foreign origin", csrf, map[string]string{"Origin": "https://evil.example"}, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n++
			name := "s" + string(rune('a'+n))
			resp, body := do(t, base, call{method: "POST", path: "/api/studio/streams", cookie: token, csrf: tc.csrf, hdr: tc.hdr,
				json: map[string]string{"name": name}})
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
		})
	}
	// The other mutations and the logout form are guarded the same way.
	if resp, err := http.Get(base + "/"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	for _, c := range []call{
		{method: "PATCH", path: "/api/studio/streams/sb", json: map[string]string{"title": "x"}},
		{method: "POST", path: "/api/studio/streams/sb/key"},
		{method: "POST", path: "/api/studio/streams/sb/end"},
		{method: "DELETE", path: "/api/studio/streams/sb"},
		{method: "POST", path: "/logout"},
	} {
		c.cookie = token
		if resp, body := do(t, base, c); resp.StatusCode != 403 {
			t.Errorf("%s %s without a CSRF token: status %d, want 403: %s", c.method, c.path, resp.StatusCode, body)
		}
		c.csrf = csrf + "x"
		if resp, body := do(t, base, c); resp.StatusCode != 403 {
			t.Errorf("%s %s with a wrong CSRF token: status %d, want 403: %s", c.method, c.path, resp.StatusCode, body)
		}
	}
}

// TestStreamsAPI: create, list, edit, key, regenerate, delete; a
// broadcaster never sees or touches another's stream.
func TestStreamsAPI(t *testing.T) {
	base, db := studioServer(t, server.Config{DemoStream: "demo", DemoSource: "synthetic", StreamKeys: map[string]string{"live": "k"}}, false)
	alice, aliceCSRF := login(t, base, "alice")
	bob, bobCSRF := login(t, base, "bob")
	type stream struct {
		Name, Title, Description, Key, WatchURL, WHIPURL string
	}
	var created stream
	resp, body := do(t, base, call{method: "POST", path: "/api/studio/streams", cookie: alice, csrf: aliceCSRF,
		json: map[string]string{"name": "alices", "title": "Alice live", "description": "cats"}})
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	json.Unmarshal([]byte(body), &created)
	if created.Key != "" {
		t.Error("the create answer carries the key; it should be fetched on demand")
	}
	if !strings.HasSuffix(created.WHIPURL, "/api/whip/alices") || !strings.HasSuffix(created.WatchURL, "/watch/alices") {
		t.Errorf("URLs: %+v", created)
	}
	stored, err := db.StreamByName(context.Background(), "alices")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name         string
		c            call
		status       int
		contains     string
		notContains  string
		asBob, keyOK bool
	}{
		{name: "owner reads the key", c: call{path: "/api/studio/streams/alices/key"}, status: 200, contains: stored.Key},
		{name: "owner lists without keys", c: call{path: "/api/studio/streams"}, status: 200, contains: "alices", notContains: stored.Key},
		{name: "other lists only their own", c: call{path: "/api/studio/streams"}, asBob: true, status: 200, notContains: "alices"},
		{name: "other cannot read the key", c: call{path: "/api/studio/streams/alices/key"}, asBob: true, status: 404, notContains: stored.Key},
		{name: "other cannot read the stream", c: call{path: "/api/studio/streams/alices"}, asBob: true, status: 404},
		{name: "other cannot read the status", c: call{path: "/api/studio/streams/alices/status"}, asBob: true, status: 404},
		{name: "other cannot regenerate", c: call{method: "POST", path: "/api/studio/streams/alices/key"}, asBob: true, status: 404, notContains: "key"},
		{name: "other cannot edit", c: call{method: "PATCH", path: "/api/studio/streams/alices", json: map[string]string{"title": "mine"}}, asBob: true, status: 404},
		{name: "other cannot end", c: call{method: "POST", path: "/api/studio/streams/alices/end"}, asBob: true, status: 404},
		{name: "other cannot delete", c: call{method: "DELETE", path: "/api/studio/streams/alices"}, asBob: true, status: 404},
		{name: "other cannot take the name", c: call{method: "POST", path: "/api/studio/streams", json: map[string]string{"name": "ALICES"}}, asBob: true, status: 409},
		{name: "demo name is reserved", c: call{method: "POST", path: "/api/studio/streams", json: map[string]string{"name": "demo"}}, status: 409},
		{name: "stream-keys name is reserved", c: call{method: "POST", path: "/api/studio/streams", json: map[string]string{"name": "Live"}}, status: 409},
		{name: "bad name", c: call{method: "POST", path: "/api/studio/streams", json: map[string]string{"name": "a b"}}, status: 400, contains: "a stream name is 1 to 64 of A-Z a-z 0-9 _ -"},
		{name: "unknown field", c: call{method: "POST", path: "/api/studio/streams", json: map[string]string{"name": "x", "owner": "1"}}, status: 400},
		{name: "long title", c: call{method: "PATCH", path: "/api/studio/streams/alices", json: map[string]string{"title": strings.Repeat("t", 201)}}, status: 400},
		{name: "owner edits", c: call{method: "PATCH", path: "/api/studio/streams/alices", json: map[string]string{"title": "New title"}}, status: 200, contains: "New title"},
		{name: "edit keeps the description", c: call{path: "/api/studio/streams/alices"}, status: 200, contains: "cats"},
		{name: "owner status offline", c: call{path: "/api/studio/streams/alices/status"}, status: 200, contains: `"live":false`},
		{name: "owner ends nothing", c: call{method: "POST", path: "/api/studio/streams/alices/end"}, status: 200, contains: `"ended":false`},
		{name: "unknown stream", c: call{path: "/api/studio/streams/nope/key"}, status: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.cookie, c.csrf = alice, aliceCSRF
			if tc.asBob {
				c.cookie, c.csrf = bob, bobCSRF
			}
			resp, body := do(t, base, c)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.contains != "" && !strings.Contains(body, tc.contains) {
				t.Errorf("body lacks %q: %s", tc.contains, body)
			}
			if tc.notContains != "" && strings.Contains(body, tc.notContains) {
				t.Errorf("body has %q: %s", tc.notContains, body)
			}
		})
	}

	// Regenerate: a new key, the old one gone.
	resp, body = do(t, base, call{method: "POST", path: "/api/studio/streams/alices/key", cookie: alice, csrf: aliceCSRF})
	var regen stream
	json.Unmarshal([]byte(body), &regen)
	if resp.StatusCode != 200 || regen.Key == "" || regen.Key == stored.Key {
		t.Fatalf("regenerate: %d %s", resp.StatusCode, body)
	}
	if _, err := db.StreamByKey(context.Background(), stored.Key); err == nil {
		t.Error("the old key still finds the stream")
	}
	// Delete.
	if resp, body := do(t, base, call{method: "DELETE", path: "/api/studio/streams/alices", cookie: alice, csrf: aliceCSRF}); resp.StatusCode != 204 {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, base, call{path: "/api/studio/streams/alices", cookie: alice}); resp.StatusCode != 404 {
		t.Errorf("deleted stream: status %d, want 404", resp.StatusCode)
	}
}

// TestSetup: the first-account page works only while there is no account,
// and only with the setup token the server logs.
func TestSetup(t *testing.T) {
	const token = "test-setup-token"
	base, db := studioServer(t, server.Config{SetupToken: token}, true)
	form := func(user, pw, confirm string) url.Values {
		return url.Values{"username": {user}, "password": {pw}, "confirm": {confirm}, "token": {token}}
	}
	noToken := form("mallory", "long-enough-1", "long-enough-1")
	noToken.Del("token")
	badToken := form("mallory", "long-enough-1", "long-enough-1")
	badToken.Set("token", "guess")
	if resp, body := do(t, base, call{path: "/login"}); resp.StatusCode != 200 || !strings.Contains(body, `href="/setup"`) {
		t.Fatalf("login page without accounts does not point to /setup: %d %s", resp.StatusCode, body)
	}
	steps := []struct {
		name   string
		c      call
		status int
		want   string
	}{
		{"page without the token", call{path: "/setup"}, 403, "setup link"},
		{"page with a wrong token", call{path: "/setup?token=guess"}, 403, "setup link"},
		{"page with the token", call{path: "/setup?token=" + token}, 200, `name="token" value="` + token + `"`},
		{"post without the token", call{method: "POST", path: "/setup", form: noToken}, 403, "setup link"},
		{"post with a wrong token", call{method: "POST", path: "/setup", form: badToken}, 403, "setup link"},
		{"short password", call{method: "POST", path: "/setup", form: form("alice", "short", "short")}, 400, "at least 10"},
		{"passwords differ", call{method: "POST", path: "/setup", form: form("alice", "long-enough-1", "long-enough-2")}, 400, "differ"},
		{"bad username", call{method: "POST", path: "/setup", form: form("a b", "long-enough-1", "long-enough-1")}, 400, "username"},
		{"cross-site", call{method: "POST", path: "/setup", form: form("eve", "long-enough-1", "long-enough-1"), hdr: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403, ""},
		{"created and signed in", call{method: "POST", path: "/setup", form: form("alice", "long-enough-1", "long-enough-1")}, 303, ""},
		{"closed once an account exists", call{method: "POST", path: "/setup", form: form("eve", "long-enough-1", "long-enough-1")}, 403, ""},
		{"page closed too", call{path: "/setup"}, 303, ""},
	}
	for _, st := range steps {
		resp, body := do(t, base, st.c)
		if resp.StatusCode != st.status || !strings.Contains(body, st.want) {
			t.Fatalf("%s: status %d (want %d), body %q (want %q)", st.name, resp.StatusCode, st.status, body, st.want)
		}
		if st.name == "created and signed in" {
			if resp.Header.Get("Location") != "/studio" || len(resp.Cookies()) == 0 {
				t.Fatalf("setup did not sign in: %v %v", resp.Header, resp.Cookies())
			}
		}
	}
	if n, _ := db.CountAccounts(context.Background()); n != 1 {
		t.Fatalf("%d accounts, want 1", n)
	}
}

// TestPasswordChange: a wrong current password and a weak new one are
// refused; a change ends every other session and keeps the asking browser
// signed in with a new cookie; the old password no longer signs in.
func TestPasswordChange(t *testing.T) {
	base, _ := studioServer(t, server.Config{}, false)
	other, _ := login(t, base, "alice")
	bob, _ := login(t, base, "bob")
	me, csrf := login(t, base, "alice")
	const path = "/api/studio/password"
	for _, tc := range []struct {
		name    string
		c       call
		status  int
		want    string
		changed bool
	}{
		{"no CSRF token", call{method: "POST", path: path, cookie: me, json: map[string]string{"current": "alice-password-1", "new": "a new passphrase"}}, 403, "CSRF", false},
		{"wrong current password", call{method: "POST", path: path, cookie: me, csrf: csrf, json: map[string]string{"current": "guess", "new": "a new passphrase"}}, 403, "current password is wrong", false},
		{"weak new password", call{method: "POST", path: path, cookie: me, csrf: csrf, json: map[string]string{"current": "alice-password-1", "new": "short"}}, 400, "at least 10", false},
		{"changed", call{method: "POST", path: path, cookie: me, csrf: csrf, json: map[string]string{"current": "alice-password-1", "new": "a new passphrase"}}, 200, `"signedOut":1`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, base, tc.c)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("status %d %s; want %d %q", resp.StatusCode, body, tc.status, tc.want)
			}
			if !tc.changed {
				return
			}
			var fresh string
			for _, c := range resp.Cookies() {
				if c.Name == auth.CookieName {
					fresh = c.Value
				}
			}
			for name, want := range map[string]int{me: 401, other: 401, bob: 200, fresh: 200} {
				if resp, _ := do(t, base, call{path: "/api/studio/session", cookie: name}); resp.StatusCode != want {
					t.Errorf("session %.8s…: %d, want %d", name, resp.StatusCode, want)
				}
			}
			if resp, _ := do(t, base, call{method: "POST", path: "/login", form: url.Values{"username": {"alice"}, "password": {"alice-password-1"}}}); resp.StatusCode != 401 {
				t.Errorf("the old password signs in: %d", resp.StatusCode)
			}
			if resp, _ := do(t, base, call{method: "POST", path: "/login", form: url.Values{"username": {"alice"}, "password": {"a new passphrase"}}}); resp.StatusCode != 303 {
				t.Errorf("the new password does not sign in: %d", resp.StatusCode)
			}
		})
	}
}

// TestSignOutEverywhere ends every session of the account and only its.
func TestSignOutEverywhere(t *testing.T) {
	base, _ := studioServer(t, server.Config{}, false)
	laptop, _ := login(t, base, "alice")
	bob, _ := login(t, base, "bob")
	me, csrf := login(t, base, "alice")
	if resp, body := do(t, base, call{method: "DELETE", path: "/api/studio/sessions", cookie: me}); resp.StatusCode != 403 {
		t.Fatalf("without the CSRF token: %d %s", resp.StatusCode, body)
	}
	resp, body := do(t, base, call{method: "DELETE", path: "/api/studio/sessions", cookie: me, csrf: csrf})
	if resp.StatusCode != 200 || !strings.Contains(body, `"signedOut":2`) {
		t.Fatalf("sign out everywhere: %d %s", resp.StatusCode, body)
	}
	for name, want := range map[string]int{me: 401, laptop: 401, bob: 200} {
		if resp, _ := do(t, base, call{path: "/api/studio/session", cookie: name}); resp.StatusCode != want {
			t.Errorf("session %.8s…: %d, want %d", name, resp.StatusCode, want)
		}
	}
}

// TestBansAPI: the owner lists a stream's chat bans (an address ban by
// whom it was for, never its hash) and lifts them; another broadcaster
// sees neither.
func TestBansAPI(t *testing.T) {
	base, db := studioServer(t, server.Config{}, false)
	alice, aliceCSRF := login(t, base, "alice")
	bob, bobCSRF := login(t, base, "bob")
	if resp, body := do(t, base, call{method: "POST", path: "/api/studio/streams", cookie: alice, csrf: aliceCSRF, json: map[string]string{"name": "show"}}); resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	ctx := t.Context()
	st, err := db.StreamByName(ctx, "show")
	if err != nil {
		t.Fatal(err)
	}
	nick, err := db.Ban(ctx, store.Ban{StreamID: st.ID, Kind: store.BanNickname, Value: "Troll", Label: "Troll"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Ban(ctx, store.Ban{StreamID: st.ID, Kind: store.BanFingerprint, Value: "addr:SECRETHASH", Label: "Troll", Until: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	const path = "/api/studio/streams/show/bans"
	resp, body := do(t, base, call{path: path, cookie: alice})
	var bans []struct {
		ID    int64
		Kind  string
		Label string
		Until *time.Time
	}
	if err := json.Unmarshal([]byte(body), &bans); err != nil || resp.StatusCode != 200 || len(bans) != 2 {
		t.Fatalf("list: %d %s (%v)", resp.StatusCode, body, err)
	}
	if strings.Contains(body, "SECRETHASH") || bans[0].Kind != "nickname" || bans[1].Kind != "address" ||
		bans[0].Label != "Troll" || bans[1].Label != "Troll" || bans[0].Until != nil || bans[1].Until == nil {
		t.Fatalf("list: %s", body)
	}
	steps := []struct {
		name   string
		c      call
		status int
	}{
		{"another broadcaster cannot list", call{path: path, cookie: bob}, 404},
		{"another broadcaster cannot lift", call{method: "DELETE", path: fmt.Sprintf("%s/%d", path, nick.ID), cookie: bob, csrf: bobCSRF}, 404},
		{"lifting needs the CSRF token", call{method: "DELETE", path: fmt.Sprintf("%s/%d", path, nick.ID), cookie: alice}, 403},
		{"lifted", call{method: "DELETE", path: fmt.Sprintf("%s/%d", path, nick.ID), cookie: alice, csrf: aliceCSRF}, 204},
		{"lifted already", call{method: "DELETE", path: fmt.Sprintf("%s/%d", path, nick.ID), cookie: alice, csrf: aliceCSRF}, 404},
		{"not a ban id", call{method: "DELETE", path: path + "/x", cookie: alice, csrf: aliceCSRF}, 404},
	}
	for _, s := range steps {
		if resp, body := do(t, base, s.c); resp.StatusCode != s.status {
			t.Errorf("%s: %d %s, want %d", s.name, resp.StatusCode, body, s.status)
		}
	}
	if _, banned, _ := db.Banned(ctx, st.ID, "troll", ""); banned {
		t.Error("the nickname is still banned")
	}
}
