package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shoal-live/shoal/signal/server"
)

// syncBuffer is a goroutine-safe log destination.
type syncBuffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.String()
}

// TestStalledPosts reproduces the stalled-POST attack of issue #12: many
// requests from one address that send their headers and never their
// body. Each held a connection (and a descriptor) for as long as the
// client liked. Now at most MaxHTTPConnsPerIP are held, the rest are
// answered 503 at once, and the flood writes no ERROR line.
func TestStalledPosts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logs := &syncBuffer{}
	const capPerIP, attempts = 16, 100
	base := startServer(t, ctx, server.Config{
		MaxHTTPConnsPerIP: capPerIP,
		Logger:            slog.New(slog.NewTextHandler(logs, nil)),
	})
	addr := strings.TrimPrefix(base, "http://")
	var (
		mu      sync.Mutex
		refused int
		conns   []net.Conn
		wg      sync.WaitGroup
	)
	for range attempts {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Errorf("dial: %v", err)
				return
			}
			fmt.Fprintf(c, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nusername=", addr)
			c.SetReadDeadline(time.Now().Add(time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			mu.Lock()
			defer mu.Unlock()
			conns = append(conns, c)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				if resp.StatusCode == http.StatusServiceUnavailable {
					refused++
				}
			}
		})
	}
	wg.Wait()
	if held := attempts - refused; held > capPerIP {
		t.Errorf("%d of %d stalled POSTs held a connection, want at most %d", held, attempts, capPerIP)
	}
	// The attacker gives up: each held sign-in ends with its context
	// cancelled, which was logged at ERROR ("sign-in failed ... context
	// canceled"), one line per request.
	for _, c := range conns {
		c.Close()
	}
	// Each held request ends and is logged (requestLog) after whatever
	// its handler logged.
	waitFor(t, 5*time.Second, "the held sign-ins to end", func() bool {
		return strings.Count(logs.String(), "path=/login") >= attempts-refused
	})
	if n := strings.Count(logs.String(), "level=ERROR"); n > 0 {
		t.Errorf("%d ERROR log lines for the flood:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "connections refused"); n != 1 {
		t.Errorf("%d log lines about refused connections, want 1 (rate-limited)", n)
	}
}

// TestTrustedProxies checks that X-Forwarded-For is believed only from a
// trusted proxy, with the per-address signaling limit as the witness:
// behind a trusted proxy each viewer has its own allowance; a client
// talking to the server directly cannot buy a fresh one by sending the
// header.
func TestTrustedProxies(t *testing.T) {
	cases := []struct {
		name    string
		trusted []netip.Prefix
		xff     []string // one per connection
		wantOK  int
	}{
		{name: "no trusted proxy: XFF is ignored", xff: []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"}, wantOK: 2},
		{name: "trusted proxy, three viewers", trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			xff: []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"}, wantOK: 3},
		{name: "trusted proxy, one viewer thrice", trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			xff: []string{"203.0.113.1", "203.0.113.1", "9.9.9.9, 203.0.113.1"}, wantOK: 2},
		{name: "another proxy trusted", trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
			xff: []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"}, wantOK: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			base := startServer(t, ctx, server.Config{MaxConnsPerIP: 2, TrustedProxies: tc.trusted})
			ok := 0
			for _, xff := range tc.xff {
				c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/signal",
					&websocket.DialOptions{HTTPHeader: http.Header{"X-Forwarded-For": {xff}}})
				if err == nil {
					ok++
					defer c.CloseNow()
				} else if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
					t.Fatalf("dial: %v", err)
				}
			}
			if ok != tc.wantOK {
				t.Errorf("%d signaling connections admitted, want %d", ok, tc.wantOK)
			}
		})
	}
}

// TestWHIPPreflight: a browser WHIP client on another origin gets its
// CORS preflight answered through the whole router, and can read the
// refusal of a wrong key.
func TestWHIPPreflight(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	base := startServer(t, ctx, server.Config{StreamKeys: map[string]string{"live": "0123456789abcdef0123"}})
	req, _ := http.NewRequest(http.MethodOptions, base+"/api/whip/live", nil)
	req.Header.Set("Origin", "https://whip-client.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://whip-client.example" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(h.Get("Access-Control-Expose-Headers"), "Location") {
		t.Errorf("preflight: %d %v", resp.StatusCode, h)
	}
	req, _ = http.NewRequest(http.MethodPost, base+"/api/whip/live", strings.NewReader("v=0\r\n"))
	req.Header.Set("Origin", "https://whip-client.example")
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer wrong-key-wrong-key")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Errorf("wrong key from another origin: %d, ACAO %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}
