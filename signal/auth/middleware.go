package auth

import (
	"context"
	"crypto/hmac"
	"errors"
	"net/http"
	"net/url"

	"github.com/shoal-live/shoal/signal/store"
)

// Protect refuses state-changing requests (any method but GET, HEAD and
// OPTIONS) that a browser sent from a page of another origin, with 403. It
// uses net/http's CrossOriginProtection: the Sec-Fetch-Site header, or
// without it the Origin header against Host; requests with neither (OBS,
// curl) pass. Wrap the whole router with it: GETs must not change state.
func (a *Auth) Protect(next http.Handler) http.Handler {
	return a.cop.Handler(next)
}

// RequireAccount lets a request through only with a valid session, and
// puts its account in the request context (see [AccountFrom] and
// [CSRFToken]). Without one, an /api request gets 401 with a JSON error and
// a page request a 303 redirect to the login page with ?next=.
//
// A state-changing request must also be same-origin (see [Auth.Protect])
// and carry the session's CSRF token, in the [CSRFHeader] header or the
// [CSRFField] form field; otherwise it gets 403.
func (a *Auth) RequireAccount(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, ok, err := a.load(w, r)
		switch {
		case err != nil:
			refuse(w, r, http.StatusInternalServerError, "internal error")
			return
		case !ok && isAPI(r):
			refuse(w, r, http.StatusUnauthorized, "login required")
			return
		case !ok:
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, a.loginPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if !safeMethod(r.Method) {
			if err := a.cop.Check(r); err != nil {
				refuse(w, r, http.StatusForbidden, ErrCrossOrigin.Error())
				return
			}
			if !validCSRF(r, CSRFToken(ctx)) {
				refuse(w, r, http.StatusForbidden, "missing or invalid CSRF token: reload the page")
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// LoadAccount puts the account of the request's session, if it has a valid
// one, in the request context, and lets every request through: for pages
// that show more to a logged-in broadcaster. It checks no CSRF token; a
// handler that changes state belongs behind RequireAccount.
func (a *Auth) LoadAccount(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ctx, ok, err := a.load(w, r); ok && err == nil {
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// load finds the request's session and account and returns the request
// context with them. A stale cookie is cleared.
func (a *Auth) load(w http.ResponseWriter, r *http.Request) (context.Context, bool, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return nil, false, nil
	}
	ctx := r.Context()
	sess, err := a.store.SessionByToken(ctx, c.Value)
	if errors.Is(err, store.ErrNotFound) {
		a.clearCookie(w, r)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	acct, err := a.store.AccountByID(ctx, sess.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		a.clearCookie(w, r)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	ctx = context.WithValue(ctx, accountKey, acct)
	ctx = context.WithValue(ctx, csrfKey, csrfToken(c.Value))
	return ctx, true, nil
}

// validCSRF reports whether r carries want, in the header or else the form.
func validCSRF(r *http.Request, want string) bool {
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	return got != "" && hmac.Equal([]byte(got), []byte(want))
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// setCookie sets the session cookie.
func (a *Auth) setCookie(w http.ResponseWriter, r *http.Request, token string, s store.Session) {
	http.SetCookie(w, &http.Cookie{
		Name:     CookieName,
		Value:    token,
		Path:     "/",
		Expires:  s.Expires,
		MaxAge:   int(s.Expires.Sub(a.now()).Seconds()),
		HttpOnly: true,
		Secure:   a.secure || r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
}

// clearCookie tells the browser to drop the session cookie.
func (a *Auth) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     CookieName,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   a.secure || r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
}
