package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/coder/websocket"
)

// proxy_spoof: a client talking to the server directly sends a different
// X-Forwarded-For (and Forwarded) with each signaling connection, hoping
// each counts as a new viewer's address. The server trusts no proxy
// (-trusted-proxies is empty), so the headers must be ignored: the
// per-address signaling cap (32) refuses the rest.
func init() {
	register(Attack{Name: "proxy_spoof", Run: attackProxySpoof})
}

func attackProxySpoof(ctx context.Context, tg Target) (string, error) {
	const n = 48
	var conns []*websocket.Conn
	defer func() {
		for _, c := range conns {
			c.CloseNow()
		}
	}()
	refused := 0
	for i := range n {
		fake := fmt.Sprintf("203.0.113.%d", i+1)
		c, resp, err := websocket.Dial(ctx, "ws://"+tg.HTTP+"/api/signal", &websocket.DialOptions{
			HTTPHeader: http.Header{"X-Forwarded-For": {fake}, "Forwarded": {"for=" + fake}},
		})
		if err != nil {
			if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
				refused++
				continue
			}
			return "", fmt.Errorf("connection %d: %w", i, err)
		}
		conns = append(conns, c)
	}
	limit := fmt.Sprintf("signaling cap 32/address despite %d forged X-Forwarded-For/Forwarded: %d admitted, %d refused", n, len(conns), refused)
	if len(conns) > 32 {
		return limit, fmt.Errorf("forged headers bought %d extra connections", len(conns)-32)
	}
	return limit, nil
}
