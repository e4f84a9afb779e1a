package wire

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Version is the protocol version carried in byte 0 of every frame.
const Version = 1

// Bounds on counts and lengths.
const (
	// MaxBufferMap is the largest number of bits in a [BufferMap].
	MaxBufferMap = 1024
	// MaxPayload is the largest [Chunk] payload in bytes. A whole frame,
	// signature included, stays within 256 KiB, the largest data-channel
	// message Chromium accepts (its SDP max-message-size); pion and Firefox
	// accept more.
	MaxPayload = 256*1024 - 128
	// MaxAnnounce is the largest number of digests in an [Announce].
	MaxAnnounce = 64
	// MaxMessageSize is the length of the largest valid frame, a signed
	// Chunk with a MaxPayload payload. Decode rejects longer input before
	// parsing.
	MaxMessageSize = headerLen + chunkFixedLen + MaxPayload + SignatureSize
)

const (
	headerLen     = 2             // version, type
	seqLen        = 8             // Have, Request, NotFound body
	bufferMapLen  = 8 + 2         // Base, Count; bitmap follows
	chunkFixedLen = 8 + 8 + 1 + 4 // Seq, Timestamp, Flags, PayloadLen
	announceLen   = 8 + 1         // Base, Count; digests and signature follow
	digestLen     = 32            // SHA-256
	signatureLen  = SignatureSize // Ed25519
)

// SignatureSize is the length of a [Chunk] signature (Ed25519).
const SignatureSize = 64

// Type identifies a message; it is byte 1 of every frame.
type Type uint8

// Message types.
//
// Reserved: Have, BufferMap and Announce are decoded and encoded, but no
// Shoal peer sends them. A peer that does is not cut off for an
// undecodable message: the engine (shared/swarm) drops them, counted in
// its Stats.Dropped, and the hostile peer tools/malpeer can send them.
// Have and BufferMap were protocol v0's announcements, replaced by
// [Status]; Announce is kept for signed batch announcements (chunks are
// signed one by one instead, see shared/integrity). This comment is the one
// place that says so; docs/PROTOCOL.md §2 and other comments point here.
const (
	TypeHave      Type = 0x01 // reserved (v0)
	TypeBufferMap Type = 0x02 // reserved (v0)
	TypeRequest   Type = 0x03
	TypeChunk     Type = 0x04
	TypeNotFound  Type = 0x05
	TypeAnnounce  Type = 0x06 // reserved
	// Push-tree messages, see tree.go.
	TypeStatus      Type = 0x07
	TypeSubscribe   Type = 0x08
	TypeUnsubscribe Type = 0x09
	TypeAccept      Type = 0x0a
)

// String returns the name of the message type, or "Type(0xNN)" for a type
// this version does not define.
func (t Type) String() string {
	switch t {
	case TypeHave:
		return "Have"
	case TypeBufferMap:
		return "BufferMap"
	case TypeRequest:
		return "Request"
	case TypeChunk:
		return "Chunk"
	case TypeNotFound:
		return "NotFound"
	case TypeAnnounce:
		return "Announce"
	case TypeStatus:
		return "Status"
	case TypeSubscribe:
		return "Subscribe"
	case TypeUnsubscribe:
		return "Unsubscribe"
	case TypeAccept:
		return "Accept"
	}
	return fmt.Sprintf("Type(0x%02x)", uint8(t))
}

// Message is one of the value types [Have], [BufferMap], [Request], [Chunk],
// [NotFound], [Announce], [Status], [Subscribe], [Accept] and [Unsubscribe].
type Message interface {
	Type() Type
	// AppendEncode appends the encoded frame (with version and type bytes)
	// to b. It does not check bounds; see [Validate].
	AppendEncode(b []byte) []byte
}

// Encode returns the encoded frame of m in a new slice. It does not check
// bounds; see [Validate].
func Encode(m Message) []byte {
	return m.AppendEncode(make([]byte, 0, EncodedLen(m)))
}

