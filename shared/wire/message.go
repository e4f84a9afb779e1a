package wire

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Chunk flags. This package carries Flags verbatim; players read them.
const (
	// FlagKeyframe marks a [Chunk] whose media starts at a keyframe: a
	// viewer can start playing there.
	FlagKeyframe uint8 = 1 << 0
	// FlagDiscontinuity marks the first chunk of a new ingest session: the
	// player must fetch the stream's new init segment before it.
	FlagDiscontinuity uint8 = 1 << 1
	// FlagSigned is set on the wire when a [SignatureSize]-byte signature
	// follows a Chunk's payload. The codec owns it: Encode sets it from
	// [Chunk.Signature], Decode clears it from [Chunk.Flags], and Validate
	// rejects a Chunk that sets it itself.
	FlagSigned uint8 = 1 << 7
)

// Have announces that the sender now holds chunk Seq. Reserved (protocol
// v0; see [TypeHave]).
type Have struct {
	Seq uint64
}

// Type returns [TypeHave].
func (Have) Type() Type { return TypeHave }

// AppendEncode appends the encoded frame to b.
func (m Have) AppendEncode(b []byte) []byte {
	return binary.BigEndian.AppendUint64(appendHeader(b, TypeHave), m.Seq)
}

// BufferMap lists the chunks the sender holds: Bits[i] reports whether it
// holds chunk Base+i. Reserved (protocol v0; see [TypeHave]). Bits has at most [MaxBufferMap] entries, and
// Base+len(Bits)-1 must not overflow uint64.
type BufferMap struct {
	Base uint64
	Bits []bool
}

// Type returns [TypeBufferMap].
func (BufferMap) Type() Type { return TypeBufferMap }

// AppendEncode appends the encoded frame to b. It does not check bounds;
// see [Validate].
func (m BufferMap) AppendEncode(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(appendHeader(b, TypeBufferMap), m.Base)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Bits)))
	for i := 0; i < len(m.Bits); i += 8 {
		var x byte
		for j, bit := range m.Bits[i:min(i+8, len(m.Bits))] {
			if bit {
				x |= 1 << j
			}
		}
		b = append(b, x)
	}
	return b
}

// Has reports whether the map says the sender holds chunk seq.
func (m BufferMap) Has(seq uint64) bool {
	return seq >= m.Base && seq-m.Base < uint64(len(m.Bits)) && m.Bits[seq-m.Base]
}

func (m BufferMap) validate() error {
	if len(m.Bits) > MaxBufferMap {
		return fmt.Errorf("%w: %d bits > %d", ErrTooLarge, len(m.Bits), MaxBufferMap)
	}
	return checkSpan(m.Base, len(m.Bits))
}

func decodeBufferMap(p []byte) (Message, error) {
	if len(p) < bufferMapLen {
		return nil, fmt.Errorf("%w: header needs %d bytes, have %d", ErrShort, bufferMapLen, len(p))
	}
	base := binary.BigEndian.Uint64(p)
	n := int(binary.BigEndian.Uint16(p[8:]))
	p = p[bufferMapLen:]
	if n > MaxBufferMap {
		return nil, fmt.Errorf("%w: %d bits > %d", ErrTooLarge, n, MaxBufferMap)
	}
	if err := checkLen(p, (n+7)/8, "bitmap"); err != nil {
		return nil, err
	}
	if err := checkSpan(base, n); err != nil {
		return nil, err
	}
	if r := n % 8; r != 0 && p[len(p)-1]>>r != 0 {
		return nil, fmt.Errorf("%w: nonzero padding bits", ErrMalformed)
	}
	m := BufferMap{Base: base}
	if n > 0 {
		m.Bits = make([]bool, n)
		for i := range m.Bits {
			m.Bits[i] = p[i/8]>>(i%8)&1 != 0
		}
	}
	return m, nil
}

// Request asks the receiver for chunk Seq. The reply is a [Chunk] or a
// [NotFound].
type Request struct {
	Seq uint64
}

// Type returns [TypeRequest].
func (Request) Type() Type { return TypeRequest }

// AppendEncode appends the encoded frame to b.
func (m Request) AppendEncode(b []byte) []byte {
	return binary.BigEndian.AppendUint64(appendHeader(b, TypeRequest), m.Seq)
}

// Chunk carries chunk Seq. Payload has at most [MaxPayload] bytes.
type Chunk struct {
	Seq uint64
	// Timestamp is the origin's wall clock when the chunk was cut, in Unix
	// milliseconds.
	Timestamp int64
	// Flags is a set of Flag* bits, such as [FlagKeyframe], never
	// [FlagSigned].
	Flags   uint8
	Payload []byte
	// Signature is empty or the origin's [SignatureSize]-byte signature
	// of the chunk (see package integrity); it travels after the payload.
	Signature []byte
}

// Type returns [TypeChunk].
func (Chunk) Type() Type { return TypeChunk }

