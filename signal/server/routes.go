package server

import (
	"github.com/shoal-live/shoal/signal/jsonhttp"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// Handler returns every route the server serves.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(s.clientIPMiddleware) // the one client-IP strategy: the TCP peer, or what a trusted proxy forwards
	r.Use(s.recoverer)
	r.Use(s.requestLog)
	r.Use(securityHeaders)
	r.Use(s.bodyLimit)
	r.Use(middleware.GetHead) // HEAD answers like GET, without the body
	r.NotFound(s.notFound)
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		jsonhttp.Error(w, http.StatusMethodNotAllowed, "method not allowed")
	})

	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})

	r.Route("/api", func(r chi.Router) {
		r.Get("/signal", s.handleSignal) // WebSocket: no Timeout or Compress here
		r.Get("/streams", s.handleStreams)
		r.With(s.limitChunkFetches).Get("/streams/{stream}/chunks/{seq}", s.handleChunk)
		r.Get("/streams/{stream}/init", s.handleInit)
		r.With(s.limitChunkFetches).Get("/streams/{stream}/media", s.handleMedia) // chunks over plain HTTP, for the page's start
		r.Get("/streams/{stream}/status", s.handleStatus)
		r.Get("/streams/{stream}/info", s.handleStreamInfo) // title and audience, for the viewer and embed pages
		r.Handle("/whip/*", s.whip)                         // WHIP ingest (RFC 9725): POST an offer, DELETE the session
	})

	s.studio.Mount(r) // /login, /setup, /logout, /studio, /api/studio

	r.Get("/wasm/*", s.handleWasm) // the browser peer, also at its fingerprinted paths
	r.Get("/watch/{stream}", s.handleWatch)
	r.Get("/embed/{stream}", s.handleEmbed) // the one page other sites may frame
	r.Get("/", s.page("index.html"))
	r.Get("/*", s.handleStatic)
	return r
}
