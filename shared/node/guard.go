package node

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/shoal-live/shoal/shared/integrity"
	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/wire"
)

// Chunk freshness: a validly signed chunk whose origin timestamp is this far
// from the origin's clock is a replay (an old session's chunk under a reused
// sequence number) or a forgery, never live data.
const (
	MaxChunkAge   = 60 * time.Second
	MaxChunkAhead = 10 * time.Second
)

// Per-neighbour message rate: an honest neighbour sends a few messages per
// chunk (Have, Request, Chunk, status), tens per second; a flood of
// requests would make us upload without end.
const (
	linkMsgRate  = 400
	linkMsgBurst = 800
)

// guard checks everything that arrives from neighbours and the origin's
// HTTP fallback before the engine sees it, and counts what it refuses. It
// belongs to the node's loop.
type guard struct {
	verifier *integrity.Verifier
	// web checks signatures with the browser's WebCrypto where it can
	// (nil outside a browser); see checkLater.
	web *integrity.WebVerifier
	// verified maps the sequence numbers of chunks that passed (or that we
	// published) to their signatures: a delivered or forwarded chunk whose
	// signature is not here was never verified.
	verified map[uint64][]byte
	newest   uint64

	passed       int           // chunks that passed
	passedWeb    int           // of which WebCrypto checked the signature
	verifyTime   time.Duration // spent verifying them on the node's loop
	failures     int           // chunks that failed verification (dropped; the sender was cut off and reported)
	stale        int           // chunks refused as outside the freshness window
	floods       int           // neighbours cut off for exceeding the message rate
	deliveredBad int           // chunks handed to the player without a passing verification: must stay 0
	forwardedBad int           // chunks sent to neighbours without a passing verification: must stay 0
}

// setKey installs the stream key from the tracker's welcome. Without one,
// every chunk is refused: a peer never plays what it cannot check.
func (g *guard) setKey(stream, key string) error {
	g.verified = make(map[uint64][]byte)
	if key == "" {
		return nil
	}
	pub, err := integrity.ParsePublicKey(key)
	if err != nil {
		return fmt.Errorf("stream key from tracker: %w", err)
	}
	if g.verifier, err = integrity.NewVerifier(stream, pub); err != nil {
		return fmt.Errorf("stream key from tracker: %w", err)
	}
	g.web = integrity.NewWebVerifier(g.verifier)
	return nil
}

// check verifies c, received at originNow on the origin's clock. On
// success it remembers c as verified.
func (g *guard) check(c wire.Chunk, originNow time.Time) error {
	if g.verifier == nil {
		g.failures++
		return integrity.ErrNoKey
	}
	start := time.Now()
	if err := g.verifier.Verify(c); err != nil {
		g.failures++
		return err
	}
	g.verifyTime += time.Since(start)
	return g.admit(c, originNow)
}

// checkLater starts checking c's signature with the browser's WebCrypto
// and returns true; done gets the outcome, on JavaScript's thread, and the
// loop then finishes with checked. It returns false, having started
// nothing, where WebCrypto cannot check (outside a browser, or before the
// key is imported): then use check.
func (g *guard) checkLater(c wire.Chunk, done func(error)) bool {
	if g.verifier == nil {
		return false
	}
	start := time.Now()
	if !g.web.Verify(c, done) {
		return false
	}
	g.verifyTime += time.Since(start) // building the statement, on the loop
	return true
}

// checked finishes checking c, whose signature checkLater's done found
// good (err nil) or bad.
func (g *guard) checked(c wire.Chunk, err error, originNow time.Time) error {
	if err != nil {
		g.failures++
		return err
	}
	if err := g.admit(c, originNow); err != nil {
		return err
	}
	g.passedWeb++
	return nil
}

// admit takes c, whose signature is good, if it is fresh.
func (g *guard) admit(c wire.Chunk, originNow time.Time) error {
	ts := time.UnixMilli(c.Timestamp)
	if ts.Before(originNow.Add(-MaxChunkAge)) || ts.After(originNow.Add(MaxChunkAhead)) {
		g.stale++
		g.failures++
		return fmt.Errorf("%w: chunk %d stamped %s, origin clock %s", integrity.ErrBadChunk, c.Seq,
			ts.UTC().Format(time.RFC3339), originNow.UTC().Format(time.RFC3339))
	}
	g.passed++
	g.remember(c)
	return nil
}

