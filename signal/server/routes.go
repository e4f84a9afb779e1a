package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/shoal-live/shoal/signal/httplimit"
	"github.com/shoal-live/shoal/signal/jsonhttp"
	"github.com/shoal-live/shoal/signal/pages"
)

// Handler returns every route the server serves.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(s.clientIP.Middleware) // the one client-IP strategy: the TCP peer, or what a trusted proxy forwards
	r.Use(s.recoverer)
	r.Use(s.requestLog)
	r.Use(pages.SecurityHeaders)
	r.Use(httplimit.Body(s.log))
	r.Use(middleware.GetHead) // HEAD answers like GET, without the body
	r.NotFound(s.pages.NotFound)
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		jsonhttp.Error(w, http.StatusMethodNotAllowed, "method not allowed")
	})

	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})

	r.Route("/api", func(r chi.Router) {
		r.Get("/signal", s.signal.ServeHTTP) // WebSocket: no Timeout or Compress here
		r.Get("/streams", s.api.List)
		r.With(s.chunks.Limit).Get("/streams/{stream}/chunks/{seq}", s.api.Chunk)
		r.Get("/streams/{stream}/init", s.api.Init)
		r.With(s.chunks.Limit).Get("/streams/{stream}/media", s.api.Media) // chunks over plain HTTP, for the page's start
		r.Get("/streams/{stream}/status", s.api.Status)
		r.Get("/streams/{stream}/info", s.api.Info) // title and audience, for the viewer and embed pages
		r.Handle("/whip/*", s.whip)                 // WHIP ingest (RFC 9725): POST an offer, DELETE the session
	})

	s.studio.Mount(r) // /login, /setup, /logout, /studio, /api/studio

	r.Get("/wasm/*", s.pages.Wasm) // the browser peer, also at its fingerprinted paths
	r.Get("/watch/{stream}", s.pages.Watch)
	r.Get("/embed/{stream}", s.pages.Embed) // the one page other sites may frame
	r.Get("/", s.pages.Page("index.html"))
	r.Get("/*", s.pages.Static)
	return r
}