// AppendEncode appends the encoded frame to b. It does not check bounds;
// see [Validate].
func (m Chunk) AppendEncode(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(appendHeader(b, TypeChunk), m.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(m.Timestamp))
	flags := m.Flags
	if len(m.Signature) > 0 {
		flags |= FlagSigned
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Payload)))
	b = append(b, m.Payload...)
	return append(b, m.Signature...)
}

func (m Chunk) validate() error {
	if len(m.Payload) > MaxPayload {
		return fmt.Errorf("%w: payload length %d > %d", ErrTooLarge, len(m.Payload), MaxPayload)
	}
	if m.Flags&FlagSigned != 0 {
		return fmt.Errorf("%w: Flags sets FlagSigned; set Signature instead", ErrMalformed)
	}
	if n := len(m.Signature); n != 0 && n != SignatureSize {
		return fmt.Errorf("%w: signature is %d bytes, want %d", ErrMalformed, n, SignatureSize)
	}
	return nil
}

// decodeChunk copies the payload: callers reuse their receive buffers.
func decodeChunk(p []byte) (Message, error) {
	if len(p) < chunkFixedLen {
		return nil, fmt.Errorf("%w: header needs %d bytes, have %d", ErrShort, chunkFixedLen, len(p))
	}
	m := Chunk{
		Seq:       binary.BigEndian.Uint64(p),
		Timestamp: int64(binary.BigEndian.Uint64(p[8:])),
		Flags:     p[16],
	}
	n := binary.BigEndian.Uint32(p[17:])
	p = p[chunkFixedLen:]
	if n > MaxPayload {
		return nil, fmt.Errorf("%w: payload length %d > %d", ErrTooLarge, n, MaxPayload)
	}
	sigLen := 0
	if m.Flags&FlagSigned != 0 {
		sigLen = SignatureSize
		m.Flags &^= FlagSigned
	}
	if err := checkLen(p, int(n)+sigLen, "payload"); err != nil {
		return nil, err
	}
	if n > 0 {
		m.Payload = bytes.Clone(p[:n])
	}
	if sigLen > 0 {
		m.Signature = bytes.Clone(p[n:])
	}
	return m, nil
}

// NotFound replies to a [Request] for chunk Seq, which the sender does not
// hold or no longer holds.
type NotFound struct {
	Seq uint64
}

// Type returns [TypeNotFound].
func (NotFound) Type() Type { return TypeNotFound }

// AppendEncode appends the encoded frame to b.
func (m NotFound) AppendEncode(b []byte) []byte {
	return binary.BigEndian.AppendUint64(appendHeader(b, TypeNotFound), m.Seq)
}

// Announce is reserved (see [TypeHave]) for signed chunk announcements: Digests[i] is the
// SHA-256 digest of chunk Base+i, and Signature is the origin's Ed25519
// signature over [Announce.SignedBytes]. Digests has 1 to [MaxAnnounce]
// entries, and Base+len(Digests)-1 must not overflow uint64.
type Announce struct {
	Base      uint64
	Digests   [][32]byte
	Signature [64]byte
}

// Type returns [TypeAnnounce].
func (Announce) Type() Type { return TypeAnnounce }

// AppendEncode appends the encoded frame to b. It does not check bounds;
// see [Validate].
func (m Announce) AppendEncode(b []byte) []byte {
	return append(m.appendSigned(b), m.Signature[:]...)
}

// SignedBytes returns the bytes the signature covers: the encoded frame,
// version and type bytes included, without the trailing signature.
func (m Announce) SignedBytes() []byte {
	return m.appendSigned(make([]byte, 0, EncodedLen(m)-signatureLen))
}

func (m Announce) appendSigned(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(appendHeader(b, TypeAnnounce), m.Base)
	b = append(b, uint8(len(m.Digests)))
	for _, d := range m.Digests {
		b = append(b, d[:]...)
	}
	return b
}

func (m Announce) validate() error {
	switch n := len(m.Digests); {
	case n == 0:
		return fmt.Errorf("%w: no digests", ErrMalformed)
	case n > MaxAnnounce:
		return fmt.Errorf("%w: %d digests > %d", ErrTooLarge, n, MaxAnnounce)
	}
	return checkSpan(m.Base, len(m.Digests))
}

func decodeAnnounce(p []byte) (Message, error) {
	if len(p) < announceLen {
		return nil, fmt.Errorf("%w: header needs %d bytes, have %d", ErrShort, announceLen, len(p))
	}
	base := binary.BigEndian.Uint64(p)
	n := int(p[8])
	p = p[announceLen:]
	switch {
	case n == 0:
		return nil, fmt.Errorf("%w: no digests", ErrMalformed)
	case n > MaxAnnounce:
		return nil, fmt.Errorf("%w: %d digests > %d", ErrTooLarge, n, MaxAnnounce)
	}
	if err := checkLen(p, n*digestLen+signatureLen, "digests and signature"); err != nil {
		return nil, err
	}
	if err := checkSpan(base, n); err != nil {
		return nil, err
	}
	m := Announce{Base: base, Digests: make([][32]byte, n)}
	for i := range m.Digests {
		p = p[copy(m.Digests[i][:], p):]
	}
	copy(m.Signature[:], p)
	return m, nil
}
