package signal

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/wire"
)

// compressedFile is a file held raw and gzipped, compressed once at start.
type compressedFile struct {
	raw, gz []byte
	etag    string
	mod     time.Time
}

func compressFile(fsys fs.FS, name string) (*compressedFile, error) {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("compress %s: %w", name, err)
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, fmt.Errorf("compress %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress %s: %w", name, err)
	}
	sum := sha256.Sum256(raw)
	return &compressedFile{raw: raw, gz: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:8]) + `"`, mod: time.Now()}, nil
}

// handleWasm serves the browser peer, gzipped to clients that accept it.
func (s *Server) handleWasm(w http.ResponseWriter, r *http.Request) {
	if s.wasm == nil {
		httpError(w, http.StatusServiceUnavailable, "the browser peer is not built: run `go tool task build`")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/wasm")
	h.Set("Cache-Control", "no-cache") // revalidate by ETag: a rebuilt server serves a new peer
	h.Set("Vary", "Accept-Encoding")
	body := s.wasm.raw
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = s.wasm.gz
	}
	h.Set("ETag", s.wasm.etag)
	http.ServeContent(w, r, "", s.wasm.mod, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}

func (s *Server) handleWatch(w http.ResponseWriter, r *http.Request) {
	if !signaling.ValidStream(chi.URLParam(r, "stream")) {
		s.notFound(w, r)
		return
	}
	s.page("viewer.html")(w, r)
}

// page serves one HTML page from the frontend.
func (s *Server) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(s.pages, name)
		if err != nil {
			s.notFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(b)
	}
}

// handleStatic serves scripts, styles and the wasm support script.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if st, err := fs.Stat(s.pages, name); err != nil || st.IsDir() || strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".md") {
		s.notFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, s.pages, name)
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
		v := stream{Name: st.Name, Viewers: st.Viewers}
		if o := s.origin(st.Name); o != nil {
			_, v.Media = o.Init()
			var any bool
			v.NewestSeq, any = o.Newest()
			v.Live = o.Live() || (!v.Media && any)
		}
		out = append(out, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(out)
}

// handleStatus reports a stream's ingest state (codec, picture size,
// errors) and audience.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "stream")
	o := s.origin(name)
	if o == nil {
		httpError(w, http.StatusNotFound, "no such live stream")
		return
	}
	viewers := 0
	for _, st := range s.tracker.Streams() {
		if st.Name == name {
			viewers = st.Viewers
		}
	}
	newest, _ := o.Newest()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{
		"name": name, "live": o.Live(), "viewers": viewers, "newestSeq": newest, "ingest": o.Status(),
	})
}

// handleInit serves the stream's current CMAF init segment; the
// X-Shoal-Mime header carries the MIME type with codecs for MSE.
func (s *Server) handleInit(w http.ResponseWriter, r *http.Request) {
	o := s.origin(chi.URLParam(r, "stream"))
	if o == nil {
		httpError(w, http.StatusNotFound, "no such live stream")
		return
	}
	init, ok := o.Init()
	if !ok {
		httpError(w, http.StatusNotFound, "the stream has no video yet")
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
		httpError(w, http.StatusBadRequest, "bad stream name or sequence number")
		return
	}
	o := s.origin(stream)
	if o == nil {
		httpError(w, http.StatusNotFound, "no such live stream")
		return
	}
	c, ok := o.Chunk(seq)
	if !ok {
		httpError(w, http.StatusNotFound, "chunk not available")
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
		httpError(w, http.StatusNotFound, "not found")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	notFoundPage.Execute(w, r.URL.Path)
}

// httpError answers with a JSON error body.
func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
