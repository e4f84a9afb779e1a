package node

import (
	"context"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/swarm"
)

// dataChannelLabel names the one data channel between two peers.
const dataChannelLabel = "shoal/1"

// link is the connection to one neighbour.
type link struct {
	id        string
	origin    bool
	pc        *webrtc.PeerConnection
	dc        *webrtc.DataChannel
	open      bool
	remoteSet bool
	pending   []webrtc.ICECandidateInit // candidates that came before the remote description
	limiter   *rate.Limiter             // messages from this neighbour (guard.go)
	began     time.Time                 // when the tracker introduced it
	chunks    int                       // chunks it sent us
}

func (l *link) close() {
	pc := l.pc
	go pc.Close() // Close waits for transports: keep it off the loop
}

func (n *Node) onSignal(ctx context.Context, m signaling.Message) {
	switch m.Type {
	case signaling.TypeNeighbour:
		if _, ok := n.links[m.Peer]; ok {
			return
		}
		l, err := n.newLink(m.Peer, m.Origin)
		if err != nil {
			n.log.Warn("cannot connect to neighbour", "neighbour", m.Peer, "err", err)
			n.signal(ctx, signaling.Message{Type: signaling.TypeDrop, Peer: m.Peer, Text: err.Error()})
			return
		}
		if m.Initiator {
			if err := n.offer(ctx, l); err != nil {
				n.log.Warn("offer failed", "neighbour", m.Peer, "err", err)
				n.dropLink(ctx, l, "offer failed", true)
			}
		}
	case signaling.TypeOffer:
		l, ok := n.links[m.Peer]
		if !ok {
			var err error
			if l, err = n.newLink(m.Peer, m.Origin); err != nil {
				n.log.Warn("cannot answer neighbour", "neighbour", m.Peer, "err", err)
				return
			}
		}
		if err := n.answer(ctx, l, m.SDP); err != nil {
			n.log.Warn("answer failed", "neighbour", m.Peer, "err", err)
			n.dropLink(ctx, l, "answer failed", true)
		}
	case signaling.TypeAnswer:
		l, ok := n.links[m.Peer]
		if !ok {
			return
		}
		if err := n.setRemote(l, webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP}); err != nil {
			n.log.Warn("bad answer", "neighbour", m.Peer, "err", err)
			n.dropLink(ctx, l, "bad answer", true)
		}
	case signaling.TypeCandidate:
		l, ok := n.links[m.Peer]
		if !ok {
			return
		}
		c := webrtc.ICECandidateInit{Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid, SDPMLineIndex: m.Candidate.SDPMLineIndex}
		if !l.remoteSet {
			if len(l.pending) < 64 {
				l.pending = append(l.pending, c)
			}
			return
		}
		if err := l.pc.AddICECandidate(c); err != nil {
			n.log.Debug("bad ICE candidate", "neighbour", m.Peer, "err", err)
		}
	case signaling.TypePeerLeft:
		if l, ok := n.links[m.Peer]; ok {
			n.dropLink(ctx, l, "peer left: "+m.Text, false)
		}
	case signaling.TypeError:
		n.log.Warn("tracker reported an error", "code", m.Code, "text", m.Text)
	}
}

func (n *Node) newLink(id string, origin bool) (*link, error) {
	pc, err := n.api.NewPeerConnection(webrtc.Configuration{ICEServers: n.iceServers})
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	l := &link{id: id, origin: origin, pc: pc, limiter: newLinkLimiter(), began: time.Now()}
	n.links[id] = l
	n.log.Debug("neighbour introduced", "neighbour", id, "origin", origin)
	// A neighbour that never opens the data channel (a WebSocket-only
	// client, a peer whose ICE never completes) is dropped, so that the
	// tracker can give both ends others.
	time.AfterFunc(n.cfg.ConnectTimeout, func() { n.inbox.post(linkLate{l}) })
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			n.inbox.post(iceOut{l: l, c: c.ToJSON()})
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed {
			n.inbox.post(linkDown{l: l, reason: "connection " + s.String()})
		}
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		if dc.Label() == dataChannelLabel {
			n.watch(l, dc)
		}
	})
	return l, nil
}

// opened marks l's data channel open and tells the engine of the new
// neighbour.
func (n *Node) opened(ctx context.Context, l *link) {
	l.open = true
	n.log.Debug("data channel open", "neighbour", l.id, "after", time.Since(l.began).Round(time.Millisecond))
	n.step(ctx, swarm.PeerConnected{Peer: swarm.PeerID(l.id), Origin: l.origin})
}

// watch wires a data channel's callbacks to the inbox.
func (n *Node) watch(l *link, dc *webrtc.DataChannel) {
	l.dc = dc
	dc.OnOpen(func() { n.inbox.post(linkOpen{l}) })
	dc.OnClose(func() { n.inbox.post(linkDown{l: l, reason: "data channel closed"}) })
	dc.OnMessage(func(msg webrtc.DataChannelMessage) { n.inbox.post(linkMsg{l: l, data: msg.Data}) })
}

func (n *Node) offer(ctx context.Context, l *link) error {
	ordered := true
	dc, err := l.pc.CreateDataChannel(dataChannelLabel, &webrtc.DataChannelInit{Ordered: &ordered})
	if err != nil {
		return fmt.Errorf("create data channel: %w", err)
	}
	n.watch(l, dc)
	o, err := l.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	if err := l.pc.SetLocalDescription(o); err != nil {
		return fmt.Errorf("set local offer: %w", err)
	}
	n.signal(ctx, signaling.Message{Type: signaling.TypeOffer, Peer: l.id, SDP: o.SDP})
	return nil
}

func (n *Node) answer(ctx context.Context, l *link, sdp string) error {
	if err := n.setRemote(l, webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return err
	}
	a, err := l.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("create answer: %w", err)
	}
	if err := l.pc.SetLocalDescription(a); err != nil {
		return fmt.Errorf("set local answer: %w", err)
	}
	n.signal(ctx, signaling.Message{Type: signaling.TypeAnswer, Peer: l.id, SDP: a.SDP})
	return nil
}

func (n *Node) setRemote(l *link, d webrtc.SessionDescription) error {
	if err := l.pc.SetRemoteDescription(d); err != nil {
		return fmt.Errorf("set remote %s: %w", d.Type, err)
	}
	l.remoteSet = true
	for _, c := range l.pending {
		if err := l.pc.AddICECandidate(c); err != nil {
			n.log.Debug("bad ICE candidate", "neighbour", l.id, "err", err)
		}
	}
	l.pending = nil
	return nil
}

// dropLink closes the connection to a neighbour and tells the engine; with
// tell it also tells the tracker, which introduces a replacement.
func (n *Node) dropLink(ctx context.Context, l *link, reason string, tell bool) {
	delete(n.links, l.id)
	l.close()
	if l.open {
		l.open = false
		n.step(ctx, swarm.PeerDisconnected{Peer: swarm.PeerID(l.id)})
	}
	n.log.Debug("neighbour dropped", "neighbour", l.id, "reason", reason)
	if tell {
		n.signal(ctx, signaling.Message{Type: signaling.TypeDrop, Peer: l.id, Text: reason})
	}
}
