package tracker

import "github.com/shoal-live/shoal/shared/signaling"

// The live edge. A viewer learns of new chunks from its stripe parents; one
// that no neighbour reaches (UDP blocked, every NAT pair failing) has none,
// and would play the chunks its welcome named and stall. So the tracker
// passes on what the origin publishes: a "live" message with the newest
// chunk and the newest keyframe chunk, from which the peer's engine
// predicts when the next chunks are due and fetches them over HTTP
// (docs/PROTOCOL.md §1, §3.7).
//
// Cost: a message is about 80 bytes of JSON. Sent to every peer every
// second it would be 10,000 messages and ~1 MB a second at 10,000 peers,
// as much as the origin's own pushes. The tracker cannot see which peers
// have working data channels, but it sees the ones that may not: a peer
// that joined in the last LiveNeedy (its channels are still opening), one
// that had needyFails links fail (drops) within LiveNeedy (a peer that
// reaches nobody has its links fail over and over, while one NAT-blocked
// pair now and then is common), and one with no neighbour at all. Those
// hear the edge every LiveEvery; the rest, whose trees tell them of every
// chunk, every LiveIdle, which keeps even a peer the guess misses within
// 10 s of a fresh anchor (docs/BENCHMARKS.md has the counts).

// edge is a stream's live edge as the origin last reported it.
type edge struct{ newest, keyframe uint64 }

// Live records that stream's origin now holds chunks up to newest, and
// keyframe (0: none known) as its newest keyframe chunk, and passes this
// on to the viewers due to hear it. The origin calls it for every chunk
// it publishes, so a viewer hears it right after a chunk was cut, the
// moment from which its engine counts chunk intervals.
func (t *Tracker) Live(stream string, newest, keyframe uint64) {
	if newest == 0 || keyframe > newest {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	sw := t.swarms[stream]
	if sw == nil {
		return
	}
	sw.edge = edge{newest, keyframe}
	now := t.cfg.Now()
	msg := signaling.Message{Type: signaling.TypeLive, Newest: newest, Keyframe: keyframe}
	for _, m := range sw.list { // slice order: deterministic for the simulator
		if m.origin || now.Before(m.nextLive) {
			continue
		}
		every := t.cfg.LiveIdle
		if now.Sub(m.trouble) < t.cfg.LiveNeedy || len(m.links) == 0 {
			every = t.cfg.LiveEvery
		}
		// Keep each peer's phase, so that the messages stay spread
		// over the period after a pause of the stream.
		next := m.nextLive.Add(every)
		if !next.After(now) {
			next = now.Add(every - now.Sub(m.nextLive)%every)
		}
		m.nextLive = next
		t.deliver(m, msg)
	}
}

// needyFails is how many of a peer's links must fail within LiveNeedy
// before it counts as one that may reach nobody.
const needyFails = 3

// failed counts a failed link of m's. At needyFails within LiveNeedy, m
// may have no working data channel: it hears the live edge every
// LiveEvery for LiveNeedy.
func (t *Tracker) failed(m *member) {
	now := t.cfg.Now()
	if now.Sub(m.failsAt) >= t.cfg.LiveNeedy {
		m.fails, m.failsAt = 0, now
	}
	if m.fails++; m.fails < needyFails {
		return
	}
	m.trouble = now
	if next := now.Add(t.cfg.LiveEvery); next.Before(m.nextLive) {
		m.nextLive = next
	}
}
