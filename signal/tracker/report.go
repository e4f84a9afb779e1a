package tracker

import (
	"cmp"
	"slices"
	"time"

	"github.com/shoal-live/shoal/shared/signaling"
)

// QuarantineReporters is how many distinct neighbours must report a peer
// (a chunk that failed verification, a flood) before the tracker stops
// introducing it. One report only unlinks the two, as a drop does: a lone
// liar cannot get an honest peer shunned. The origin's report counts as
// QuarantineReporters by itself.
const QuarantineReporters = 2

// abuse is the tracker's memory of reports. Guarded by Tracker.mu.
type abuse struct {
	reporters   map[string][]string // reported id -> distinct reporter ids
	quarantined map[string]bool
}

// bucket is a token bucket on the tracker's clock.
type bucket struct {
	tokens float64
	at     time.Time
}

// take refills b at one token per every, up to burst, and takes one if
// there is one.
func (b *bucket) take(now time.Time, burst int, every time.Duration) bool {
	b.tokens = min(float64(burst), b.tokens+float64(now.Sub(b.at))/float64(every))
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// ReportResult says what a report did.
type ReportResult struct {
	// Counted is false when the report was ignored: an unknown or
	// quarantined reporter, an unknown peer, not a neighbour, or over the
	// reporter's rate (Limited).
	Counted bool
	// Limited is true when the reporter was over ReportBurst and
	// ReportEvery: the two were unlinked, as for a drop, but the report
	// did not count and the reporter got no replacement.
	Limited bool
	// Reporters is how many distinct peers have now reported Peer.
	Reporters int
	// Quarantined is true once Peer is no longer introduced to anyone.
	Quarantined bool
}

// Report records that id's neighbour peer misbehaved (reason says how).
// The link between them is removed and both are topped up, as for Drop;
// once QuarantineReporters distinct neighbours (or the origin) have
// reported peer, it is quarantined: all its links are cut, it is never
// introduced again and it gets an error saying so. Its signaling
// connection stays open until it leaves; a rejoin gets a new id.
//
// A peer can only report its neighbours, and only ReportBurst reports,
// then one per ReportEvery, count (the origin's always do): reporters
// that ask the tracker for fresh neighbours to report one after another
// (drops and reports each top the reporter up) quarantine at most that
// many. A report over the rate unlinks the two and tops up only the
// reported peer.
func (t *Tracker) Report(id, peer, reason string) ReportResult {
	t.mu.Lock()
	defer t.mu.Unlock()
	m, n := t.byID[id], t.byID[peer]
	if m == nil || n == nil || t.abuse.quarantined[id] || m.links[peer] == nil {
		return ReportResult{}
	}
	if t.abuse.reporters == nil {
		t.abuse.reporters = make(map[string][]string)
		t.abuse.quarantined = make(map[string]bool)
	}
	t.forgetLeft()
	if !m.origin && !m.reports.take(t.cfg.Now(), t.cfg.ReportBurst, t.cfg.ReportEvery) {
		delete(m.links, peer)
		delete(n.links, id)
		noteFailed(m, n)
		t.deliver(n, signaling.Message{Type: signaling.TypePeerLeft, Peer: id, Text: "dropped: " + trim(reason, 200)})
		t.refillAll([]*member{n})
		if n.origin {
			t.refillOrigin(n.swarm)
		}
		return ReportResult{Limited: true}
	}
	rs := t.abuse.reporters[peer]
	if !slices.Contains(rs, id) {
		rs = append(rs, id)
		t.abuse.reporters[peer] = rs
	}
	res := ReportResult{Counted: true, Reporters: len(rs)}
	if (len(rs) >= QuarantineReporters || m.origin) && !n.origin { // the origin is the source of truth
		t.quarantine(n, reason)
		res.Quarantined = true
		return res
	}
	delete(m.links, peer)
	delete(n.links, id)
	t.deliver(n, signaling.Message{Type: signaling.TypePeerLeft, Peer: id, Text: "reported: " + trim(reason, 200)})
	t.refillAll([]*member{m, n})
	if m.origin || n.origin {
		t.refillOrigin(m.swarm)
	}
	return res
}

// Quarantined reports whether id was quarantined.
func (t *Tracker) Quarantined(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.abuse.quarantined[id]
}

// shuns reports whether the tracker must not introduce n to m: n is
// quarantined, or one of them has reported the other.
func (a *abuse) shuns(m, n *member) bool {
	return a.quarantined[n.id] || a.quarantined[m.id] ||
		slices.Contains(a.reporters[n.id], m.id) || slices.Contains(a.reporters[m.id], n.id)
}

// quarantine cuts every link of n; candidates (via shuns) never offers it
// again. It stays a member, so that Leave works as for anyone.
func (t *Tracker) quarantine(n *member, reason string) {
	if t.abuse.quarantined[n.id] {
		return
	}
	t.abuse.quarantined[n.id] = true
	orphans := make([]*member, 0, len(n.links))
	for _, o := range n.links {
		orphans = append(orphans, o)
	}
	slices.SortFunc(orphans, func(a, b *member) int { return cmp.Compare(a.id, b.id) })
	hadOrigin := false
	for _, o := range orphans {
		delete(o.links, n.id)
		delete(n.links, o.id)
		hadOrigin = hadOrigin || o.origin
		t.deliver(o, signaling.Message{Type: signaling.TypePeerLeft, Peer: n.id, Text: "quarantined: " + trim(reason, 200)})
	}
	// DurationMs tells the peer when to join again (with a fresh id, as
	// quarantine is by id): a browser wrongly reported rejoins then.
	e := signaling.Errorf(signaling.CodeQuarantined, "your neighbours reported chunks that fail verification: %s", trim(reason, 200))
	e.DurationMs = t.cfg.QuarantineFor.Milliseconds()
	t.deliver(n, e)
	t.refillAll(orphans)
	if hadOrigin {
		t.refillOrigin(n.swarm)
	}
}

// forgetLeft drops the reports about and the quarantine of peers that have
// left, so that the maps stay as small as the swarms.
func (t *Tracker) forgetLeft() {
	if len(t.abuse.reporters)+len(t.abuse.quarantined) < 1024 {
		return
	}
	for id := range t.abuse.reporters {
		if t.byID[id] == nil {
			delete(t.abuse.reporters, id)
		}
	}
	for id := range t.abuse.quarantined {
		if t.byID[id] == nil {
			delete(t.abuse.quarantined, id)
		}
	}
}
