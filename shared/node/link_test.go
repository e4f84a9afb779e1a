//go:build !js

package node

import (
	"context"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/swarm"
)

// marker is a neighbour the tests introduce last, as initiator: the
// writer sends the tracker's messages in order, so once its offer is sent
// everything the messages before it caused has been sent too.
const marker = "zz-marker"

// TestLinkSignalling: how a node answers the tracker's introductions and
// its neighbours' descriptions. Each case feeds tracker messages, then the
// marker, and lists what the node sent the tracker meanwhile (candidates
// left out) as "type peer".
func TestLinkSignalling(t *testing.T) {
	offerSDP := remoteOffer(t)
	neighbour := func(peer string, initiator bool) signaling.Message {
		return signaling.Message{Type: signaling.TypeNeighbour, Peer: peer, Initiator: initiator}
	}
	tests := []struct {
		name string
		feed []signaling.Message
		want []string
		text map[string]string // the Text of a sent message ("type peer") must contain this
	}{
		{
			name: "an initiator offers",
			feed: []signaling.Message{neighbour("x", true)},
			want: []string{"offer x"},
		},
		{
			name: "a neighbour introduced twice is one link",
			feed: []signaling.Message{neighbour("x", true), neighbour("x", true)},
			want: []string{"offer x"},
		},
		{
			name: "the other end waits for the offer",
			feed: []signaling.Message{neighbour("x", false)},
		},
		{
			name: "an offer is answered",
			feed: []signaling.Message{neighbour("y", false), {Type: signaling.TypeOffer, Peer: "y", SDP: offerSDP}},
			want: []string{"answer y"},
		},
		{
			name: "an offer from a peer not introduced yet is answered",
			feed: []signaling.Message{{Type: signaling.TypeOffer, Peer: "y", SDP: offerSDP}},
			want: []string{"answer y"},
		},
		{
			name: "a bad offer drops the link and tells the tracker",
			feed: []signaling.Message{neighbour("y", false), {Type: signaling.TypeOffer, Peer: "y", SDP: "v=garbage"}},
			want: []string{"drop y"},
			text: map[string]string{"drop y": "answer failed"},
		},
		{
			name: "a bad answer drops the link and tells the tracker",
			feed: []signaling.Message{neighbour("x", true), {Type: signaling.TypeAnswer, Peer: "x", SDP: "v=garbage"}},
			want: []string{"offer x", "drop x"},
			text: map[string]string{"drop x": "bad answer"},
		},
		{
			name: "answers and candidates for unknown peers are ignored",
			feed: []signaling.Message{
				{Type: signaling.TypeAnswer, Peer: "nobody", SDP: "v=0"},
				{Type: signaling.TypeCandidate, Peer: "nobody", Candidate: &signaling.Candidate{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"}},
				{Type: signaling.TypePeerLeft, Peer: "nobody"},
			},
		},
		{
			name: "a peer that left is dropped without telling the tracker, and may come back",
			feed: []signaling.Message{neighbour("x", true), {Type: signaling.TypePeerLeft, Peer: "x", Text: "gone"}, neighbour("x", true)},
			want: []string{"offer x", "offer x"},
		},
		{
			name: "a tracker error is not the end",
			feed: []signaling.Message{signaling.Errorf(signaling.CodeNoSuchPeer, "who?")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			tr := newFakeTracker("me", signaling.Message{Type: signaling.TypeWelcome, ID: "me"})
			n, err := New(Config{Stream: "s", Signal: tr, LoopbackOnly: true, Logger: quiet()})
			if err != nil {
				t.Fatal(err)
			}
			runNode(t, ctx, n)
			tr.waitSent(ctx, t, "the join", func(m signaling.Message) bool { return m.Type == signaling.TypeJoin })
			for _, m := range tc.feed {
				tr.in <- m
			}
			tr.in <- neighbour(marker, true)
			var got []string
			for {
				m := tr.waitSent(ctx, t, "the marker's offer", func(m signaling.Message) bool { return m.Type != signaling.TypeCandidate })
				if m.Peer == marker {
					break
				}
				key := string(m.Type) + " " + m.Peer
				got = append(got, key)
				if want, ok := tc.text[key]; ok && !strings.Contains(m.Text, want) {
					t.Errorf("%s: text %q, want %q in it", key, m.Text, want)
				}
				if (m.Type == signaling.TypeOffer || m.Type == signaling.TypeAnswer) && !strings.Contains(m.SDP, "webrtc-datachannel") {
					t.Errorf("%s: SDP without a data channel:\n%s", key, m.SDP)
				}
			}
			if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
				t.Fatalf("sent %q, want %q", got, tc.want)
			}
		})
	}
}

// remoteOffer is a data channel offer from another peer.
func remoteOffer(t *testing.T) string {
	t.Helper()
	pc, err := newAPI(true).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	if _, err := pc.CreateDataChannel(dataChannelLabel, nil); err != nil {
		t.Fatal(err)
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return o.SDP
}

// TestTwoNodes: an origin and a viewer introduced by the tracker open a
// data channel (offer, answer and ICE candidates relayed by the tracker,
// in order or with the candidates first, which the link must hold until
// the description comes), and the viewer gets every chunk the origin
// publishes over it, verified. When the origin leaves, the viewer's
// engine hears of it.
func TestTwoNodes(t *testing.T) {
	for _, tc := range []struct {
		name            string
		candidatesFirst bool
	}{
		{"descriptions first", false},
		{"candidates first", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testCtx(t)
			sig := newTestSigner(t)
			welcome := signaling.Message{Type: signaling.TypeWelcome, StreamKey: sig.pub}
			welcome.ID = "o"
			trO := newFakeTracker("o", welcome)
			welcome.ID = "v"
			trV := newFakeTracker("v", welcome)
			relay(trO, trV)
			trO.holdSDP, trV.holdSDP = tc.candidatesFirst, tc.candidatesFirst

			origin, err := New(Config{Stream: "s", Signal: trO, LoopbackOnly: true, Logger: quiet(), Engine: swarm.Config{Origin: true}})
			if err != nil {
				t.Fatal(err)
			}
			got := make(chan Delivery, 64)
			statsV := make(chan Stats, 1)
			viewer, err := New(Config{Stream: "s", Signal: trV, LoopbackOnly: true, Logger: quiet(),
				OnDeliver: func(d Delivery) { got <- d },
				OnStats: func(s Stats) {
					select {
					case statsV <- s:
					default:
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			runNode(t, ctx, origin)
			runNode(t, ctx, viewer)
			trO.in <- signaling.Message{Type: signaling.TypeNeighbour, Peer: "v"}
			trV.in <- signaling.Message{Type: signaling.TypeNeighbour, Peer: "o", Origin: true, Initiator: true}

			// One chunk at a time: the next is published once the viewer
			// has the last, first by repair (the viewer learns of it from
			// the origin's Status), then pushed once it has subscribed.
			for seq := uint64(1); seq <= 6; seq++ {
				origin.Publish(sig.chunk(seq))
				for {
					var d Delivery
					select {
					case d = <-got:
					case <-ctx.Done():
						t.Fatalf("chunk %d never reached the viewer", seq)
					}
					if d.From != "o" || !d.FromOrigin {
						t.Errorf("chunk %d from %q (origin %v), want from o", d.Chunk.Seq, d.From, d.FromOrigin)
					}
					if d.Chunk.Seq == seq {
						break
					}
				}
			}
			s := waitStats(ctx, t, statsV, func(s Stats) bool { return s.Verified >= 6 })
			if s.Peers != 1 || s.VerifyFailures != 0 || s.DeliveredBad != 0 || s.BadMessages != 0 {
				t.Fatalf("viewer stats %+v: want 1 peer, every chunk verified", s)
			}

			// The origin goes: the tracker says so, and the viewer drops
			// the link without a drop message (the tracker knows).
			trV.in <- signaling.Message{Type: signaling.TypePeerLeft, Peer: "o"}
			waitStats(ctx, t, statsV, func(s Stats) bool { return s.Peers == 0 })
		})
	}
}

// waitStats returns the first stats that ok accepts.
func waitStats(ctx context.Context, t *testing.T, c <-chan Stats, ok func(Stats) bool) Stats {
	t.Helper()
	for {
		select {
		case s := <-c:
			if ok(s) {
				return s
			}
		case <-ctx.Done():
			t.Fatal("the stats never showed it")
			return Stats{}
		}
	}
}

// TestBadDataChannelMessage: a neighbour that sends something undecodable
// is cut off and reported to the tracker.
func TestBadDataChannelMessage(t *testing.T) {
	ctx := testCtx(t)
	tr := newFakeTracker("me", signaling.Message{Type: signaling.TypeWelcome, ID: "me"})
	n, err := New(Config{Stream: "s", Signal: tr, LoopbackOnly: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	// The other end is a bare pion peer driven by the test.
	pc, err := newAPI(true).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	dc, err := pc.CreateDataChannel(dataChannelLabel, nil)
	if err != nil {
		t.Fatal(err)
	}
	opened := make(chan struct{})
	dc.OnOpen(func() { close(opened) })
	gathered := webrtc.GatheringCompletePromise(pc)
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-gathered // the offer carries its candidates
	runNode(t, ctx, n)
	tr.in <- signaling.Message{Type: signaling.TypeOffer, Peer: "bad", SDP: pc.LocalDescription().SDP}
	a := tr.waitSent(ctx, t, "an answer", isMsg(signaling.TypeAnswer, "bad"))
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: a.SDP}); err != nil {
		t.Fatal(err)
	}
	// Trickle the node's candidates to the bare peer until the channel
	// opens.
	for open := false; !open; {
		select {
		case m := <-tr.sent:
			if m.Type == signaling.TypeCandidate && m.Peer == "bad" {
				c := webrtc.ICECandidateInit{Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid, SDPMLineIndex: m.Candidate.SDPMLineIndex}
				if err := pc.AddICECandidate(c); err != nil {
					t.Fatal(err)
				}
			}
		case <-opened:
			open = true
		case <-ctx.Done():
			t.Fatal("the data channel never opened")
		}
	}
	if err := dc.Send([]byte{0xff, 0xff, 0xff}); err != nil {
		t.Fatal(err)
	}
	r := tr.waitSent(ctx, t, "a report", isMsg(signaling.TypeReport, "bad"))
	if !strings.Contains(r.Text, "undecodable") {
		t.Errorf("report %q, want it to say the message was undecodable", r.Text)
	}
}
