package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// stalled_posts: 3,000 POSTs from one address that send their headers
// and never their body (issue #12: they held 3,000 descriptors for as
// long as the client liked and wrote 1,001 ERROR lines). The server must
// hold at most its per-address cap (-max-http-conns-per-ip, 128), answer
// the rest 503 at once, close the held ones once their body is 15 s late,
// and log no ERROR line for any of it.
func init() {
	register(Attack{Name: "stalled_posts", Run: attackStalledPosts})
}

const stalledPosts = 3000

func attackStalledPosts(ctx context.Context, tg Target) (string, error) {
	before := measure(ctx, tg)
	var (
		mu      sync.Mutex
		conns   []net.Conn
		refused int
		other   int
		wg      sync.WaitGroup
		sem     = make(chan struct{}, 200) // dials in flight
	)
	for range stalledPosts {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, code, err := stalledPost(ctx, tg.HTTP)
			mu.Lock()
			defer mu.Unlock()
			if c != nil {
				conns = append(conns, c)
			}
			switch {
			case err != nil:
				other++
			case code == http.StatusServiceUnavailable:
				refused++
			case code != 0:
				other++
			}
		})
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	held := measure(ctx, tg)
	// The held requests' bodies are late: the server must close them
	// after 15 s.
	deadline := time.Now().Add(25 * time.Second)
	stillOpen := len(conns)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		stillOpen = 0
		for _, c := range conns {
			c.SetReadDeadline(time.Now().Add(time.Millisecond))
			if _, err := c.Read(make([]byte, 512)); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					stillOpen++
				}
			}
		}
		if stillOpen == 0 {
			break
		}
		sleepCtx(ctx, time.Second)
	}
	after := measure(ctx, tg)
	limit := fmt.Sprintf("HTTP connection cap 128/address: %d of %d stalled POSTs refused with 503 (%d other answers/errors); "+
		"server descriptors %d -> %d while held -> %d after the 15 s body timeout",
		refused, stalledPosts, other, before.FDs, held.FDs, after.FDs)
	if held.FDs-before.FDs > 200 {
		return limit, fmt.Errorf("the server held %d more descriptors", held.FDs-before.FDs)
	}
	if stillOpen > 0 {
		return limit, fmt.Errorf("%d stalled requests still open 25 s later", stillOpen)
	}
	return limit, nil
}

// stalledPost sends the headers of a POST with a 1,000-byte body and only
// its first bytes, and waits up to 1 s for an answer (code 0: none, the
// request is held).
func stalledPost(ctx context.Context, addr string) (net.Conn, int, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, 0, err
	}
	fmt.Fprintf(c, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: 1000\r\n\r\nusername=", addr)
	c.SetReadDeadline(time.Now().Add(time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	c.SetReadDeadline(time.Time{})
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return c, 0, nil
		}
		return c, 0, nil // closed without an answer counts as held-then-closed
	}
	io.Copy(io.Discard, resp.Body)
	return c, resp.StatusCode, nil
}
