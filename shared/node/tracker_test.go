//go:build !js

package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"sync"
	"testing"
	"time"

	"github.com/shoal-live/shoal/shared/integrity"
	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/wire"
)

// fakeTracker is a signaling.Conn to a scripted tracker. The test feeds
// what the tracker says through in (the first message answers the join)
// and reads what the peer sent from sent, in order. Linked to another
// fakeTracker with relay, it passes offers, answers and candidates
// addressed to the other peer on to it, as the real tracker does.
type fakeTracker struct {
	name string // this peer's id, as the other side sees it
	in   chan signaling.Message
	sent chan signaling.Message
	fail chan error // a value ends Recv with that error

	mu      sync.Mutex
	other   *fakeTracker
	holdSDP bool                // hold offers and answers until a candidate has passed
	held    []signaling.Message // held offers and answers
	sendErr error               // every Send fails with it
	done    chan struct{}
	once    sync.Once
}

func newFakeTracker(name string, welcome signaling.Message) *fakeTracker {
	t := &fakeTracker{
		name: name,
		in:   make(chan signaling.Message, 256),
		sent: make(chan signaling.Message, 4096),
		fail: make(chan error, 1),
		done: make(chan struct{}),
	}
	t.in <- welcome
	return t
}

// relay links a's and b's trackers: what a sends to b.name reaches b from
// a.name, and back.
func relay(a, b *fakeTracker) {
	a.mu.Lock()
	a.other = b
	a.mu.Unlock()
	b.mu.Lock()
	b.other = a
	b.mu.Unlock()
}

func (t *fakeTracker) Send(ctx context.Context, m signaling.Message) error {
	t.mu.Lock()
	if err := t.sendErr; err != nil {
		t.mu.Unlock()
		return err
	}
	var forward []signaling.Message
	if o := t.other; o != nil && m.Peer == o.name {
		switch m.Type {
		case signaling.TypeOffer, signaling.TypeAnswer:
			if t.holdSDP {
				t.held = append(t.held, m)
				break
			}
			forward = append(forward, m)
		case signaling.TypeCandidate:
			forward = append(forward, m)
			forward = append(forward, t.held...) // the description after its candidate
			t.held = nil
		}
	}
	other := t.other
	t.mu.Unlock()
	for _, f := range forward {
		f.Peer = t.name
		other.in <- f
	}
	t.sent <- m
	return nil
}

func (t *fakeTracker) Recv(ctx context.Context) (signaling.Message, error) {
	select {
	case m := <-t.in:
		return m, nil
	case err := <-t.fail:
		return signaling.Message{}, err
	case <-ctx.Done():
		return signaling.Message{}, ctx.Err()
	case <-t.done:
		return signaling.Message{}, signaling.ErrClosed
	}
}

func (t *fakeTracker) Close(string) error {
	t.once.Do(func() { close(t.done) })
	return nil
}

// waitSent returns the first message the peer sends from now on that
// match accepts, or fails the test when ctx ends first.
func (t *fakeTracker) waitSent(ctx context.Context, tb testing.TB, what string, match func(signaling.Message) bool) signaling.Message {
	tb.Helper()
	for {
		select {
		case m := <-t.sent:
			if match(m) {
				return m
			}
		case <-ctx.Done():
			tb.Fatalf("the peer never sent %s", what)
			return signaling.Message{}
		}
	}
}

// isMsg matches a message of type typ to peer.
func isMsg(typ signaling.Type, peer string) func(signaling.Message) bool {
	return func(m signaling.Message) bool { return m.Type == typ && m.Peer == peer }
}

// runNode runs n until the test ends and returns a channel with Run's
// result; the cleanup cancels Run and waits for it.
func runNode(tb testing.TB, ctx context.Context, n *Node) chan error {
	tb.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			done <- err // for a test that reads it after the cleanup
		case <-time.After(10 * time.Second):
			tb.Errorf("Run did not return after its context ended")
		}
	})
	return done
}

// testSigner signs chunks of stream "s" with a fixed key.
type testSigner struct {
	*integrity.Signer
	pub string // the key as the tracker's welcome carries it
}

func newTestSigner(tb testing.TB) testSigner {
	tb.Helper()
	s, err := integrity.NewSigner("s", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		tb.Fatal(err)
	}
	return testSigner{Signer: s, pub: integrity.EncodePublicKey(s.PublicKey())}
}

// chunk is chunk seq, stamped now and signed.
func (s testSigner) chunk(seq uint64) wire.Chunk {
	return s.Sign(wire.Chunk{Seq: seq, Timestamp: time.Now().UnixMilli(), Payload: []byte{byte(seq), 1, 2, 3}})
}

func testCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}
