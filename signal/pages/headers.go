package pages

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/shoal-live/shoal/shared/signaling"
)

// csp is the Content-Security-Policy of every response: pages run their
// own scripts and compile WebAssembly, and nothing else; only the server's
// own pages may frame them (Embed widens frame-ancestors).
const csp = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; " +
	"connect-src 'self' ws: wss:; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; frame-ancestors 'self'"

// SecurityHeaders sets the headers every response carries.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "SAMEORIGIN") // for old browsers; the embed page drops it (Embed)
		h.Set("Content-Security-Policy", csp)
		next.ServeHTTP(w, r)
	})
}

// Embed serves the embeddable player (/embed/{stream}), the one page
// other sites may frame: its Content-Security-Policy carries
// frame-ancestors from Config.FrameAncestors instead of 'self', and it has
// no X-Frame-Options.
func (p *Pages) Embed(w http.ResponseWriter, r *http.Request) {
	if !signaling.ValidStream(chi.URLParam(r, "stream")) {
		p.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Del("X-Frame-Options")
	if csp := h.Get("Content-Security-Policy"); csp != "" {
		h.Set("Content-Security-Policy", strings.Replace(csp, "frame-ancestors 'self'",
			"frame-ancestors "+p.frameAncestors, 1))
	}
	p.Page("embed.html")(w, r)
}

// frameAncestors checks a frame-ancestors source list: space-separated
// sources (DefaultFrameAncestors when there are none). A list with
// anything that could end the directive or add another (';', ',', quotes
// other than around keywords, control characters) is refused: the page
// then falls back to 'self'.
func frameAncestors(v string) string {
	srcs := strings.Fields(v)
	if len(srcs) == 0 {
		return DefaultFrameAncestors
	}
	for _, src := range srcs {
		if strings.ContainsAny(src, ";,\\\"") || strings.ContainsFunc(src, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			return "'self'"
		}
	}
	return strings.Join(srcs, " ")
}
