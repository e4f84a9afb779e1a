package rtmp_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/url"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"

	"github.com/shoal-live/shoal/signal/ingest/rtmp"
)

// bombConn opens one connection of the RTMP memory bomb: the handshake,
// SetChunkSize chunkSize, the header of a msgLen-byte message, then
// silence. It returns the connection (still open) and whether the server
// had already refused it (closed at once: the connection caps).
func bombConn(ctx context.Context, addr string, chunkSize, msgLen uint32) (net.Conn, bool, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	hello := make([]byte, 1+1536)
	hello[0] = 3 // C0: plain RTMP; C1: time and zeros
	if _, err := c.Write(hello); err != nil {
		return c, true, nil
	}
	s012 := make([]byte, 1+1536+1536)
	if _, err := io.ReadFull(c, s012); err != nil {
		return c, true, nil // refused: closed before the handshake
	}
	var msg []byte
	msg = append(msg, s012[1:1+1536]...) // C2 echoes S1
	// SetChunkSize on chunk stream 2: type 0 header, 4-byte body.
	msg = append(msg, 0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0)
	msg = binary.BigEndian.AppendUint32(msg, chunkSize)
	// A command message announcing msgLen bytes on chunk stream 3.
	msg = append(msg, 0x03, 0, 0, 0, byte(msgLen>>16), byte(msgLen>>8), byte(msgLen), 20, 0, 0, 0, 0)
	msg = append(msg, 0x02) // and one byte of it
	if _, err := c.Write(msg); err != nil {
		return c, true, nil
	}
	return c, false, nil
}

// liveHeap is the server process's live heap after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestMemoryBomb reproduces the attack of issue #12: 100 unauthenticated
// connections, each a 3 KB handshake, SetChunkSize and the header of a
// large message, then silence. gortmplib allocated min(chunk size, message
// length) for each before the bytes came: 10 MiB a connection, 1 GB in
// all. The live heap must now grow by under 50 MB, with or without the
// connection caps.
func TestMemoryBomb(t *testing.T) {
	cases := []struct {
		name            string
		chunk, msg      uint32
		maxConns, perIP int // 0: the defaults
		wantRefusedMin  int // connections closed at once by the caps
	}{
		{name: "default caps", chunk: rtmp.DefaultMaxChunkSize, msg: 60 << 10, wantRefusedMin: 96},
		// The guard closes each of these for its chunk size, freeing its
		// slot for a later one: how many the caps refuse depends on timing
		// (77-96 seen), so only the heap is judged.
		{name: "default caps, huge chunk size", chunk: 10 << 20, msg: 16<<20 - 1},
		{name: "no caps, huge chunk size", chunk: 10 << 20, msg: 16<<20 - 1, maxConns: 1000, perIP: 1000},
		{name: "no caps, largest chunk size, huge message", chunk: rtmp.DefaultMaxChunkSize, msg: 16<<20 - 1, maxConns: 1000, perIP: 1000},
		{name: "no caps, largest allowed before the key", chunk: rtmp.DefaultMaxChunkSize, msg: 60 << 10, maxConns: 1000, perIP: 1000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			srv := startServer(t, func(c *rtmp.Config) {
				c.MaxConns, c.MaxConnsPerAddr = tc.maxConns, tc.perIP
			})
			before := liveHeap()
			var (
				mu      sync.Mutex
				conns   []net.Conn
				refused int
				wg      sync.WaitGroup
			)
			for range 100 {
				wg.Go(func() {
					c, ref, err := bombConn(ctx, srv.addr, tc.chunk, tc.msg)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						t.Errorf("dial: %v", err)
						return
					}
					conns = append(conns, c)
					if ref {
						refused++
					}
				})
			}
			wg.Wait()
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			// The server reads each header as it comes: take the highest
			// live heap over the next second.
			var peak uint64
			for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				peak = max(peak, liveHeap())
			}
			grew := int64(peak) - int64(before)
			t.Logf("%d of 100 refused at once; live heap %d MB -> %d MB (+%.1f MB)",
				refused, before>>20, peak>>20, float64(grew)/(1<<20))
			if grew > 50<<20 {
				t.Errorf("live heap grew by %.0f MB for 100 silent connections, want < 50 MB", float64(grew)/(1<<20))
			}
			if refused < tc.wantRefusedMin {
				t.Errorf("%d connections refused at once, want at least %d", refused, tc.wantRefusedMin)
			}
		})
	}
}

// TestGuardFollowsRealStreams publishes with gortmplib's own client (chunk
// size 65536, the largest allowed) access units larger than a chunk,
// with timestamps past 0xFFFFFF ms (the extended-timestamp fields, on
// every continuation chunk too): the guard must keep in step with the
// chunk stream and pass it all, or the session fails.
func TestGuardFollowsRealStreams(t *testing.T) {
	cases := []struct {
		name  string
		start time.Duration
		size  int
	}{
		{name: "small frames", size: 100},
		{name: "frames over one chunk", size: 200 << 10},
		{name: "extended timestamps", start: 5 * time.Hour, size: 150 << 10},
	}
	sps := mustHex(t, "67640020accac05005bb0169e0000003002000000c9c4c000432380008647c12401cb1c31380")
	pps := mustHex(t, "68b5df20")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			s := startServer(t)
			u, _ := url.Parse("rtmp://" + s.addr + "/live#k-good")
			c := &gortmplib.Client{URL: u, Publish: true}
			if err := c.Initialize(ctx); err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.NetConn().SetDeadline(time.Now().Add(15 * time.Second))
			track := &gortmplib.Track{Codec: &codecs.H264{SPS: sps, PPS: pps}}
			w := &gortmplib.Writer{Conn: c, Tracks: []*gortmplib.Track{track}}
			if err := w.Initialize(); err != nil {
				t.Fatal(err)
			}
			for i := range 120 { // 4 s: gortmplib analyzes the first 2 s for tracks
				ts := tc.start + time.Duration(i)*time.Second/30
				slice := make([]byte, tc.size)
				slice[0], slice[1] = 0x41, 0x9a
				if i%30 == 0 {
					slice[0], slice[1] = 0x65, 0x88
				}
				if err := w.WriteH264(track, ts, ts, [][]byte{slice}); err != nil {
					t.Fatalf("write frame %d: %v", i, err)
				}
			}
			// End cleanly: half-close, then drain what the server sent
			// (acknowledgements), or closing would reset the connection.
			c.NetConn().(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, c.NetConn())
			c.Close()
			var sess *session
			select {
			case sess = <-s.sink.started:
			case <-ctx.Done():
				t.Fatal("not started")
			}
			select {
			case err := <-sess.ended:
				if err != nil {
					t.Fatalf("End(%v)", err)
				}
			case <-ctx.Done():
				t.Fatal("not ended")
			}
			if !sess.hasFragments() {
				t.Error("no fragments")
			}
		})
	}
}
