package server_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shoal-live/shoal/shared/wire"
	"github.com/shoal-live/shoal/signal/server"
)

// mediaChunk is one entry of a media answer's X-Shoal-Chunks index.
type mediaChunk struct {
	seq   uint64
	ts    int64
	flags uint8
	size  int
}

func parseIndex(t *testing.T, h string) []mediaChunk {
	t.Helper()
	var out []mediaChunk
	for _, e := range strings.Split(h, ",") {
		f := strings.Split(e, ":")
		if len(f) != 4 {
			t.Fatalf("index entry %q: want seq:ts:flags:size", e)
		}
		seq, err1 := strconv.ParseUint(f[0], 10, 64)
		ts, err2 := strconv.ParseInt(f[1], 10, 64)
		flags, err3 := strconv.ParseUint(f[2], 10, 8)
		size, err4 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			t.Fatalf("index entry %q does not parse", e)
		}
		out = append(out, mediaChunk{seq, ts, uint8(flags), size})
	}
	return out
}

// TestMediaOverHTTP: a page that has no wasm yet starts at the newest
// keyframe with one request, then follows the stream with ?from=next, each
// answer waiting for chunks not cut yet; what is not held is 410 Gone.
func TestMediaOverHTTP(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := server.New(server.Config{DemoStream: "demo"}, fstest.MapFS{}) // the clip: 1 s keyframe interval
	if err != nil {
		t.Fatal(err)
	}
	base := serve(t, ctx, srv)
	url := base + "/api/streams/demo/media"

	waitChunks(t, base, "demo", 20) // 2.5 s of 125 ms chunks: more than two keyframe intervals

	// Until a keyframe is cut the start waits (up to 2 s each time).
	var start []mediaChunk
	var body []byte
	for deadline := time.Now().Add(10 * time.Second); start == nil; {
		resp, b := get(t, url, nil)
		switch {
		case resp.StatusCode == http.StatusOK:
			start, body = parseIndex(t, resp.Header.Get("X-Shoal-Chunks")), b
			if resp.Header.Get("X-Shoal-Server-Time") == "" {
				t.Error("no X-Shoal-Server-Time")
			}
		case time.Now().After(deadline):
			t.Fatalf("no start after 10 s: %d %s", resp.StatusCode, b)
		}
	}
	if start[0].flags&wire.FlagKeyframe == 0 {
		t.Fatalf("start at seq %d, flags %d: not a keyframe", start[0].seq, start[0].flags)
	}
	total, keys := 0, 0
	for i, c := range start {
		if i > 0 && c.seq != start[i-1].seq+1 {
			t.Fatalf("seq %d after %d: not consecutive", c.seq, start[i-1].seq)
		}
		if c.flags&wire.FlagKeyframe != 0 {
			keys++
		}
		total += c.size
	}
	// The start is the newest keyframe at least 1 s older than the newest
	// chunk: with the clip's 1 s interval, one or two keyframes, 1-2 s.
	if age := start[len(start)-1].ts - start[0].ts; keys > 2 || age < 1000 || age > 2200 {
		t.Errorf("%d keyframes in a start %d ms long: not the newest keyframe at least 1 s back", keys, age)
	}
	if total != len(body) {
		t.Fatalf("index sizes add up to %d, body is %d bytes", total, len(body))
	}
	if string(body[4:8]) != "moof" && string(body[4:8]) != "styp" {
		t.Errorf("body starts with %q, want a CMAF fragment", body[4:8])
	}

	// Following: the next chunk is not cut yet; the request waits for it.
	next := start[len(start)-1].seq + 1
	began := time.Now()
	resp, _ := get(t, url+"?from="+strconv.FormatUint(next, 10), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("from=next: %d", resp.StatusCode)
	}
	if got := parseIndex(t, resp.Header.Get("X-Shoal-Chunks")); got[0].seq != next {
		t.Fatalf("from=%d answered from %d", next, got[0].seq)
	}
	if waited := time.Since(began); waited > 2*time.Second {
		t.Errorf("waited %v for one 125 ms chunk", waited)
	}

	tests := []struct {
		name, query string
		status      int
	}{
		{"far ahead", "?from=" + strconv.FormatUint(next+1000, 10), http.StatusGone},
		{"no longer held", "?from=" + strconv.FormatUint(start[0].seq-min(start[0].seq, 300), 10), http.StatusGone}, // the origin keeps 256
		{"not a number", "?from=x", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "no longer held" && start[0].seq < 300 {
				t.Skip("numbering starts below 300: nothing before it to ask for")
			}
			resp, b := get(t, url+tt.query, nil)
			if resp.StatusCode != tt.status {
				t.Errorf("%d %s, want %d", resp.StatusCode, b, tt.status)
			}
		})
	}
	if resp, _ := get(t, base+"/api/streams/nope/media", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown stream: %d, want 404", resp.StatusCode)
	}
}
