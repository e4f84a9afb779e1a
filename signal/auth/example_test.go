package auth_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/shoal-live/shoal/signal/auth"
	"github.com/shoal-live/shoal/signal/store"
)

// Wire the login, a guarded API route and a guarded page, then use them as a
// browser would.
func Example() {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: store.Memory})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	// The first account, as `shoal -create-account alice` makes it.
	if _, err := auth.CreateAccount(ctx, db, "alice", "correct horse battery"); err != nil {
		fmt.Println(err)
		return
	}
	a, err := auth.New(auth.Config{Store: db})
	if err != nil {
		fmt.Println(err)
		return
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.Login(w, r, r.PostFormValue("username"), r.PostFormValue("password")); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, auth.LocalRedirect(r.FormValue("next")), http.StatusSeeOther)
	})
	mux.Handle("GET /api/session", a.RequireAccount(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acct, _ := auth.AccountFrom(r.Context())
		fmt.Fprintf(w, "%s %s", acct.Username, auth.CSRFToken(r.Context()))
	})))
	mux.Handle("POST /api/streams", a.RequireAccount(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "created")
	})))
	mux.Handle("GET /studio", a.RequireAccount(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "studio")
	})))
	srv := httptest.NewServer(a.Protect(mux))
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	show := func(res *http.Response, err error) {
		if err != nil {
			fmt.Println(err)
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if loc := res.Header.Get("Location"); loc != "" {
			fmt.Println(res.StatusCode, "→", loc)
		} else {
			fmt.Println(res.StatusCode, strings.TrimSpace(string(b)))
		}
	}

	show(c.Get(srv.URL + "/studio"))
	show(c.PostForm(srv.URL+"/login", url.Values{"username": {"alice"}, "password": {"wrong password"}}))
	show(c.PostForm(srv.URL+"/login", url.Values{"username": {"alice"}, "password": {"correct horse battery"}, "next": {"/studio"}}))
	res, err := c.Get(srv.URL + "/api/session")
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csrf := strings.Fields(string(b))[1]

	show(c.Post(srv.URL+"/api/streams", "application/json", strings.NewReader(`{"name":"live"}`)))
	req, _ := http.NewRequest("POST", srv.URL+"/api/streams", strings.NewReader(`{"name":"live"}`))
	req.Header.Set(auth.CSRFHeader, csrf)
	show(c.Do(req))
	// Output:
	// 303 → /login?next=%2Fstudio
	// 401 auth: wrong username or password
	// 303 → /studio
	// 403 {"error":"missing or invalid CSRF token: reload the page"}
	// 200 created
}

func ExampleHashPassword() {
	hash, err := auth.HashPassword("correct horse battery")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(hash[:31])
	ok, _ := auth.VerifyPassword(hash, "correct horse battery")
	fmt.Println(ok)
	ok, _ = auth.VerifyPassword(hash, "Correct horse battery")
	fmt.Println(ok)
	// Output:
	// $argon2id$v=19$m=19456,t=2,p=1$
	// true
	// false
}
