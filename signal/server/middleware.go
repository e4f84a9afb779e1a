package server

import (
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/shoal-live/shoal/signal/jsonhttp"
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
// files only at debug level. A WHIP session's URL is a credential: the log
// shows only its stream.
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