// EncodedLen returns the length of the encoded frame of m.
func EncodedLen(m Message) int {
	switch m := m.(type) {
	case Have, Request, NotFound:
		return headerLen + seqLen
	case BufferMap:
		return headerLen + bufferMapLen + (len(m.Bits)+7)/8
	case Chunk:
		return headerLen + chunkFixedLen + len(m.Payload) + len(m.Signature)
	case Announce:
		return headerLen + announceLen + len(m.Digests)*digestLen + signatureLen
	case Status:
		return headerLen + statusFixedLen + len(m.Depth)
	case Subscribe, Accept:
		return headerLen + stripeMsgLen
	case Unsubscribe:
		return headerLen + 1
	}
	return len(m.AppendEncode(nil))
}

// Validate reports whether m is within the protocol bounds, so that its
// encoding is accepted by [Decode]. It returns an error wrapping
// [ErrTooLarge], [ErrMalformed], or [ErrUnknownType] for a type other than
// the message value types.
func Validate(m Message) error {
	var err error
	switch m := m.(type) {
	case Have, Request, NotFound, Subscribe, Unsubscribe, Accept:
	case Status:
		err = m.validate()
	case BufferMap:
		err = m.validate()
	case Chunk:
		err = m.validate()
	case Announce:
		err = m.validate()
	default:
		return fmt.Errorf("wire: validate %T: %w", m, ErrUnknownType)
	}
	if err != nil {
		return fmt.Errorf("wire: validate %s: %w", m.Type(), err)
	}
	return nil
}

// Decode parses one frame. The result is a value type ([Have], [Chunk], ...)
// that does not alias b. Errors wrap one of the sentinels in errors.go.
func Decode(b []byte) (Message, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("wire: decode: %w: %d bytes > %d", ErrTooLarge, len(b), MaxMessageSize)
	}
	if len(b) < headerLen {
		return nil, fmt.Errorf("wire: decode: %w: %d bytes", ErrShort, len(b))
	}
	if b[0] != Version {
		return nil, fmt.Errorf("wire: decode: %w: %d, want %d", ErrVersion, b[0], Version)
	}
	t, body := Type(b[1]), b[headerLen:]
	var (
		m   Message
		err error
	)
	switch t {
	case TypeHave:
		m, err = decodeSeq(body, func(seq uint64) Message { return Have{Seq: seq} })
	case TypeBufferMap:
		m, err = decodeBufferMap(body)
	case TypeRequest:
		m, err = decodeSeq(body, func(seq uint64) Message { return Request{Seq: seq} })
	case TypeChunk:
		m, err = decodeChunk(body)
	case TypeNotFound:
		m, err = decodeSeq(body, func(seq uint64) Message { return NotFound{Seq: seq} })
	case TypeAnnounce:
		m, err = decodeAnnounce(body)
	case TypeStatus:
		m, err = decodeStatus(body)
	case TypeSubscribe, TypeUnsubscribe, TypeAccept:
		m, err = decodeStripeMsg(t, body)
	default:
		err = ErrUnknownType
	}
	if err != nil {
		return nil, fmt.Errorf("wire: decode %s: %w", t, err)
	}
	return m, nil
}

// appendHeader appends the version and type bytes.
func appendHeader(b []byte, t Type) []byte {
	return append(b, Version, byte(t))
}

// checkLen reports whether p holds exactly want bytes.
func checkLen(p []byte, want int, field string) error {
	switch {
	case len(p) < want:
		return fmt.Errorf("%w: %s needs %d bytes, have %d", ErrShort, field, want, len(p))
	case len(p) > want:
		return fmt.Errorf("%w: %d bytes after %s", ErrTrailing, len(p)-want, field)
	}
	return nil
}

// checkSpan reports whether Base..Base+n-1 fits in uint64.
func checkSpan(base uint64, n int) error {
	if n > 0 && base > math.MaxUint64-uint64(n-1) {
		return fmt.Errorf("%w: base %d + count %d overflows uint64", ErrMalformed, base, n)
	}
	return nil
}

func decodeSeq(p []byte, mk func(uint64) Message) (Message, error) {
	if err := checkLen(p, seqLen, "seq"); err != nil {
		return nil, err
	}
	return mk(binary.BigEndian.Uint64(p)), nil
}
