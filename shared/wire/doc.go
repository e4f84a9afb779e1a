// Package wire encodes and decodes the Shoal peer wire protocol, version 1:
// the binary messages viewers exchange over WebRTC data channels, one
// message per data channel message.
//
// # Frame
//
// A frame is the protocol [Version] byte, the message [Type] byte, then the
// body. Fields are big-endian and fixed-width:
//
//	0x01 Have         Seq u64                                        (reserved)
//	0x02 BufferMap    Base u64, Count u16 (≤ MaxBufferMap),
//	                  ceil(Count/8) bitmap bytes                     (reserved)
//	0x03 Request      Seq u64
//	0x04 Chunk        Seq u64, Timestamp i64, Flags u8, PayloadLen u32 (≤ MaxPayload),
//	                  payload, and 64 signature bytes when Flags has FlagSigned (bit 7)
//	0x05 NotFound     Seq u64
//	0x06 Announce     Base u64, Count u8 (1..MaxAnnounce), Count×32 digest bytes,
//	                  64 signature bytes                             (reserved)
//	0x07 Status       Newest u64, Recent u64, Slots u8, Free u8, Count u8 (≤ MaxStripes),
//	                  Count depth bytes
//	0x08 Subscribe    Stripe u8, Slots u8
//	0x09 Unsubscribe  Stripe u8
//	0x0a Accept       Stripe u8, Depth u8
//
// Status, Subscribe, Unsubscribe and Accept build the stripe push trees
// (tree.go; docs/PROTOCOL.md §3.2). The reserved types are decoded but sent
// by no Shoal peer: see the comment on the [Type] constants.
//
// The BufferMap bitmap is LSB-first: bit i%8 of byte i/8 is set when the
// sender holds chunk Base+i. Unused bits of the last byte are zero.
//
// # Usage
//
// Encode into a reused buffer on the send path, and dispatch on the concrete
// value type on the receive path:
//
//	buf = wire.Chunk{Seq: seq, Timestamp: ms, Payload: data}.AppendEncode(buf[:0])
//	dc.Send(buf)
//
//	m, err := wire.Decode(data)
//	if err != nil {
//		// Misbehaving or incompatible peer: disconnect.
//	}
//	switch m := m.(type) {
//	case wire.Status:
//		// ...
//	case wire.Chunk:
//		// m.Payload is a copy; data may be reused.
//	}
//
// Decode returns value types ([Have], [Chunk], ...), never pointers.
//
// # Bounds and canonical encoding
//
// Every length is bounded: Decode rejects input longer than [MaxMessageSize]
// before parsing, and counts over [MaxBufferMap], [MaxPayload] or
// [MaxAnnounce] before allocating. A BufferMap or Announce whose range
// Base..Base+Count-1 would overflow uint64 is malformed.
//
// Each valid message has exactly one encoding, and Decode accepts nothing
// else: for any input Decode accepts, Encode of the result returns the same
// bytes. A decoded empty Payload or Bits is nil.
//
// AppendEncode and [Encode] do not check bounds and never panic; a message
// that fails [Validate] encodes to a frame that Decode rejects. Senders that
// build messages from untrusted sizes should call Validate first.
//
// # Errors
//
// Decode never panics. Its errors wrap one of the sentinels in errors.go
// ([ErrShort], [ErrVersion], [ErrUnknownType], [ErrTooLarge], [ErrTrailing],
// [ErrMalformed]) with context, for example
// "wire: decode Chunk: length over bound: payload length 300000 > 262016".
package wire
