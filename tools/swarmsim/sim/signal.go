package sim

import (
	"slices"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/shared/swarm"
)

// trackerJoin joins p to the tracker; its messages leave now.
func (s *Sim) trackerJoin(p *peer) {
	var welcome signaling.Message
	if s.published > 0 {
		welcome.Newest = s.first + s.published - 1 // as signal/rendezvous/peer.go fills it in
	}
	id, err := s.tr.Join(streamName, session{s, p.idx}, p.origin, welcome)
	if err != nil {
		s.m.joinRefused++
		s.flushSig()
		return
	}
	p.id, p.pid, p.tracked = id, swarm.PeerID(id), true
	s.byID[id] = p.idx
	s.flushSig()
}

// trackerLeave tells the tracker that p's signaling connection closed.
//
// tracker.Leave refills the orphaned neighbours in map order, drawing from
// the tracker's Rand for each one that fell below Neighbours: with two or
// more such orphans a run would depend on Go's map iteration. So first
// every neighbour that would need a refill, but one, is dropped with
// tracker.Drop, in index order (Drop refills deterministically); what Leave
// then does no longer depends on the order. The neighbours see the same
// peer-left message either way.
func (s *Sim) trackerLeave(p *peer) {
	if !p.tracked {
		return
	}
	for range 64 {
		needy := s.needy(p)
		if len(needy) <= 1 {
			break
		}
		s.m.preDrops++
		n := s.peers[needy[0]]
		s.unmirror(p.idx, n.idx) // first: Drop's refill may link them again
		s.tr.Drop(p.id, n.id, "left the stream")
		s.flushSig()
	}
	s.tr.Leave(p.id)
	p.tracked = false
	for _, n := range p.tnb {
		s.unmirror(n, p.idx)
	}
	p.tnb = nil
	s.flushSig()
}

// needy lists p's tracker neighbours that the tracker would refill if p
// left: viewers whose links to viewers would fall below Neighbours.
func (s *Sim) needy(p *peer) []int32 {
	var out []int32
	for _, n := range p.tnb {
		q := s.peers[n]
		if q.origin {
			continue
		}
		d := len(q.tnb)
		if slices.Contains(q.tnb, 0) {
			d-- // the origin does not count
		}
		if d-1 < s.sc.Neighbours {
			out = append(out, n)
		}
	}
	return out
}

// mirror keeps each peer's tracker neighbours from the messages the
// tracker sends (called with the tracker's lock held: no tracker calls).
func (s *Sim) mirror(to int32, m *signaling.Message) {
	switch m.Type {
	case signaling.TypeNeighbour:
		if n, ok := s.byID[m.Peer]; ok {
			p := s.peers[to]
			if !slices.Contains(p.tnb, n) {
				p.tnb = append(p.tnb, n)
			}
		} else {
			// The joining peer itself: its id is not known yet. Its own
			// neighbour messages name known peers; fix up in trackerJoin.
			s.m.pendingMirror = append(s.m.pendingMirror, to)
		}
	case signaling.TypePeerLeft:
		if n, ok := s.byID[m.Peer]; ok {
			s.unmirror(to, n)
		}
	}
}

func (s *Sim) unmirror(p, n int32) {
	q := s.peers[p]
	if i := slices.Index(q.tnb, n); i >= 0 {
		q.tnb = slices.Delete(q.tnb, i, i+1)
	}
}

// flushSig sends the messages the tracker queued, each after its peer's
// signaling latency. Messages to one peer keep their order.
func (s *Sim) flushSig() {
	// A joining peer's id becomes known only when Join returns: messages
	// that named it (to its new neighbours) are mirrored now.
	if len(s.m.pendingMirror) > 0 {
		for _, o := range s.sigOut {
			if o.m.Type == signaling.TypeNeighbour {
				if n, ok := s.byID[o.m.Peer]; ok {
					p := s.peers[o.to]
					if !slices.Contains(p.tnb, n) {
						p.tnb = append(p.tnb, n)
					}
				}
			}
		}
		s.m.pendingMirror = s.m.pendingMirror[:0]
	}
	slices.SortStableFunc(s.sigOut, func(a, b sigOut) int { return int(a.to) - int(b.to) })
	for i := range s.sigOut {
		o := &s.sigOut[i]
		m := o.m
		s.m.sigMsgs++
		s.at(s.now+s.srvLat(s.peers[o.to]), event{kind: evSig, to: o.to, sig: &m})
	}
	clear(s.sigOut)
	s.sigOut = s.sigOut[:0]
}

