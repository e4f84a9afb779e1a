package server

import (
	"html/template"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/wire"
	"github.com/shoal-live/shoal/signal/jsonhttp"
)

// handleWasm serves the browser peer and Go's wasm_exec.js, at their
// plain paths (revalidated by ETag) and at their fingerprinted ones
// (cached for good); see package static.
func (s *Server) handleWasm(w http.ResponseWriter, r *http.Request) {
	f, hashed, ok := s.static.Lookup(strings.TrimPrefix(path.Clean(r.URL.Path), "/"))
	if !ok {
		if _, _, built := s.static.Lookup("wasm/shoal.wasm"); !built {
			jsonhttp.Error(w, http.StatusServiceUnavailable, "the browser peer is not built: run `go tool task build`")
			return
		}
		s.notFound(w, r)
		return
	}
	f.Serve(w, r, hashed)
}

func (s *Server) handleWatch(w http.ResponseWriter, r *http.Request) {
	if !signaling.ValidStream(chi.URLParam(r, "stream")) {
		s.notFound(w, r)
		return
	}
	s.page("viewer.html")(w, r)
}

// page serves one HTML page from the frontend, with the fingerprinted
// paths of the browser peer in place of the plain ones (see package
// static), so that its preload links and the loader fetch what the
// browser may keep for good.
func (s *Server) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, _, ok := s.static.Lookup(name)
		if !ok {
			s.notFound(w, r)
			return
		}
		f.Serve(w, r, false)
	}
}

// handleStatic serves scripts, styles and anything else in the frontend
// but its Go and Markdown files, compressed and with an ETag.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	f, hashed, ok := s.static.Lookup(strings.TrimPrefix(path.Clean(r.URL.Path), "/"))
	if !ok {
		s.notFound(w, r)
		return
	}
	f.Serve(w, r, hashed)
}

func (s *Server) handleStreams(w http.ResponseWriter, r *http.Request) {
	type stream struct {
		Name      string `json:"name"`
		Viewers   int    `json:"viewers"`
		Live      bool   `json:"live"`  // chunks are being published
		Media     bool   `json:"media"` // it carries video (has an init segment)
		NewestSeq uint64 `json:"newestSeq"`
	}
	out := []stream{}
	for _, st := range s.tracker.Streams() {
		// Joining any valid name makes a swarm; only streams that are
		// published, configured or stored are listed.
		if !st.HasOrigin && !s.streams.Exists(r.Context(), st.Name) {
			continue
		}
		v := stream{Name: st.Name, Viewers: st.Viewers}
		if now := s.streams.State(st.Name); now.Origin {
			v.Media, v.NewestSeq, v.Live = now.Media, now.NewestSeq, now.OnAir()
		}
		out = append(out, v)
	}
	jsonhttp.Write(w, http.StatusOK, out)
}

// handleStatus reports a stream's ingest state (codec, picture size,
// errors) and audience.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "stream")
	// A stream without an origin (none published yet, or it stopped
	// when idle) is offline, with its last ingest status.
	st := s.streams.State(name)
	if !st.Origin && !s.streams.Exists(r.Context(), name) {
		jsonhttp.Error(w, http.StatusNotFound, "no such live stream")
		return
	}
	jsonhttp.Write(w, http.StatusOK, map[string]any{
		"name": name, "live": st.Live, "viewers": st.Viewers, "newestSeq": st.NewestSeq, "ingest": st.PublicIngest,
	})
}

// handleInit serves the stream's current CMAF init segment; the
// X-Shoal-Mime header carries the MIME type with codecs for MSE.
func (s *Server) handleInit(w http.ResponseWriter, r *http.Request) {
	o := s.streams.Origin(chi.URLParam(r, "stream"))
	if o == nil {
		jsonhttp.Error(w, http.StatusNotFound, "no such live stream")
		return
	}
	init, ok := o.Init()
	if !ok {
		jsonhttp.Error(w, http.StatusNotFound, "the stream has no video yet")
		return
	}
	w.Header().Set("Content-Type", "video/mp4")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Shoal-Mime", init.MIME)
	w.Header().Set("X-Shoal-Generation", strconv.Itoa(init.Generation))
	w.Write(init.Data)
}

// handleChunk serves one chunk to a peer that could not get it from the
// swarm in time, as a wire.Chunk frame.
func (s *Server) handleChunk(w http.ResponseWriter, r *http.Request) {
	stream := chi.URLParam(r, "stream")
	seq, err := strconv.ParseUint(chi.URLParam(r, "seq"), 10, 64)
	if err != nil || !signaling.ValidStream(stream) {
		jsonhttp.Error(w, http.StatusBadRequest, "bad stream name or sequence number")
		return
	}
	o := s.streams.Origin(stream)
	if o == nil {
		jsonhttp.Error(w, http.StatusNotFound, "no such live stream")
		return
	}
	c, ok := o.Chunk(seq)
	if !ok {
		jsonhttp.Error(w, http.StatusNotFound, "chunk not available")
		return
	}
	o.CountFetched(len(c.Payload))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "public, max-age=60, immutable")
	w.Write(wire.Encode(c))
}

var notFoundPage = template.Must(template.New("404").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Not found · Shoal</title><link rel="stylesheet" href="/css/shoal.css"></head>
<body><main class="error-page"><h1>Nothing here</h1><p>No page at <code>{{.}}</code>.</p><p><a href="/">Back to Shoal</a></p></main></body></html>`))

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") || !strings.Contains(r.Header.Get("Accept"), "text/html") {
		jsonhttp.Error(w, http.StatusNotFound, "not found")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	notFoundPage.Execute(w, r.URL.Path)
}

// fingerprinted are the files served also at a content-hashed path, cached
// for good: the browser peer, the biggest download by far, and the Go glue
// it needs (which changes with the Go version).
var fingerprinted = []string{"wasm/shoal.wasm", "wasm/wasm_exec.js"}

// notServed reports the frontend's files that are not for browsers.
func notServed(name string) bool {
	return strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".md")
}

// logStatic reports the browser peer's sizes, or that it is not built.
func (s *Server) logStatic() {
	st := s.static.Stats()
	f, _, ok := s.static.Lookup("wasm/shoal.wasm")
	if !ok {
		s.log.Warn("browser peer not built: viewers cannot join; run `go tool task build`")
		return
	}
	args := []any{"url", s.static.URL("wasm/shoal.wasm"), "raw_bytes", len(f.Raw)}
	for _, c := range f.Codings() {
		args = append(args, c+"_bytes", len(f.Body(c)))
	}
	args = append(args, "files", st.Files, "took", st.Took.Round(time.Millisecond))
	s.log.Info("browser peer ready", args...)
	if len(st.Compressed) > 0 {
		s.log.Warn("compressed at start, quickly, for want of up-to-date build-time copies (no brotli): run `go tool task build:wasm`",
			"files", strings.Join(st.Compressed, " "))
	}
}
