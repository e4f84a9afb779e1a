package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/coder/websocket"

	"github.com/shoal-live/shoal/shared/node"
	"github.com/shoal-live/shoal/shared/signaling"
)

// idle_links: 16 WebSocket-only clients (the origin's 16 links) join the
// live swarm first and never do WebRTC; then real viewers (native pion
// peers, with no HTTP fallback so that a chunk proves a data channel)
// join. Before #12 the idle clients held every origin link for good and
// later viewers never reached the origin. Now the origin drops a link
// whose data channel is not open after 8 s and gives the place to a
// viewer whose link never failed: the first viewer must get a chunk from
// the origin within 10 s, and one joining after that at once.
func init() {
	register(Attack{Name: "idle_links", Run: attackIdleLinks})
}

const (
	idleClients = 16
	idleWithin  = 10 * time.Second
)

func attackIdleLinks(ctx context.Context, tg Target) (string, error) {
	var idle []*websocket.Conn
	defer func() {
		for _, c := range idle {
			c.CloseNow()
		}
	}()
	for i := range idleClients {
		c, _, err := sigJoin(ctx, tg, tg.Live)
		if err != nil {
			return "", fmt.Errorf("idle client %d: %w", i, err)
		}
		idle = append(idle, c)
		go func() { // read, so as not to be dropped as slow; answer nothing
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
		}()
	}
	sleepCtx(ctx, time.Second)
	first, err := viewerReachesOrigin(ctx, tg, 20*time.Second)
	if err != nil {
		return "", fmt.Errorf("first viewer: %w", err)
	}
	second, err := viewerReachesOrigin(ctx, tg, 20*time.Second)
	if err != nil {
		return "", fmt.Errorf("second viewer: %w", err)
	}
	limit := fmt.Sprintf("origin links time out after 8 s without a data channel and go to other viewers: with %d idle WebSocket clients holding them, a viewer got its first chunk from the origin after %.1f s, the next one after %.1f s (limit %v)",
		idleClients, first.Seconds(), second.Seconds(), idleWithin)
	if first > idleWithin || second > idleWithin {
		return limit, fmt.Errorf("a viewer reached the origin only after %.1f s, want within %v", max(first, second).Seconds(), idleWithin)
	}
	return limit, nil
}

// viewerReachesOrigin runs a native viewer without HTTP fallback and
// returns how long after it started its first chunk came over a data
// channel (every other neighbour is an idle client: it came from the
// origin).
func viewerReachesOrigin(ctx context.Context, tg Target, limit time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	conn, err := signaling.DialWebSocket(ctx, "ws://"+tg.HTTP+"/api/signal")
	if err != nil {
		return 0, err
	}
	got := make(chan struct{}, 1)
	n, err := node.New(node.Config{
		Stream: tg.Live, Signal: conn, LoopbackOnly: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnDeliver: func(d node.Delivery) {
			if d.From != "" {
				select {
				case got <- struct{}{}:
				default:
				}
			}
		},
	})
	if err != nil {
		conn.Close("bad config")
		return 0, err
	}
	start := time.Now()
	ran := make(chan error, 1)
	go func() { ran <- n.Run(ctx) }()
	defer func() { cancel(); <-ran }()
	select {
	case <-got:
		return time.Since(start), nil
	case err := <-ran:
		return 0, fmt.Errorf("viewer stopped: %v", err)
	case <-ctx.Done():
		return 0, fmt.Errorf("no chunk from the origin within %v", limit)
	}
}
