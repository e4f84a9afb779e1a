//go:build js && wasm

package node

import (
	"context"
	"fmt"
	"strings"

	"github.com/shoal-live/shoal/shared/jsbridge"
	"github.com/shoal-live/shoal/shared/wire"
)

// BrowserClient stands in for *http.Client in the browser build, which
// does without net/http: there the browser's fetch does the work, with the
// page's HTTP cache and connection pool. It has no settings; pass nil.
type BrowserClient struct{}

// HTTPFetcher fetches chunks from the Shoal server at base (for example
// location.origin) with the browser's fetch. The request is aborted when
// ctx ends; at most wire.MaxMessageSize bytes of body are read.
func HTTPFetcher(base string, _ *BrowserClient) FetchFunc {
	base = strings.TrimSuffix(base, "/")
	return func(ctx context.Context, stream string, seq uint64) (wire.Chunk, error) {
		b, err := fetchBytes(ctx, base+ChunkPath(stream, seq), wire.MaxMessageSize)
		if err != nil {
			return wire.Chunk{}, fmt.Errorf("fetch chunk %d: %w", seq, err)
		}
		return decodeChunk(b, seq)
	}
}

// fetchBytes GETs url and returns its body, or an error for a status other
// than 200 or a body longer than limit (wire.ErrTooLarge; the response is
// then cancelled rather than read to its end).
func fetchBytes(ctx context.Context, url string, limit int) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g := jsbridge.Global()
	var abort, pending jsbridge.Value
	if err := jsbridge.Try(func() {
		abort = g.Get("AbortController").New()
		pending = g.Call("fetch", url, map[string]any{
			"signal":      abort.Get("signal"),
			"credentials": "same-origin",
		})
	}); err != nil {
		return nil, err
	}
	// Abort the request, and so settle any promise awaited below, when ctx
	// ends; not after we return.
	stop := context.AfterFunc(ctx, func() { jsbridge.Try(func() { abort.Call("abort") }) })
	defer stop()

	resp, err := jsbridge.Await(ctx, pending)
	if err != nil {
		return nil, err
	}
	var status int
	var statusText string
	var body jsbridge.Value
	if err := jsbridge.Try(func() {
		status = resp.Get("status").Int()
		statusText = resp.Get("statusText").String()
		body = resp.Get("body")
	}); err != nil {
		return nil, err
	}
	if status != 200 {
		cancelBody(body)
		return nil, fmt.Errorf("%d %s", status, statusText)
	}
	if body.IsNull() || body.IsUndefined() {
		return nil, nil
	}
	var reader jsbridge.Value
	if err := jsbridge.Try(func() { reader = body.Call("getReader") }); err != nil {
		return nil, err
	}
	var out []byte
	for {
		var next jsbridge.Value
		if err := jsbridge.Try(func() { next = reader.Call("read") }); err != nil {
			return nil, err
		}
		r, err := jsbridge.Await(ctx, next)
		if err != nil {
			return nil, err
		}
		var done bool
		var part []byte
		if err := jsbridge.Try(func() {
			done = r.Get("done").Truthy()
			if !done {
				part = jsbridge.GoBytes(r.Get("value"))
			}
		}); err != nil {
			return nil, err
		}
		if done {
			return out, nil
		}
		if len(out)+len(part) > limit {
			jsbridge.Try(func() { reader.Call("cancel") })
			return nil, fmt.Errorf("%w: response longer than %d bytes", wire.ErrTooLarge, limit)
		}
		out = append(out, part...)
	}
}

// cancelBody discards a response body that will not be read, so that the
// browser can reuse the connection.
func cancelBody(body jsbridge.Value) {
	if body.IsNull() || body.IsUndefined() {
		return
	}
	jsbridge.Try(func() { body.Call("cancel") })
}