// onSignal is shared/node's onSignal on the virtual network.
func (s *Sim) onSignal(p *peer, m *signaling.Message) {
	pid := swarm.PeerID(m.Peer)
	switch m.Type {
	case signaling.TypeWelcome:
		if m.Newest > 0 {
			s.step(p, swarm.Live{Newest: m.Newest, Keyframe: m.Keyframe})
		}
	case signaling.TypeLive:
		s.m.liveMsgs++
		s.m.series(s).live++
		s.step(p, swarm.Live{Newest: m.Newest, Keyframe: m.Keyframe})
	case signaling.TypeNeighbour:
		if _, ok := p.links[pid]; ok {
			return
		}
		r, ok := s.byID[m.Peer]
		if !ok {
			return
		}
		s.m.introduced++
		p.links[pid] = &link{remote: r, origin: m.Origin}
		if m.Initiator {
			s.relay(p, signaling.Message{Type: signaling.TypeOffer, Peer: m.Peer, SDP: "offer"})
		}
	case signaling.TypeOffer:
		l := p.links[pid]
		if l == nil {
			r, ok := s.byID[m.Peer]
			if !ok {
				return
			}
			l = &link{remote: r, origin: m.Origin}
			p.links[pid] = l
		}
		if l.state == pending && l.conn == nil {
			s.relay(p, signaling.Message{Type: signaling.TypeAnswer, Peer: m.Peer, SDP: "answer"})
		}
	case signaling.TypeAnswer:
		l := p.links[pid]
		if l == nil || l.state != pending || l.conn != nil {
			return
		}
		r := s.peers[l.remote]
		c := &conn{peer: [2]int32{p.idx, r.idx}, lat: p.half + r.half}
		l.conn, l.side, c.rec[0] = c, 0, l
		if rl := r.links[p.pid]; rl != nil && rl.state == pending && rl.conn == nil {
			rl.conn, rl.side, c.rec[1] = c, 1, rl
		}
		if c.rec[1] == nil || s.natBlocked(p, r) {
			s.at(s.now+int64(s.sc.NATFailAfter), event{kind: evConnFail, conn: c})
			return
		}
		s.at(s.now+int64(s.sc.ConnectRTTs*float64(2*c.lat)), event{kind: evConnOpen, conn: c})
	case signaling.TypePeerLeft:
		if l := p.links[pid]; l != nil {
			s.dropLink(p, l, false)
		}
	case signaling.TypeError:
		s.m.sigErrors++
	}
}

// relay sends m to the tracker; it arrives after p's signaling latency.
func (s *Sim) relay(p *peer, m signaling.Message) {
	s.at(s.now+s.srvLat(p), event{kind: evRelay, from: p.idx, sig: &m})
}

// onRelay is the server's handling of a peer's offer, answer or drop.
func (s *Sim) onRelay(p *peer, m *signaling.Message) {
	if !p.tracked {
		return
	}
	switch m.Type {
	case signaling.TypeDrop:
		if n, ok := s.byID[m.Peer]; ok {
			s.unmirror(p.idx, n) // first: Drop's refill may link them again
			s.tr.Drop(p.id, m.Peer, m.Text)
		}
	default:
		if err := s.tr.Relay(p.id, *m); err != nil {
			s.m.relayErrors++
		}
	}
	s.flushSig()
}

// natBlocked reports whether viewers a and b cannot reach each other. It
// is a fixed property of the pair, so a pair introduced again fails again.
// An isolated viewer reaches nobody, the origin included.
func (s *Sim) natBlocked(a, b *peer) bool {
	if a.isolated || b.isolated {
		return true
	}
	if s.sc.NAT <= 0 || a.origin || b.origin {
		return false
	}
	lo, hi := uint64(min(a.idx, b.idx)), uint64(max(a.idx, b.idx))
	h := splitmix(s.sc.Seed ^ splitmix(lo<<32|hi))
	return float64(h>>11)/(1<<53) < s.sc.NAT
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// connOpen opens a data channel at both ends, if both still want it.
func (s *Sim) connOpen(c *conn) {
	if c.closed {
		return
	}
	for side := range 2 {
		if l := c.rec[side]; !alive(l, c) || l.state != pending {
			// One end gave up: the other's ICE never completes.
			if o := c.rec[1-side]; alive(o, c) {
				s.dropLink(s.peers[c.peer[1-side]], o, true)
			}
			return
		}
	}
	s.m.opened++
	a, b := s.peers[c.peer[0]], s.peers[c.peer[1]]
	c.rec[0].state, c.rec[1].state = open, open
	s.step(a, swarm.PeerConnected{Peer: b.pid, Origin: b.origin})
	if alive(c.rec[1], c) {
		s.step(b, swarm.PeerConnected{Peer: a.pid, Origin: a.origin})
	}
}
