// Package streamapi serves the public stream API, what pages and peers
// ask of any stream without signing in (GET /api/streams…): the list of
// streams, each one's status, info (title, audience), CMAF init segment,
// chunks (the swarm's fallback fetch) and media (chunks over plain HTTP
// for a page's start; see docs/PROTOCOL.md, "Starting over HTTP"). It
// answers from package streams (the one answer to "does this stream
// exist?" and "is it live?") and the origins' chunk stores; it keeps no
// state of its own.
//
//	api := streamapi.New(streamapi.Config{Streams: st, Swarms: tr, Chat: hub, Logger: log})
//	r.Get("/api/streams", api.List)
//	r.Get("/api/streams/{stream}/status", api.Status)
//	r.With(chunkLimit).Get("/api/streams/{stream}/media", api.Media)
package streamapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/wire"
	"github.com/shoal-live/shoal/signal/jsonhttp"
	"github.com/shoal-live/shoal/signal/origin"
	"github.com/shoal-live/shoal/signal/store"
	"github.com/shoal-live/shoal/signal/streams"
	"github.com/shoal-live/shoal/signal/tracker"
)

// Streams is what the API asks of the streams (a *streams.Streams).
type Streams interface {
	Exists(ctx context.Context, name string) bool
	Lookup(ctx context.Context, name string) (*store.Stream, bool, error)
	State(name string) streams.State
	Origin(name string) *origin.Origin
}

// Swarms lists the tracker's swarms (a *tracker.Tracker).
type Swarms interface {
	Streams() []tracker.StreamInfo
}

// Chat counts the chat connections in a stream's room (a *chat.Hub).
type Chat interface {
	Count(stream string) int
}

// Config sets up the API.
type Config struct {
	Streams Streams
	Swarms  Swarms
	Chat    Chat
	Logger  *slog.Logger
}

// API serves the public stream API. Make it with New.
type API struct {
	streams Streams
	swarms  Swarms
	chat    Chat
	log     *slog.Logger
}

// New returns the API.
func New(cfg Config) *API {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &API{streams: cfg.Streams, swarms: cfg.Swarms, chat: cfg.Chat, log: cfg.Logger}
}

// List answers GET /api/streams: the streams that exist and have a swarm,
// with their audience and whether they are live.
func (a *API) List(w http.ResponseWriter, r *http.Request) {
	type stream struct {
		Name      string `json:"name"`
		Viewers   int    `json:"viewers"`
		Live      bool   `json:"live"`  // viewers get chunks (streams.State.Live)
		Media     bool   `json:"media"` // it carries video (has an init segment)
		NewestSeq uint64 `json:"newestSeq"`
	}
	out := []stream{}
	for _, st := range a.swarms.Streams() {
		// Joining any valid name makes a swarm; only streams that are
		// published, configured or stored are listed.
		if !st.HasOrigin && !a.streams.Exists(r.Context(), st.Name) {
			continue
		}
		v := stream{Name: st.Name, Viewers: st.Viewers}
		if now := a.streams.State(st.Name); now.Origin {
			v.Media, v.NewestSeq, v.Live = now.Media, now.NewestSeq, now.Live
		}
		out = append(out, v)
	}
	jsonhttp.Write(w, http.StatusOK, out)
}

// Status answers GET /api/streams/{stream}/status: the stream's ingest
// state (codec, picture size, the public text of its error) and audience.
func (a *API) Status(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "stream")
	// A stream without an origin (none published yet, or it stopped
	// when idle) is offline, with its last ingest status.
	st := a.streams.State(name)
	if !st.Origin && !a.streams.Exists(r.Context(), name) {
		jsonhttp.Error(w, http.StatusNotFound, "no such live stream")
		return
	}
	jsonhttp.Write(w, http.StatusOK, map[string]any{
		"name": name, "live": st.Live, "viewers": st.Viewers, "newestSeq": st.NewestSeq, "ingest": st.PublicIngest,
	})
}

// Info answers GET /api/streams/{stream}/info, what a viewer or embed
// page shows about a stream: its title and description (for streams in
// the store), whether it is live and how many watch.
func (a *API) Info(w http.ResponseWriter, r *http.Request) {
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
	row, exists, err := a.streams.Lookup(r.Context(), name)
	switch {
	case err != nil:
		a.log.Error("stream info", "stream", name, "err", err)
		jsonhttp.Error(w, http.StatusInternalServerError, "internal error")
		return
	case !exists:
		jsonhttp.Error(w, http.StatusNotFound, "no such stream")
		return
	case row != nil:
		info.Title, info.Description = row.Title, row.Description
	}
	now := a.streams.State(name)
	info.Live, info.Viewers = now.Live, now.Viewers
	info.ChatViewers = a.chat.Count(name)
	jsonhttp.Write(w, http.StatusOK, info)
}

// Init answers GET /api/streams/{stream}/init with the stream's current
// CMAF init segment; the X-Shoal-Mime header carries the MIME type with
// codecs for MSE.
func (a *API) Init(w http.ResponseWriter, r *http.Request) {
	o := a.streams.Origin(chi.URLParam(r, "stream"))
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

// Chunk answers GET /api/streams/{stream}/chunks/{seq}: one chunk for a
// peer that could not get it from the swarm in time, as a wire.Chunk
// frame.
func (a *API) Chunk(w http.ResponseWriter, r *http.Request) {
	stream := chi.URLParam(r, "stream")
	seq, err := strconv.ParseUint(chi.URLParam(r, "seq"), 10, 64)
	if err != nil || !signaling.ValidStream(stream) {
		jsonhttp.Error(w, http.StatusBadRequest, "bad stream name or sequence number")
		return
	}
	o := a.streams.Origin(stream)
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
