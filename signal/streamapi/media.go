package streamapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/wire"
	"github.com/shoal-live/shoal/signal/jsonhttp"
	"github.com/shoal-live/shoal/signal/origin"
)

// The media route (GET /api/streams/{stream}/media) lets a page start
// playing from plain HTTP while its wasm peer loads: one request returns
// the chunks from the newest keyframe to the newest chunk, and each
// following request (?from=next) waits for the next chunks to be cut.
// The body is the chunks' CMAF fragments back to back, which Media Source
// Extensions takes as they are; the X-Shoal-Chunks header says where each
// one starts (see docs/PROTOCOL.md, "Starting over HTTP").
const (
	// mediaMaxChunks bounds one answer: 16 s of 125 ms chunks, the
	// engine's window, which also bounds a 10 s keyframe interval.
	mediaMaxChunks = 128
	// mediaWait is how long a request for chunks not cut yet waits.
	mediaWait = 2 * time.Second
	// mediaAhead is how far beyond the newest chunk a request may wait
	// for; further means the page has lost track of the stream.
	mediaAhead = 8
	// mediaPoll is how often a waiting request looks for its chunk.
	mediaPoll = 20 * time.Millisecond
)

// mediaIndexHeader lists the chunks of a media answer in order, as
// "seq:timestamp:flags:size" separated by commas: flags are the wire
// flags (1 keyframe, 2 discontinuity), timestamp is the origin's clock in
// unix milliseconds. X-Shoal-Server-Time is the server's clock when it
// answered, unix milliseconds, for the page to estimate the offset of its
// own.
const (
	mediaIndexHeader = "X-Shoal-Chunks"
	serverTimeHeader = "X-Shoal-Server-Time"
)

// Media answers GET /api/streams/{stream}/media with consecutive chunks:
// from ?from= (default: the newest keyframe) up to the newest, at most
// mediaMaxChunks. A from just beyond the newest waits up to mediaWait for
// it. 410 Gone means from is no longer held (or was never going to be):
// start again without it.
func (a *API) Media(w http.ResponseWriter, r *http.Request) {
	o, ok := a.mediaOrigin(w, r)
	if !ok {
		return
	}
	var from uint64
	explicit := r.URL.Query().Has("from")
	if explicit {
		v, err := strconv.ParseUint(r.URL.Query().Get("from"), 10, 64)
		if err != nil {
			jsonhttp.Error(w, http.StatusBadRequest, "from: not a sequence number")
			return
		}
		from = v
	}
	newest, key, st := waitForChunk(r.Context(), o, from, explicit)
	switch st {
	case chunkGone:
		jsonhttp.Error(w, http.StatusGone, "those chunks are not held: start again from the live edge")
		return
	case chunkLate:
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent) // nothing cut for mediaWait: ask again
		return
	}
	if !explicit {
		from = httpStart(o, newest, key)
	}
	var (
		index strings.Builder
		body  []byte
		n     int
	)
	for seq := from; seq <= newest && n < mediaMaxChunks; seq++ {
		c, held := o.Chunk(seq)
		if !held {
			break
		}
		if n > 0 {
			index.WriteByte(',')
		}
		fmt.Fprintf(&index, "%d:%d:%d:%d", c.Seq, c.Timestamp, c.Flags, len(c.Payload))
		body = append(body, c.Payload...)
		n++
	}
	if n == 0 {
		jsonhttp.Error(w, http.StatusGone, "those chunks are not held: start again from the live edge")
		return
	}
	o.CountFetched(len(body))
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Cache-Control", "no-store")
	h.Set(mediaIndexHeader, index.String())
	h.Set(serverTimeHeader, strconv.FormatInt(time.Now().UnixMilli(), 10))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

// startBacklog is how much older than the newest chunk the keyframe an
// HTTP start begins at should be: the player aims 1.5 s behind live and
// joins at a keyframe at least 1 s old if it has one (lib/player.js), so
// that it has that much to play while the next chunks are cut.
const startBacklog = time.Second

// httpStart is where a page's HTTP start begins: the newest keyframe at
// least startBacklog older than the newest chunk, else the newest keyframe
// (origin.JoinPoint: never more than origin.MaxJoinBack chunks back).
func httpStart(o *origin.Origin, newest, key uint64) uint64 {
	start := origin.JoinPoint(newest, key)
	edge, ok := o.Chunk(newest)
	if !ok {
		return start
	}
	oldest := newest - min(newest, origin.MaxJoinBack)
	for seq := key; seq >= oldest && seq > 0 && seq <= newest; seq-- {
		c, held := o.Chunk(seq)
		if !held {
			break
		}
		if c.Flags&wire.FlagKeyframe != 0 && edge.Timestamp-c.Timestamp >= startBacklog.Milliseconds() {
			return seq
		}
	}
	return start
}

// mediaOrigin finds the stream's origin, or answers 400/404.
func (a *API) mediaOrigin(w http.ResponseWriter, r *http.Request) (*origin.Origin, bool) {
	stream := chi.URLParam(r, "stream")
	if !signaling.ValidStream(stream) {
		jsonhttp.Error(w, http.StatusBadRequest, "bad stream name")
		return nil, false
	}
	o := a.streams.Origin(stream)
	if o == nil {
		jsonhttp.Error(w, http.StatusNotFound, "no such live stream")
		return nil, false
	}
	return o, true
}

// What waitForChunk found.
type chunkState int

const (
	chunkHeld chunkState = iota // the chunk (or, without from, a keyframe) is held
	chunkGone                   // older than what the origin holds, or too far ahead
	chunkLate                   // not cut within mediaWait
)

// waitForChunk returns the live edge once chunk from is held (or, when
// !explicit, once any keyframe is), waiting up to mediaWait for it.
func waitForChunk(ctx context.Context, o *origin.Origin, from uint64, explicit bool) (newest, key uint64, st chunkState) {
	deadline := time.Now().Add(mediaWait)
	for {
		newest, key, ok := o.Edge()
		switch {
		case !ok:
		case !explicit:
			if c, held := o.Chunk(key); held && c.Flags&wire.FlagKeyframe != 0 {
				return newest, key, chunkHeld
			}
		case from <= newest:
			if _, held := o.Chunk(from); held {
				return newest, key, chunkHeld
			}
			return 0, 0, chunkGone
		case from > newest+mediaAhead:
			return 0, 0, chunkGone
		}
		if time.Now().After(deadline) {
			return 0, 0, chunkLate
		}
		select {
		case <-ctx.Done():
			return 0, 0, chunkLate
		case <-time.After(mediaPoll):
		}
	}
}
