// Package auth authenticates broadcasters: password hashing, login with a
// rate limit, session cookies, the middleware that guards the studio pages
// and API, and CSRF protection. It reaches the store through the small
// [Store] and [AccountStore] interfaces it declares; a *store.DB has both.
//
//	a, err := auth.New(auth.Config{Store: db, SecureCookies: cfg.SecureCookies})
//	r.Use(a.Protect)                          // no cross-origin POST/PUT/DELETE anywhere
//	r.Post("/login", func(w http.ResponseWriter, r *http.Request) {
//		_, err := a.Login(w, r, r.PostFormValue("username"), r.PostFormValue("password"))
//		// nil: redirect to auth.LocalRedirect(r.FormValue("next"))
//		// ErrInvalidCredentials: 401; ErrRateLimited: 429 (see RateLimitError)
//	})
//	r.Group(func(r chi.Router) {
//		r.Use(a.RequireAccount)               // session + CSRF token on mutations
//		r.Get("/studio", studio)              // auth.AccountFrom(ctx), auth.CSRFToken(ctx)
//		r.Post("/api/streams", createStream)
//		r.Post("/logout", logout)             // calls a.Logout(w, r)
//	})
//
// # Passwords
//
// Passwords are hashed with argon2id (RFC 9106; golang.org/x/crypto/argon2)
// at OWASP's recommended minimum, m=19 MiB, t=2, p=1, with a 16-byte random
// salt, stored in the PHC string format that records the parameters
// ($argon2id$v=19$m=19456,t=2,p=1$salt$hash) so they can be raised later
// and old hashes still verify. Argon2id rather than bcrypt: it is
// memory-hard, which makes GPU and ASIC guessing expensive, and it has no
// 72-byte input limit. Verification compares in constant time; an unknown
// username is checked against a dummy hash so it takes as long as a wrong
// password. At most GOMAXPROCS hashes run at once, which bounds the memory
// a flood of logins can take. New passwords need [MinPasswordLen]
// characters ([CheckPassword]).
//
// # Sessions
//
// A login opens a store session (a 256-bit random token of which the store
// keeps only the SHA-256) and sets it in the cookie [CookieName]: HttpOnly,
// SameSite=Lax, Path=/, Secure when the request came over TLS or
// Config.SecureCookies says so, expiring with the session (14 days by
// default, not extended by use). Failed logins are rate-limited per
// username and client address with an in-memory token bucket (5, then one a
// minute by default).
//
// # Password changes and revocation
//
// [Auth.ChangePassword] checks the current password (under the same rate
// limit as a login, so a stolen session guesses no faster), stores the new
// hash and ends every session of the account in one transaction, then
// opens a fresh one for the browser that asked. [Auth.LogoutEverywhere]
// ends every session of the account. Both belong behind RequireAccount.
//
// # CSRF
//
// Two layers. First, net/http's CrossOriginProtection ([Auth.Protect], and
// again inside RequireAccount, Login and Logout) refuses state-changing
// requests that a browser marks cross-site with Sec-Fetch-Site, or whose
// Origin does not match Host; it needs no token and covers the login form,
// which has no session yet. Second, for browsers that send neither header,
// RequireAccount demands a synchroniser token on every state-changing
// request: the HMAC-SHA256 of a fixed label keyed by the session token,
// sent as the form field [CSRFField] or the header [CSRFHeader]. It is
// bound to the session, needs no storage and no server secret, and cannot
// be computed without the HttpOnly cookie. Pages get it from [CSRFToken];
// a static page's scripts can fetch it from a same-origin JSON endpoint
// (another origin cannot read that response).
package auth
