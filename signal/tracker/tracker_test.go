package tracker

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/shoal-live/shoal/shared/signaling"
)

// inbox is a Session that records what it was sent.
type inbox struct{ msgs []signaling.Message }

func (b *inbox) Deliver(m signaling.Message) bool { b.msgs = append(b.msgs, m); return true }

func (b *inbox) of(t signaling.Type) []signaling.Message {
	var out []signaling.Message
	for _, m := range b.msgs {
		if m.Type == t {
			out = append(out, m)
		}
	}
	return out
}

func newTracker(cfg Config) *Tracker {
	cfg.Rand = rand.New(rand.NewPCG(1, 1))
	return New(cfg)
}

func join(t *testing.T, tr *Tracker, stream string, origin bool) (string, *inbox) {
	t.Helper()
	b := &inbox{}
	id, err := tr.Join(stream, b, origin, signaling.Message{})
	if err != nil {
		t.Fatal(err)
	}
	if w := b.msgs[0]; w.Type != signaling.TypeWelcome || w.ID != id {
		t.Fatalf("first message %+v, want welcome with id %s", w, id)
	}
	return id, b
}

func TestNeighbourSetsAreBounded(t *testing.T) {
	tr := newTracker(Config{Neighbours: 4, MaxDegree: 6})
	ids := make([]string, 50)
	for i := range ids {
		ids[i], _ = join(t, tr, "s", false)
	}
	for i, id := range ids {
		d := tr.Degree(id)
		if d > 6 {
			t.Errorf("peer %d has %d neighbours, MaxDegree 6", i, d)
		}
		if i >= 4 && d < 4 {
			t.Errorf("peer %d has %d neighbours, want at least 4", i, d)
		}
	}
}

func TestJoinMeetsOriginAndLeaveIsReplaced(t *testing.T) {
	tr := newTracker(Config{Neighbours: 2, OriginLinks: 1})
	o, ob := join(t, tr, "s", true)
	a, ab := join(t, tr, "s", false)
	_, bb := join(t, tr, "s", false)
	c, cb := join(t, tr, "s", false)

	if n := ab.of(signaling.TypeNeighbour); len(n) == 0 || n[0].Peer != o || !n[0].Origin || !n[0].Initiator {
		t.Fatalf("first viewer's introductions %+v, want the origin, as initiator", n)
	}
	if got := len(ob.of(signaling.TypeNeighbour)); got != 1 {
		t.Fatalf("origin got %d neighbours, OriginLinks is 1", got)
	}
	// b was introduced to a (the only viewer then): a hears of b first.
	if n := bb.of(signaling.TypeNeighbour); len(n) == 0 || n[0].Peer != a || !n[0].Initiator {
		t.Fatalf("b's introductions %+v, want a as initiator", n)
	}
	if tr.Degree(c) != 2 {
		t.Fatalf("c has %d neighbours, want 2", tr.Degree(c))
	}
	before := len(cb.of(signaling.TypeNeighbour))
	tr.Leave(a)
	if left := cb.of(signaling.TypePeerLeft); tr.Degree(c) == 2 && len(left) == 0 && before == len(cb.of(signaling.TypeNeighbour)) {
		t.Fatal("c was neither told of a's leaving nor given a new neighbour")
	}
	if got := bb.of(signaling.TypePeerLeft); len(got) != 1 || got[0].Peer != a {
		t.Fatalf("b's peer-left messages %+v, want one for a", got)
	}
	if tr.Degree(a) != -1 {
		t.Fatal("a still tracked after Leave")
	}
}

func TestRelayOnlyBetweenNeighbours(t *testing.T) {
	tr := newTracker(Config{Neighbours: 1, MaxDegree: 1})
	a, _ := join(t, tr, "s", false)
	b, bb := join(t, tr, "s", false)
	c, _ := join(t, tr, "s", false) // a and b are full: c meets nobody
	offer := signaling.Message{Type: signaling.TypeOffer, Peer: b, SDP: "v=0"}
	if err := tr.Relay(a, offer); err != nil {
		t.Fatalf("relay between neighbours: %v", err)
	}
	got := bb.of(signaling.TypeOffer)
	if len(got) != 1 || got[0].Peer != a {
		t.Fatalf("b got %+v, want an offer naming a", got)
	}
	if err := tr.Relay(c, offer); !errors.Is(err, ErrNotNeighbour) {
		t.Fatalf("relay from a stranger = %v, want ErrNotNeighbour", err)
	}
	if err := tr.Relay("nobody", offer); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("relay from unknown = %v, want ErrUnknownPeer", err)
	}
}

func TestDropFindsReplacements(t *testing.T) {
	tr := newTracker(Config{Neighbours: 1, MaxDegree: 2})
	a, _ := join(t, tr, "s", false)
	b, bb := join(t, tr, "s", false)
	tr.Drop(a, b, "ice failed")
	if got := bb.of(signaling.TypePeerLeft); len(got) != 1 || got[0].Peer != a {
		t.Fatalf("b got %+v, want peer-left for a", got)
	}
	// With only the two of them, the refill reintroduces them.
	if tr.Degree(a) != 1 || tr.Degree(b) != 1 {
		t.Fatalf("degrees after drop: a %d, b %d, want 1 and 1", tr.Degree(a), tr.Degree(b))
	}
}

func TestSwarmFull(t *testing.T) {
	tr := newTracker(Config{MaxPeers: 2})
	join(t, tr, "s", false)
	join(t, tr, "s", false)
	if _, err := tr.Join("s", &inbox{}, false, signaling.Message{}); !errors.Is(err, ErrSwarmFull) {
		t.Fatalf("third join = %v, want ErrSwarmFull", err)
	}
	if _, err := tr.Join("other", &inbox{}, false, signaling.Message{}); err != nil {
		t.Fatalf("another stream refused: %v", err)
	}
	if got := tr.Streams(); len(got) != 2 || got[0].Name != "other" || got[1].Viewers != 2 {
		t.Fatalf("Streams() = %+v", got)
	}
}
