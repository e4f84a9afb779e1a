package wire

import (
	"encoding/binary"
	"fmt"
)

// Push-tree messages (engine v1, docs/PROTOCOL.md §3). The stream is cut
// into stripes: chunk Seq belongs to stripe Seq mod the stripe count, and
// each peer takes each stripe from one parent that pushes it every chunk of
// that stripe as soon as it has it.

// MaxStripes bounds the stripe count a [Status] may carry.
const MaxStripes = 16

// NoDepth is the depth of a stripe the sender has no parent for.
const NoDepth uint8 = 0xff

const (
	statusFixedLen = 8 + 8 + 1 + 1 + 1 // Newest, Recent, Slots, Free, stripe count
	stripeMsgLen   = 1 + 1             // Stripe, Slots or Depth
)

// Status tells a neighbour where the sender stands. Peers send it when a
// channel opens, every few seconds, and to their children whenever their
// depth in a stripe changes.
type Status struct {
	// Newest is the newest chunk the sender holds (0 with Recent 0 when it
	// holds none).
	Newest uint64
	// Recent is a bitmap of recent chunks: bit i set means the sender holds
	// chunk Newest-i.
	Recent uint64
	// Slots is how many stripe subscriptions the sender can serve in all;
	// Free how many of them are unused.
	Slots, Free uint8
	// Depth[s] is the sender's distance from the origin in stripe s (the
	// origin is 0; [NoDepth] when it has no parent). len(Depth) is the
	// stripe count, at most [MaxStripes].
	Depth []uint8
}

// Type returns [TypeStatus].
func (Status) Type() Type { return TypeStatus }

// AppendEncode appends the encoded frame to b. It does not check bounds;
// see [Validate].
func (m Status) AppendEncode(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(appendHeader(b, TypeStatus), m.Newest)
	b = binary.BigEndian.AppendUint64(b, m.Recent)
	b = append(b, m.Slots, m.Free, uint8(len(m.Depth)))
	return append(b, m.Depth...)
}

// Holds reports whether the status says the sender holds chunk seq.
func (m Status) Holds(seq uint64) bool {
	if seq > m.Newest || m.Newest-seq >= 64 {
		return false
	}
	return m.Recent&(1<<(m.Newest-seq)) != 0
}

func (m Status) validate() error {
	if len(m.Depth) > MaxStripes {
		return fmt.Errorf("%w: %d stripes > %d", ErrTooLarge, len(m.Depth), MaxStripes)
	}
	return nil
}

func decodeStatus(p []byte) (Message, error) {
	if len(p) < statusFixedLen {
		return nil, fmt.Errorf("%w: status needs %d bytes, have %d", ErrShort, statusFixedLen, len(p))
	}
	n := int(p[18])
	if n > MaxStripes {
		return nil, fmt.Errorf("%w: %d stripes > %d", ErrTooLarge, n, MaxStripes)
	}
	if err := checkLen(p[statusFixedLen:], n, "depths"); err != nil {
		return nil, err
	}
	m := Status{
		Newest: binary.BigEndian.Uint64(p),
		Recent: binary.BigEndian.Uint64(p[8:]),
		Slots:  p[16],
		Free:   p[17],
	}
	if n > 0 {
		m.Depth = append([]uint8(nil), p[statusFixedLen:]...)
	}
	return m, nil
}

// Subscribe asks a neighbour to push every chunk of Stripe. Slots is the
// asker's own [Status.Slots]: a full parent may give a slot to an asker
// that can serve more than its weakest child, and drop that child.
type Subscribe struct {
	Stripe uint8
	Slots  uint8
}

// Type returns [TypeSubscribe].
func (Subscribe) Type() Type { return TypeSubscribe }

// AppendEncode appends the encoded frame to b.
func (m Subscribe) AppendEncode(b []byte) []byte {
	return append(appendHeader(b, TypeSubscribe), m.Stripe, m.Slots)
}

// Accept tells a neighbour that asked with [Subscribe] that it is now a
// child in Stripe, and the parent's Depth there.
type Accept struct {
	Stripe uint8
	Depth  uint8
}

// Type returns [TypeAccept].
func (Accept) Type() Type { return TypeAccept }

// AppendEncode appends the encoded frame to b.
func (m Accept) AppendEncode(b []byte) []byte {
	return append(appendHeader(b, TypeAccept), m.Stripe, m.Depth)
}

// Unsubscribe ends the push of Stripe between two neighbours. A child sends
// it to stop its parent; a parent sends it to refuse or drop a child.
type Unsubscribe struct {
	Stripe uint8
}

// Type returns [TypeUnsubscribe].
func (Unsubscribe) Type() Type { return TypeUnsubscribe }

// AppendEncode appends the encoded frame to b.
func (m Unsubscribe) AppendEncode(b []byte) []byte {
	return append(appendHeader(b, TypeUnsubscribe), m.Stripe)
}

func decodeStripeMsg(t Type, p []byte) (Message, error) {
	switch t {
	case TypeSubscribe:
		if err := checkLen(p, stripeMsgLen, "subscribe"); err != nil {
			return nil, err
		}
		return Subscribe{Stripe: p[0], Slots: p[1]}, nil
	case TypeAccept:
		if err := checkLen(p, stripeMsgLen, "accept"); err != nil {
			return nil, err
		}
		return Accept{Stripe: p[0], Depth: p[1]}, nil
	default:
		if err := checkLen(p, 1, "unsubscribe"); err != nil {
			return nil, err
		}
		return Unsubscribe{Stripe: p[0]}, nil
	}
}
