package studio

import (
	"net/http"
	"strings"
	"time"

	"github.com/shoal-live/shoal/signal/jsonhttp"
	"github.com/shoal-live/shoal/signal/store"
	"github.com/shoal-live/shoal/signal/streams"
)

// Thresholds of the studio's live status.
const (
	// maxGoodKeyframeInterval is the longest keyframe interval the studio
	// accepts without a warning: a viewer joins, and a lost chunk is
	// skipped, at the next keyframe.
	maxGoodKeyframeInterval = 2 * time.Second
	// offloadWindow is how far back the P2P offload figure looks.
	offloadWindow = 5 * time.Second
)

// uploadSample is one status poll's reading of what the stream published
// and what the origin sent, for the offload figure.
type uploadSample struct {
	at        time.Time
	published int64 // bytes the ingest published, this session
	uploaded  int64 // bytes the origin sent to viewers
	viewers   int
}

// studioStatus is the studio's live status of one stream.
type studioStatus struct {
	Name   string               `json:"name"`
	Live   bool                 `json:"live"`
	Ingest streams.IngestStatus `json:"ingest"`
	// Codecs are the RFC 6381 codecs of the feed ("avc1.64001f,
	// mp4a.40.2").
	Codecs string `json:"codecs,omitempty"`
	// BitrateKbps is the feed's rate over the last seconds.
	BitrateKbps float64 `json:"bitrateKbps"`
	// KeyframeIntervalSec is the media time between the last two
	// keyframes, 0 until known; KeyframeWarning is set when it is longer
	// than low latency allows.
	KeyframeIntervalSec float64 `json:"keyframeIntervalSec"`
	KeyframeWarning     bool    `json:"keyframeWarning"`
	Viewers             int     `json:"viewers"`
	// Offload is the share of the last seconds' video that viewers got
	// from each other rather than from the server, 0 to 1; absent without
	// viewers or video.
	Offload *float64 `json:"offload,omitempty"`
	// UptimeSec is how long the feed has been connected.
	UptimeSec float64 `json:"uptimeSec"`
	// Fragments and Bytes count this session's published chunks.
	Fragments int64 `json:"fragments"`
	Bytes     int64 `json:"bytes"`
	// NewestSeq is the newest chunk's sequence number.
	NewestSeq uint64 `json:"newestSeq"`
}

// handleStudioStatus reports the stream's feed and audience, polled every
// second by the studio page.
func (s *Studio) handleStudioStatus(w http.ResponseWriter, r *http.Request, st store.Stream) {
	now := time.Now()
	cur := s.streams.State(st.Name)
	out := studioStatus{Name: st.Name, Viewers: cur.Viewers, Ingest: cur.Ingest} // without an origin: its last session's, or a refusal's
	if !cur.Origin {
		jsonhttp.Write(w, http.StatusOK, out)
		return
	}
	out.Live, out.NewestSeq = cur.Live, cur.NewestSeq
	if _, codecs, ok := strings.Cut(out.Ingest.MIME, "codecs="); ok {
		out.Codecs = strings.Trim(codecs, `"`)
	}
	if out.Ingest.Connected && !out.Ingest.Since.IsZero() {
		out.UptimeSec = now.Sub(out.Ingest.Since).Seconds()
	}
	m := cur.Meter // zero without an ingest session
	out.BitrateKbps = m.BitsPerSecond / 1000
	out.KeyframeIntervalSec = m.KeyframeInterval.Seconds()
	out.KeyframeWarning = m.KeyframeInterval > maxGoodKeyframeInterval
	out.Fragments, out.Bytes = m.Fragments, m.Bytes
	out.Offload = s.offloadShare(st.Name, uploadSample{at: now, published: m.Bytes, uploaded: cur.Uploaded, viewers: out.Viewers})
	jsonhttp.Write(w, http.StatusOK, out)
}

// offloadShare records a status poll's sample and returns the share of the
// video of the last offloadWindow that the origin did not have to send:
// 1 - sent / (published × viewers). Nil until there is a window's worth of
// samples with viewers and video.
func (s *Studio) offloadShare(stream string, now uploadSample) *float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.offload == nil {
		s.offload = make(map[string][]uploadSample)
	}
	samples := s.offload[stream]
	if n := len(samples); n > 0 && now.published < samples[n-1].published {
		samples = samples[:0] // a new ingest session restarted the count
	}
	samples = append(samples, now)
	i := 0
	for i < len(samples)-1 && now.at.Sub(samples[i+1].at) >= offloadWindow {
		i++
	}
	samples = samples[i:]
	s.offload[stream] = samples
	if len(s.offload) > 1000 { // streams nobody polls any more
		for k, v := range s.offload {
			if now.at.Sub(v[len(v)-1].at) > time.Minute {
				delete(s.offload, k)
			}
		}
	}

	first := samples[0]
	span := now.at.Sub(first.at)
	published := now.published - first.published
	uploaded := now.uploaded - first.uploaded
	// Every chunk enters the swarm from the origin at least once: an origin
	// that sent nothing means the viewers are receiving nothing, not that
	// the swarm carries it all.
	if span < offloadWindow/2 || published <= 0 || uploaded <= 0 || now.viewers == 0 {
		return nil
	}
	viewers := (first.viewers + now.viewers) / 2
	if viewers == 0 {
		viewers = now.viewers
	}
	// The origin sends each chunk at least once, so with n viewers at most
	// (n-1)/n can come from peers; the cap also hides the lag of the origin
	// peer's upload count (updated every 500 ms).
	share := 1 - float64(uploaded)/float64(published*int64(viewers))
	share = min(max(share, 0), 1-1/float64(viewers))
	return &share
}
