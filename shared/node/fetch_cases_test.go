package node

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/wire"
)

// fetchCase is what an HTTPFetcher must do with one of chunkServer's
// answers.
type fetchCase struct {
	name    string
	seq     uint64
	timeout time.Duration
	err     string // in the error; "" for the chunk
	is      error  // wrapped by the error, if not nil
}

var fetchCases = []fetchCase{
	{"chunk", 1, 10 * time.Second, "", nil},
	{"not found", 2, 10 * time.Second, "fetch chunk 2: 404", nil},
	{"too long", 3, 10 * time.Second, "fetch chunk 3", wire.ErrTooLarge},
	{"ctx ends", 4, 300 * time.Millisecond, "fetch chunk 4", context.DeadlineExceeded},
	{"another chunk", 5, 10 * time.Second, "fetch chunk 5: origin sent", nil},
	{"not a frame", 7, 10 * time.Second, "fetch chunk 7", nil},
	{"the request given up was aborted", 8, 10 * time.Second, "", nil}, // after "ctx ends"
}

func testChunk(seq uint64) wire.Chunk {
	return wire.Chunk{Seq: seq, Timestamp: 1764000000000, Flags: wire.FlagKeyframe, Payload: bytes.Repeat([]byte("chunk"), 2000)}
}

func checkFetch(t *testing.T, tt fetchCase, c wire.Chunk, err error) {
	t.Helper()
	if tt.err == "" {
		if err != nil {
			t.Fatal(err)
		}
		if want := testChunk(tt.seq); c.Seq != want.Seq || c.Timestamp != want.Timestamp || c.Flags != want.Flags || !bytes.Equal(c.Payload, want.Payload) {
			t.Fatalf("got chunk %d (%d bytes), want %d", c.Seq, len(c.Payload), want.Seq)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), tt.err) {
		t.Fatalf("error %v, want one with %q", err, tt.err)
	}
	if tt.is != nil && !errors.Is(err, tt.is) {
		t.Fatalf("error %v does not wrap %v", err, tt.is)
	}
}
