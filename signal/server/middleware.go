package server

import (
	"github.com/shoal-live/shoal/signal/jsonhttp"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"
)

// recoverer turns a handler panic into a 500 and a log line with the
// stack, instead of a dropped connection.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil && v != http.ErrAbortHandler {
				s.log.Error("handler panic", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				jsonhttp.Error(w, http.StatusInternalServerError, "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// requestLog logs API and page requests; fallback chunk fetches and static
// files only at debug level.
func (s *Server) requestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		level := s.log.Debug
		if ww.Status() >= 400 || (!strings.Contains(r.URL.Path, "/chunks/") && !strings.Contains(r.URL.Path, ".")) {
			level = s.log.Info
		}
		path := r.URL.Path
		if rest, ok := strings.CutPrefix(path, "/api/whip/"); ok && strings.Contains(rest, "/") {
			path = "/api/whip/" + rest[:strings.Index(rest, "/")] + "/…" // a WHIP session URL is a credential
		}
		level("http", "method", r.Method, "path", path, "status", ww.Status(),
			"bytes", ww.BytesWritten(), "dur", time.Since(start).Round(time.Microsecond),
			"ip", middleware.GetClientIP(r.Context()))
	})
}

// securityHeaders sets the headers every response carries. The CSP lets
// pages run their own scripts and compile WebAssembly, and nothing else.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "SAMEORIGIN") // for old browsers; /embed/ pages drop it (embed.go)
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "+
			"connect-src 'self' ws: wss:; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; frame-ancestors 'self'")
		next.ServeHTTP(w, r)
	})
}
