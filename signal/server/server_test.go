package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coder/websocket"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/wire"
	"github.com/shoal-live/shoal/signal/origin"
	"github.com/shoal-live/shoal/signal/server"
)

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	return request(t, http.MethodGet, url, hdr)
}

func request(t *testing.T, method, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	if method == "" {
		method = http.MethodGet
	}
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestHTTPRoutes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wasm := bytes.Repeat([]byte("\x00asm wasm body "), 1000)
	pages := fstest.MapFS{
		"index.html":      {Data: []byte("<h1>Shoal</h1>")},
		"viewer.html":     {Data: []byte("<h1>viewer</h1>")},
		"lib/shoal.js":    {Data: []byte("export {}")},
		"wasm/shoal.wasm": {Data: wasm},
		"embed.go":        {Data: []byte("package frontend")},
	}
	srv, err := server.New(server.Config{DemoStream: "demo", DemoSource: "synthetic", DemoInterval: 20 * time.Millisecond}, pages)
	if err != nil {
		t.Fatal(err)
	}
	base := serve(t, ctx, srv)
	waitChunks(t, base, "demo", 5) // the demo has published a few chunks

	tests := []struct {
		name, path   string
		method       string // GET when empty
		hdr          map[string]string
		status       int
		contains     string
		contentType  string
		contentCoded string
	}{
		{name: "health", path: "/healthz", status: 200, contains: "ok"},
		{name: "head of a page", method: http.MethodHead, path: "/watch/demo", status: 200, contentType: "text/html"},
		{name: "landing", path: "/", status: 200, contains: "Shoal", contentType: "text/html"},
		{name: "viewer", path: "/watch/demo", status: 200, contains: "viewer"},
		{name: "viewer of a bad name", path: "/watch/a.b", hdr: map[string]string{"Accept": "text/html"}, status: 404, contains: "Nothing here"},
		{name: "script", path: "/lib/shoal.js", status: 200, contains: "export"},
		{name: "go source is not served", path: "/embed.go", status: 404},
		{name: "unknown page", path: "/nope", hdr: map[string]string{"Accept": "text/html"}, status: 404, contains: "Back to Shoal"},
		{name: "unknown api", path: "/api/nope", status: 404, contains: `"error"`},
		{name: "wasm gzip", path: "/wasm/shoal.wasm", hdr: map[string]string{"Accept-Encoding": "gzip"}, status: 200, contentType: "application/wasm", contentCoded: "gzip"},
		{name: "wasm raw", path: "/wasm/shoal.wasm", status: 200, contentType: "application/wasm", contains: "asm wasm body"},
		{name: "chunk bad seq", path: "/api/streams/demo/chunks/xyz", status: 400, contains: "sequence"},
		{name: "chunk unknown stream", path: "/api/streams/nope/chunks/1", status: 404, contains: "no such live stream"},
		{name: "chunk too old or new", path: "/api/streams/demo/chunks/99999999", status: 404, contains: "not available"},
		{name: "streams", path: "/api/streams", status: 200, contains: `"name":"demo"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := request(t, tt.method, base+tt.path, tt.hdr)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %.200s", resp.StatusCode, tt.status, body)
			}
			if !strings.Contains(string(body), tt.contains) {
				t.Errorf("body %.200q does not contain %q", body, tt.contains)
			}
			if tt.contentType != "" && !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.contentType) {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tt.contentType)
			}
			if got := resp.Header.Get("Content-Encoding"); got != tt.contentCoded {
				t.Errorf("Content-Encoding %q, want %q", got, tt.contentCoded)
			}
			if tt.contentCoded == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(zr)
				if !bytes.Equal(raw, wasm) {
					t.Error("gzipped wasm does not decompress to the wasm")
				}
				if len(body) >= len(wasm) {
					t.Errorf("gzip %d bytes, raw %d: not smaller", len(body), len(wasm))
				}
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Security-Policy") == "" {
				t.Error("security headers missing")
			}
		})
	}

	// A fallback fetch returns the origin's chunk as a wire frame. Chunks
	// are numbered from the origin's start time in milliseconds
	// (docs/PROTOCOL.md §4): the stream's status says which is the newest.
	_, status := get(t, base+"/api/streams/demo/status", nil)
	var st struct {
		NewestSeq uint64 `json:"newestSeq"`
	}
	if err := json.Unmarshal(status, &st); err != nil || st.NewestSeq < uint64(time.Now().Add(-time.Hour).UnixMilli()) {
		t.Fatalf("status %s: newestSeq not numbered from the start time in ms (%v)", status, err)
	}
	seq := st.NewestSeq - 1
	resp, body := get(t, base+"/api/streams/demo/chunks/"+strconv.FormatUint(seq, 10), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("chunk %d: %d %s", seq, resp.StatusCode, body)
	}
	m, err := wire.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := m.(wire.Chunk); !ok || c.Seq != seq || !origin.CheckSynthetic(c) {
		t.Fatalf("chunk %d decoded to %T seq %v", seq, m, seqOf(m))
	}
}

func seqOf(m wire.Message) any {
	if c, ok := m.(wire.Chunk); ok {
		return c.Seq
	}
	return nil
}

func serve(t *testing.T, ctx context.Context, srv *server.Server) string {
	t.Helper()
	ln := listen(t)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// wsDial opens a raw signaling WebSocket.
func wsDial(t *testing.T, ctx context.Context, base string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/signal", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	return c
}

func readMsg(t *testing.T, ctx context.Context, c *websocket.Conn) (signaling.Message, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		return signaling.Message{}, err
	}
	return signaling.Decode(b)
}

// readUntil reads until a message of type typ arrives or the connection
// ends.
func readUntil(t *testing.T, ctx context.Context, c *websocket.Conn, typ signaling.Type) (signaling.Message, error) {
	t.Helper()
	for {
		m, err := readMsg(t, ctx, c)
		if err != nil || m.Type == typ {
			return m, err
		}
	}
}

func TestSignalingRejectsBadInput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := server.New(server.Config{MaxConnsPerIP: 3, MaxMessagesPerSecond: 5, MessageBurst: 10},
		fstest.MapFS{"index.html": {Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	base := serve(t, ctx, srv)
	write := func(c *websocket.Conn, s string) {
		if err := c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	join := `{"v":1,"type":"join","stream":"s"}`

	t.Run("first message must be a join", func(t *testing.T) {
		c := wsDial(t, ctx, base)
		defer c.CloseNow()
		write(c, `{"v":1,"type":"drop","peer":"x"}`)
		m, err := readMsg(t, ctx, c)
		if err != nil || m.Type != signaling.TypeError || m.Code != signaling.CodeNotJoined {
			t.Fatalf("got %+v %v, want a not-joined error", m, err)
		}
		if _, err := readMsg(t, ctx, c); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
			t.Fatalf("connection not closed with a reason: %v", err)
		}
	})
	t.Run("malformed message gets an error and the connection survives", func(t *testing.T) {
		c := wsDial(t, ctx, base)
		defer c.CloseNow()
		write(c, join)
		if m, err := readMsg(t, ctx, c); err != nil || m.Type != signaling.TypeWelcome {
			t.Fatalf("join: %+v %v", m, err)
		}
		write(c, `{"v":1,"type":"offer"`)
		m, err := readUntil(t, ctx, c, signaling.TypeError)
		if err != nil || m.Code != signaling.CodeBadMessage {
			t.Fatalf("got %+v %v, want bad-message", m, err)
		}
		write(c, `{"v":7,"type":"drop","peer":"x"}`)
		if m, err := readUntil(t, ctx, c, signaling.TypeError); err != nil || !strings.Contains(m.Text, "version") {
			t.Fatalf("got %+v %v, want a version error", m, err)
		}
		write(c, `{"v":1,"type":"offer","peer":"stranger","sdp":"v=0"}`)
		if m, err := readUntil(t, ctx, c, signaling.TypeError); err != nil || m.Code != signaling.CodeNoSuchPeer {
			t.Fatalf("got %+v %v, want no-such-peer", m, err)
		}
	})
	t.Run("oversized message closes the connection", func(t *testing.T) {
		c := wsDial(t, ctx, base)
		defer c.CloseNow()
		write(c, join)
		c.Write(ctx, websocket.MessageText, bytes.Repeat([]byte("a"), 1<<20))
		if _, err := readUntil(t, ctx, c, "never"); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
			t.Fatalf("got %v, want close 1009 (message too big)", err)
		}
	})
	t.Run("flood is rate limited", func(t *testing.T) {
		c := wsDial(t, ctx, base)
		defer c.CloseNow()
		write(c, join)
		for i := 0; i < 30; i++ {
			if c.Write(ctx, websocket.MessageText, []byte(`{"v":1,"type":"drop","peer":"x"}`)) != nil {
				break
			}
		}
		m, err := readUntil(t, ctx, c, signaling.TypeError)
		if err != nil || m.Code != signaling.CodeRateLimited {
			t.Fatalf("got %+v %v, want rate-limited", m, err)
		}
	})
	t.Run("connections per address are limited", func(t *testing.T) {
		var conns []*websocket.Conn
		defer func() {
			for _, c := range conns {
				c.CloseNow()
			}
		}()
		// Connections of the subtests above may still be closing, so the
		// limit can bite early; it must bite by the fourth.
		for i := 0; i < 4; i++ {
			c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/signal", nil)
			if err == nil {
				conns = append(conns, c)
				continue
			}
			if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("connection %d: %v %v, want 429", i+1, resp, err)
			}
			return
		}
		t.Fatalf("%d connections from one address accepted, limit 3", len(conns))
	})
	// After all that, everyone else is still served.
	if resp, _ := get(t, base+"/healthz", nil); resp.StatusCode != 200 {
		t.Fatalf("healthz %d after abuse", resp.StatusCode)
	}
	c := wsDial(t, ctx, base)
	defer c.CloseNow()
	write(c, join)
	if m, err := readMsg(t, ctx, c); err != nil || m.Type != signaling.TypeWelcome {
		t.Fatalf("a well-behaved peer after abuse: %+v %v", m, err)
	}
}
