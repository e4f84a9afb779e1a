package node

import (
	"context"
	"fmt"

	"github.com/shoal-live/shoal/shared/wire"
)

// FetchFunc gets one chunk of stream from the origin out of band.
type FetchFunc func(ctx context.Context, stream string, seq uint64) (wire.Chunk, error)

// ChunkPath is the server route that serves one chunk as a wire.Chunk frame.
func ChunkPath(stream string, seq uint64) string {
	return fmt.Sprintf("/api/streams/%s/chunks/%d", stream, seq)
}

// HTTPFetcher has two builds with one signature: fetch_native.go uses
// net/http, fetch_js.go the browser's fetch (and so keeps net/http, TLS and
// HTTP/2 out of the wasm binary). Both read at most wire.MaxMessageSize
// bytes and check that the frame is the chunk asked for.

// decodeChunk turns a response body into the chunk seq.
func decodeChunk(b []byte, seq uint64) (wire.Chunk, error) {
	m, err := wire.Decode(b)
	if err != nil {
		return wire.Chunk{}, fmt.Errorf("fetch chunk %d: %w", seq, err)
	}
	c, ok := m.(wire.Chunk)
	if !ok || c.Seq != seq {
		return wire.Chunk{}, fmt.Errorf("fetch chunk %d: origin sent %s", seq, m.Type())
	}
	return c, nil
}
