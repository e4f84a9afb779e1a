package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coder/websocket"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/httplimit"
	"github.com/shoal-live/shoal/signal/server"
)

// logCapture is a slog handler target that tests can search.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logCapture) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logCapture) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.buf.String(), s)
}

// TestHTTPLimits: every limit answers with a clear error and a log line,
// and the server keeps serving.
func TestHTTPLimits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logs := &logCapture{}
	srv, err := server.New(server.Config{
		DemoStream: "demo", DemoSource: "synthetic", DemoInterval: 50 * time.Millisecond, DemoChunkSize: 1024,
		StreamKeys: map[string]string{"live": "k"}, LoopbackOnly: true,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	}, fstest.MapFS{"index.html": {Data: []byte("<h1>Shoal</h1>")}})
	if err != nil {
		t.Fatal(err)
	}
	base := serve(t, ctx, srv)
	waitChunks(t, base, "demo", 3) // a few chunks exist

	big := func() io.Reader { return bytes.NewReader(make([]byte, httplimit.MaxRequestBody+1)) }
	tests := []struct {
		name     string
		method   string
		path     string
		body     func() io.Reader
		chunked  bool // hide the length, so the limit bites while reading
		repeat   int  // send this many times; the last answer is judged
		status   int
		contains string // in the body
		log      string // in the server log
	}{
		{name: "WHIP offer over the body limit", method: "POST", path: "/api/whip/live", body: big,
			status: 413, contains: "request body too large", log: "request body too large"},
		{name: "form post over the body limit", method: "POST", path: "/login", body: big,
			status: 413, contains: "request body too large", log: "request body too large"},
		{name: "chunked WHIP offer over the limits", method: "POST", path: "/api/whip/live", body: big, chunked: true,
			status: 413},
		{name: "fallback chunk flood", method: "GET", path: "/api/streams/demo/chunks/1", repeat: httplimit.ChunkFetchBurst + 50,
			status: 429, contains: "too many chunk requests", log: "chunk fetches rate-limited"},
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			var body []byte
			for range max(tc.repeat, 1) {
				var r io.Reader
				if tc.body != nil {
					r = tc.body()
					if tc.chunked {
						r = io.MultiReader(r) // no Len: sent chunked
					}
				}
				req, err := http.NewRequestWithContext(ctx, tc.method, base+tc.path, r)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer k")
				req.Header.Set("Content-Type", "application/sdp")
				if resp, err = client.Do(req); err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == tc.status {
					break
				}
			}
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.contains) {
				t.Fatalf("%s %s: %d %q, want %d containing %q", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.contains)
			}
			if tc.log != "" && !logs.contains(tc.log) {
				t.Fatalf("no %q log line", tc.log)
			}
		})
	}
	t.Run("pages carry the security headers", func(t *testing.T) {
		resp, _ := get(t, base+"/", nil)
		h := resp.Header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "'wasm-unsafe-eval'") || !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("CSP %q", csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("headers %v", h)
		}
	})
	if resp, _ := get(t, base+"/healthz", nil); resp.StatusCode != 200 {
		t.Fatalf("healthz %d after abuse", resp.StatusCode)
	}
}

// TestSignalingLimits covers the signaling limits TestSignalingRejectsBadInput
// does not, and the stream key in the welcome.
func TestSignalingLimits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logs := &logCapture{}
	srv, err := server.New(server.Config{MaxPeersPerSwarm: 1, StreamKeys: map[string]string{"live": "k"},
		Logger: slog.New(slog.NewTextHandler(logs, nil))},
		fstest.MapFS{"index.html": {Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	base := serve(t, ctx, srv)
	write := func(c *websocket.Conn, s string) {
		t.Helper()
		if err := c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	join := func(c *websocket.Conn, stream string) signaling.Message {
		t.Helper()
		write(c, `{"v":1,"type":"join","stream":"`+stream+`"}`)
		m, err := readMsg(t, ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	tests := []struct {
		name   string
		stream string
		then   string // sent after the join
		want   signaling.Type
		code   string
		key    bool // the welcome carries a stream key
		log    string
	}{
		{name: "known stream: welcome with its key", stream: "live", want: signaling.TypeWelcome, key: true},
		{name: "swarm full", stream: "live", want: signaling.TypeError, code: signaling.CodeSwarmFull, log: "join refused"},
		{name: "unknown stream: no key, so nothing verifies", stream: "nosuch", want: signaling.TypeWelcome},
		{name: "SDP over the limit", stream: "other", then: `{"v":1,"type":"offer","peer":"p","sdp":"` + strings.Repeat("a", signaling.MaxSDPSize+1) + `"}`,
			want: signaling.TypeError, code: signaling.CodeBadMessage, log: "bad signaling message"},
		{name: "report of a stranger is ignored", stream: "third", then: `{"v":1,"type":"report","peer":"abc","text":"bad chunk"}`},
	}
	var open []*websocket.Conn
	defer func() {
		for _, c := range open {
			c.CloseNow()
		}
	}()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := wsDial(t, ctx, base)
			open = append(open, c) // stay joined: the swarm-full case needs the first peer
			m := join(c, tc.stream)
			if tc.then != "" {
				if m.Type != signaling.TypeWelcome {
					t.Fatalf("join: %+v", m)
				}
				write(c, tc.then)
				if tc.want == "" { // nothing comes back; the connection lives on
					write(c, `{"v":1,"type":"drop","peer":"abc"}`)
					return
				}
				var err error
				if m, err = readUntil(t, ctx, c, tc.want); err != nil {
					t.Fatal(err)
				}
			}
			if m.Type != tc.want || m.Code != tc.code {
				t.Fatalf("got %+v, want %s %s", m, tc.want, tc.code)
			}
			if (m.StreamKey != "") != tc.key {
				t.Fatalf("welcome stream key %q, want one: %v", m.StreamKey, tc.key)
			}
			if tc.log != "" && !logs.contains(tc.log) {
				t.Fatalf("no %q log line", tc.log)
			}
		})
	}
	t.Run("cross-site WebSocket refused", func(t *testing.T) {
		_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/signal",
			&websocket.DialOptions{HTTPHeader: http.Header{"Origin": []string{"https://evil.example"}}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("got %v %v, want 403", resp, err)
		}
		if !logs.contains("signaling upgrade failed") {
			t.Fatal("no log line for the refused upgrade")
		}
	})
}
