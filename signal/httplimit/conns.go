package httplimit

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/shoal-live/shoal/signal/clientip"
)

// HTTP server timeouts. There is no overall ReadTimeout or WriteTimeout:
// WebSockets and the media long-poll (up to 2 s) stay open, and a slow
// viewer may take a while to download the browser peer. Instead a request
// has ReadHeaderTimeout to send its headers, a request with a body
// BodyReadTimeout to send it (Body), and an idle keep-alive connection is
// closed after IdleTimeout.
const (
	ReadHeaderTimeout = 10 * time.Second
	BodyReadTimeout   = 15 * time.Second
	IdleTimeout       = 60 * time.Second
)

// listener caps the open connections from one TCP peer address; more are
// answered 503 and closed at once. Trusted proxies are not capped: many
// clients share them (the per-client limits behind them use the forwarded
// address).
type listener struct {
	net.Listener
	max     int
	proxies clientip.Strategy
	log     *slog.Logger

	mu      sync.Mutex
	open    map[netip.Addr]int
	refused int       // since the last log line
	logged  time.Time // when refusals were last logged
}

// NewListener returns ln with at most max open connections from one TCP
// peer, but for the proxies' (clientip.Strategy.Proxy).
func NewListener(ln net.Listener, max int, proxies clientip.Strategy, log *slog.Logger) net.Listener {
	return &listener{Listener: ln, max: max, proxies: proxies, log: log, open: make(map[netip.Addr]int)}
}

// tooMany is the whole answer to a connection over the cap.
const tooMany = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n" +
	"Connection: close\r\nRetry-After: 5\r\nContent-Length: 46\r\n\r\ntoo many connections from your address: retry\n"

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip, ok := clientip.Peer(c.RemoteAddr())
		if !ok || l.proxies.Proxy(ip) {
			return c, nil
		}
		l.mu.Lock()
		if l.open[ip] >= l.max {
			l.refused++
			logNow := time.Since(l.logged) >= 10*time.Second
			n := l.refused
			if logNow {
				l.logged, l.refused = time.Now(), 0
			}
			l.mu.Unlock()
			if logNow {
				l.log.Warn("http: connections refused: too many from one address",
					"ip", ip.String(), "limit", l.max, "refused", n)
			}
			c.SetWriteDeadline(time.Now().Add(time.Second))
			c.Write([]byte(tooMany))
			c.Close()
			continue
		}
		l.open[ip]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, release: func() { l.release(ip) }}, nil
	}
}

func (l *listener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
	}
}

// limitedConn gives its slot back when closed, once.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
