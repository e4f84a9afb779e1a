package signal

import (
	"errors"
	"sync"

	"github.com/shoal-live/shoal/signal/ingest/rtmp"
	"github.com/shoal-live/shoal/signal/ingest/whip"
	"github.com/shoal-live/shoal/signal/origin"
)

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

// publicIngestErrors keeps, per stream, the public text of the error in
// its ingest status. The zero value is ready.
type publicIngestErrors struct {
	mu sync.Mutex
	m  map[string]string
}

func (p *publicIngestErrors) set(stream string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = make(map[string]string)
	}
	p.m[stream] = publicIngestError(err)
}

// public returns st as anyone may see it: its Error replaced by the
// public text recorded for the stream (or the generic one).
func (p *publicIngestErrors) public(stream string, st origin.IngestStatus) origin.IngestStatus {
	if st.Error == "" {
		return st
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if msg, ok := p.m[stream]; ok {
		st.Error = msg
	} else {
		st.Error = publicIngestDropped
	}
	return st
}

// keyHint is what the log shows of a stream key: its first 4 characters,
// enough to tell keys apart, never the key.
func keyHint(key string) string {
	if len(key) <= 8 {
		return "…"
	}
	return key[:4] + "…"
}
