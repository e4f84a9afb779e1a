package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/jsonhttp"
	"github.com/shoal-live/shoal/signal/store"
)

// handleEmbed serves the embeddable player (/embed/<stream>), the one page
// other sites may frame: its Content-Security-Policy carries
// frame-ancestors from Config.FrameAncestors (-frame-ancestors, default
// "*") instead of 'self', and it has no X-Frame-Options.
func (s *Server) handleEmbed(w http.ResponseWriter, r *http.Request) {
	if !signaling.ValidStream(chi.URLParam(r, "stream")) {
		s.notFound(w, r)
		return
	}
	h := w.Header()
	h.Del("X-Frame-Options")
	if csp := h.Get("Content-Security-Policy"); csp != "" {
		h.Set("Content-Security-Policy", strings.Replace(csp, "frame-ancestors 'self'",
			"frame-ancestors "+frameAncestors(s.cfg.FrameAncestors), 1))
	}
	s.page("embed.html")(w, r)
}

// frameAncestors checks a frame-ancestors source list: space-separated
// sources ("*" when empty). A list with anything that could end the
// directive or add another (';', ',', quotes other than around keywords,
// control characters) is refused: the page then falls back to 'self'.
func frameAncestors(v string) string {
	srcs := strings.Fields(v)
	if len(srcs) == 0 {
		return "*"
	}
	for _, src := range srcs {
		if strings.ContainsAny(src, ";,\\\"") || strings.ContainsFunc(src, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			return "'self'"
		}
	}
	return strings.Join(srcs, " ")
}

// handleStreamInfo answers what a viewer or embed page shows about a
// stream: its title and description (for streams in the store), whether
// it is live and how many watch.
func (s *Server) handleStreamInfo(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "stream")
	if !signaling.ValidStream(name) {
		jsonhttp.Error(w, http.StatusNotFound, "no such stream")
		return
	}
	info := struct {
		Name        string `json:"name"`
		Title       string `json:"title"`
		Description string `json:"description"`
		Live        bool   `json:"live"`
		Viewers     int    `json:"viewers"`
		ChatViewers int    `json:"chatViewers"`
	}{Name: name}
	st, err := s.db.StreamByName(r.Context(), name)
	switch {
	case err == nil:
		info.Title, info.Description = st.Title, st.Description
	case !errors.Is(err, store.ErrNotFound):
		s.log.Error("stream info", "stream", name, "err", err)
		jsonhttp.Error(w, http.StatusInternalServerError, "internal error")
		return
	case !s.streams.Known(name):
		jsonhttp.Error(w, http.StatusNotFound, "no such stream")
		return
	}
	now := s.streams.State(name)
	info.Live, info.Viewers = now.OnAir(), now.Viewers
	info.ChatViewers = s.chat.Count(name)
	jsonhttp.Write(w, http.StatusOK, info)
}
