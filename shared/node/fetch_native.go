//go:build !js

package node

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/shoal-live/shoal/shared/wire"
)

// HTTPFetcher fetches chunks from the Shoal server at base (for example
// "http://localhost:8080"). A nil client means http.DefaultClient.
func HTTPFetcher(base string, client *http.Client) FetchFunc {
	if client == nil {
		client = http.DefaultClient
	}
	base = strings.TrimSuffix(base, "/")
	return func(ctx context.Context, stream string, seq uint64) (wire.Chunk, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+ChunkPath(stream, seq), nil)
		if err != nil {
			return wire.Chunk{}, fmt.Errorf("fetch chunk %d: %w", seq, err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return wire.Chunk{}, fmt.Errorf("fetch chunk %d: %w", seq, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return wire.Chunk{}, fmt.Errorf("fetch chunk %d: %s", seq, resp.Status)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, wire.MaxMessageSize+1))
		if err != nil {
			return wire.Chunk{}, fmt.Errorf("fetch chunk %d: %w", seq, err)
		}
		return decodeChunk(b, seq)
	}
}
