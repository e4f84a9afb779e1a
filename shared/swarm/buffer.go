package swarm

import (
	"time"

	"github.com/shoal-live/shoal/shared/wire"
)

// buffer is a ring of Window slots: slot seq mod Window holds chunk seq, or
// the state of its repair while it is missing.
type buffer struct {
	slots []slot
	held  int
	low   uint64 // no chunk below low is missing
}

type slot struct {
	seq   uint64
	valid bool // the slot describes seq: held, or known and wanted
	held  bool
	chunk wire.Chunk

	seen          time.Time // when we learnt that seq exists
	from          *peer     // neighbour asked, nil if none
	askedAt       time.Time
	tried         []*peer // neighbours that answered NotFound
	fetching      bool
	fetchFailedAt time.Time
}

func newBuffer(window int) buffer { return buffer{slots: make([]slot, window)} }

// reset empties the buffer for a stream that starts at start.
func (b *buffer) reset(start uint64) {
	clear(b.slots)
	b.held, b.low = 0, start
}

func (b *buffer) at(seq uint64) *slot { return &b.slots[seq%uint64(len(b.slots))] }

// slot returns the state of seq, or nil when the buffer does not track it.
func (b *buffer) slot(seq uint64) *slot {
	if sl := b.at(seq); sl.valid && sl.seq == seq {
		return sl
	}
	return nil
}

// chunk returns chunk seq if it is held.
func (b *buffer) chunk(seq uint64) (wire.Chunk, bool) {
	if sl := b.slot(seq); sl != nil && sl.held {
		return sl.chunk, true
	}
	return wire.Chunk{}, false
}

// claim makes seq's slot describe seq, evicting the older chunk it held. It
// reports 1 when the evicted chunk was still missing.
func (b *buffer) claim(seq uint64) (sl *slot, missed int) {
	sl = b.at(seq)
	if sl.valid && sl.seq == seq {
		return sl, 0
	}
	if sl.valid {
		if sl.held {
			b.held--
		} else {
			missed = 1
			if sl.from != nil {
				sl.from.inflight--
			}
		}
	}
	*sl = slot{seq: seq, valid: true, tried: sl.tried[:0]}
	return sl, missed
}

// want records that seq exists and is missing, as of now.
func (b *buffer) want(seq uint64, now time.Time) (missed int) {
	sl, missed := b.claim(seq)
	if !sl.held && sl.seen.IsZero() {
		sl.seen = now
	}
	return missed
}

// store holds c.
func (b *buffer) store(c wire.Chunk, now time.Time) {
	sl, _ := b.claim(c.Seq)
	if sl.held {
		return
	}
	if sl.seen.IsZero() {
		sl.seen = now
	}
	sl.held, sl.chunk = true, c
	sl.tried = sl.tried[:0]
	b.held++
}

// forget drops every reference to p, a neighbour that left.
func (b *buffer) forget(p *peer) {
	for i := range b.slots {
		sl := &b.slots[i]
		if sl.from == p {
			sl.from = nil
		}
		for j, q := range sl.tried {
			if q == p {
				sl.tried = append(sl.tried[:j], sl.tried[j+1:]...)
				break
			}
		}
	}
}

// recent describes the chunks held as a Status does: the newest held, top,
// and a bitmap of those held among the 64 up to and including it (bit i:
// chunk top-i, so bit 0 is top itself), looking no further back than
// newest-63.
func (b *buffer) recent(newest uint64) (top, bits uint64) {
	n := min(uint64(len(b.slots)), 64, newest+1)
	for i := uint64(0); i < n; i++ {
		if sl := b.slot(newest - i); sl != nil && sl.held {
			if bits == 0 {
				top = newest - i
			}
			bits |= 1 << (top - (newest - i))
		}
	}
	return top, bits
}
