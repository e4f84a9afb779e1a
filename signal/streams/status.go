package streams

import (
	"errors"
	"time"

	"github.com/shoal-live/shoal/signal/ingest/rtmp"
	"github.com/shoal-live/shoal/signal/ingest/whip"
)

// IngestStatus describes the broadcaster's feed, for the studio and for
// operators.
type IngestStatus struct {
	Connected bool      `json:"connected"`
	Protocol  string    `json:"protocol,omitempty"` // "rtmp", "whip", "demo"
	MIME      string    `json:"mime,omitempty"`
	Width     int       `json:"width,omitempty"`
	Height    int       `json:"height,omitempty"`
	Since     time.Time `json:"since,omitzero"`
	// Error is why the last session failed or was refused, if it did.
	Error string `json:"error,omitempty"`
}

// Public ingest errors. An ingest error's text can carry the
// broadcaster's address (a network error reads "read tcp
// 10.0.0.1:1935->203.0.113.7:50412: i/o timeout"), so the public status
// (/api/streams/<name>/status) shows one of these instead; the full error
// is in the studio, for the stream's owner, and in the log.
const (
	publicIngestDropped = "the broadcaster's connection dropped"
	publicIngestCodec   = "unsupported codec: the broadcaster's encoder sends a format Shoal does not take (it takes H.264 video, AAC or Opus audio)"
)

// publicIngestError is what the public status says about err.
func publicIngestError(err error) string {
	if errors.Is(err, rtmp.ErrUnsupportedCodec) || errors.Is(err, whip.ErrNoH264) {
		return publicIngestCodec
	}
	return publicIngestDropped
}

// public returns st as anyone may see it: its Error replaced by msg, the
// public text recorded with it (or the generic one).
func public(st IngestStatus, msg string) IngestStatus {
	if st.Error == "" {
		return st
	}
	if msg == "" {
		msg = publicIngestDropped
	}
	st.Error = msg
	return st
}