// remember records c as trusted (verified, or published by this origin).
func (g *guard) remember(c wire.Chunk) {
	if g.verified == nil {
		g.verified = make(map[uint64][]byte)
	}
	g.verified[c.Seq] = c.Signature
	g.newest = max(g.newest, c.Seq)
	if len(g.verified) > 2048 {
		for seq := range g.verified {
			if seq+1024 < g.newest {
				delete(g.verified, seq)
			}
		}
	}
}

// trusted reports whether c is a chunk that passed check or was published
// here.
func (g *guard) trusted(c wire.Chunk) bool {
	sig, ok := g.verified[c.Seq]
	return ok && bytes.Equal(sig, c.Signature)
}

func newLinkLimiter() *rate.Limiter { return rate.NewLimiter(linkMsgRate, linkMsgBurst) }

// receive screens one data channel message from l. It returns the message
// for the engine, or false when it was refused (and l cut off) or when
// it is a chunk whose signature the browser is still checking: that one
// comes back to the loop as a chunkChecked.
func (n *Node) receive(ctx context.Context, l *link, data []byte) (wire.Message, bool) {
	if !l.limiter.Allow() {
		n.guard.floods++
		n.log.Warn("neighbour flooded us; cutting it off", "neighbour", l.id, "limit_per_s", linkMsgRate)
		n.report(ctx, l, "message flood")
		return nil, false
	}
	m, err := wire.Decode(data)
	if err != nil {
		n.badMessages++
		n.log.Warn("neighbour sent a bad message", "neighbour", l.id, "err", err)
		n.report(ctx, l, "undecodable message: "+err.Error())
		return nil, false
	}
	if c, ok := m.(wire.Chunk); ok {
		if n.guard.checkLater(c, func(err error) { n.inbox.post(chunkChecked{l: l, c: c, err: err}) }) {
			return nil, false
		}
		if err := n.guard.check(c, n.originNow()); err != nil {
			n.refuseChunk(ctx, l, c, err)
			return nil, false
		}
	}
	return m, true
}

// refuseChunk cuts l off for sending c, which failed verification.
func (n *Node) refuseChunk(ctx context.Context, l *link, c wire.Chunk, err error) {
	n.log.Warn("neighbour sent a chunk that fails verification; cutting it off", "neighbour", l.id, "seq", c.Seq, "err", err)
	n.report(ctx, l, err.Error())
}

// checkFetched verifies the chunk of a successful fetch from the origin's
// HTTP fallback, setting ev.err when it fails. It returns false when the
// browser is still checking its signature: the chunk then comes back to
// the loop as fetched{web: true}, with the outcome in err.
func (n *Node) checkFetched(ev *fetched) bool {
	switch {
	case ev.web:
		ev.err = n.guard.checked(ev.c, ev.err, n.originNow())
	case ev.err != nil:
		return true // the fetch itself failed
	case n.guard.checkLater(ev.c, func(err error) { n.inbox.post(fetched{seq: ev.seq, c: ev.c, err: err, web: true}) }):
		return false
	default:
		ev.err = n.guard.check(ev.c, n.originNow())
	}
	if ev.err != nil {
		n.log.Warn("fallback chunk fails verification", "seq", ev.c.Seq, "err", ev.err)
	}
	return true
}

// report cuts l off and tells the tracker why, so that it stops
// introducing a misbehaving peer.
func (n *Node) report(ctx context.Context, l *link, reason string) {
	n.dropLink(ctx, l, reason, false)
	n.signal(ctx, signaling.Message{Type: signaling.TypeReport, Peer: l.id, Text: trimText(reason)})
}

// originNow is our estimate of the origin's clock.
func (n *Node) originNow() time.Time { return time.Now().Add(n.clockOffset) }

func trimText(s string) string {
	if len(s) > signaling.MaxTextSize {
		return s[:signaling.MaxTextSize]
	}
	return s
}
