package rtmp

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync/atomic"
)

// guardedConn follows the RTMP chunk stream a client sends, byte by byte,
// as it passes from the socket to gortmplib, and fails the read that would
// hand gortmplib a chunk size or a message length over the limits.
//
// gortmplib allocates each chunk's body (min(message length, chunk size)
// bytes) as soon as it has read the chunk's header, before the body
// arrives, and accepts chunk sizes and messages up to 10 MiB. A client that
// sends SetChunkSize 10 MiB and one header announcing a large message, then
// nothing, held 10 MiB of heap per connection for 3 KB of traffic. Behind
// this guard a chunk is at most maxChunk bytes, so what is allocated ahead
// of the bytes is bounded by maxChunk per connection; a message grows only
// as its chunks arrive, up to maxMsg (maxMsgPreAuth until the stream key
// is accepted: before that a publisher sends only small commands).
//
// The parser mirrors gortmplib's reader (pkg/rawmessage) exactly, quirks
// included, so that both agree on where each chunk starts. Only plain RTMP
// (version 3) is followed: RTMPE's encrypted stream is refused.
type guardedConn struct {
	net.Conn
	maxChunk, maxMsgPreAuth, maxMsg uint32
	authorized                      atomic.Bool

	err       error  // sticky: the stream broke a limit
	handshake int    // client handshake bytes still to pass (C0, C1, C2)
	hdr       []byte // the chunk header collected so far
	need      int    // header bytes needed (grows as the header tells more)
	body      uint32 // body bytes of the current chunk still to pass
	cur       *guardStream
	chunkSize uint32
	streams   map[byte]*guardStream
}

// guardStream is one chunk stream's message assembly state.
type guardStream struct {
	started  bool // a type 0 chunk has been seen (the lib's curTimestampAvailable)
	typ      uint8
	length   uint32 // current message length
	recv     uint32 // body bytes of the current message received
	extended bool   // type 3 chunks carry an extended timestamp
	ctrl     []byte // the body of a SetChunkSize or AbortMessage, kept to read its value
}

const handshakeBytes = 1 + 1536 + 1536 // C0, C1, C2

func newGuardedConn(c net.Conn, maxChunk, maxMsgPreAuth, maxMsg uint32) *guardedConn {
	return &guardedConn{Conn: c, maxChunk: maxChunk, maxMsgPreAuth: maxMsgPreAuth, maxMsg: maxMsg,
		handshake: handshakeBytes, chunkSize: 128, streams: make(map[byte]*guardStream)}
}

// Read passes on what the client sent, unless it breaks a limit: then it
// returns nothing of that read and the error, now and on every later call.
func (g *guardedConn) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.Conn.Read(p)
	if n > 0 {
		if perr := g.scan(p[:n]); perr != nil {
			g.err = perr
			return 0, perr
		}
	}
	return n, err
}

func (g *guardedConn) maxMessage() uint32 {
	if g.authorized.Load() {
		return g.maxMsg
	}
	return g.maxMsgPreAuth
}

// scan advances the parser over b.
func (g *guardedConn) scan(b []byte) error {
	for len(b) > 0 {
		switch {
		case g.handshake > 0:
			if g.handshake == handshakeBytes && b[0] != 3 {
				return fmt.Errorf("%w: RTMP version %d (only plain RTMP, version 3, is accepted)", ErrLimit, b[0])
			}
			k := min(g.handshake, len(b))
			g.handshake -= k
			b = b[k:]
		case g.body > 0:
			k := min(g.body, uint32(len(b)))
			if s := g.cur; s.ctrl != nil && len(s.ctrl) < 4 {
				s.ctrl = append(s.ctrl, b[:min(int(k), 4-len(s.ctrl))]...)
			}
			g.body -= k
			b = b[k:]
			if g.body == 0 {
				if err := g.endChunk(); err != nil {
					return err
				}
			}
		default:
			if g.need == 0 {
				g.need = 1
				g.hdr = g.hdr[:0]
			}
			k := min(g.need-len(g.hdr), len(b))
			g.hdr = append(g.hdr, b[:k]...)
			b = b[k:]
			if len(g.hdr) == g.need {
				if err := g.header(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// header reads the chunk header collected in g.hdr, asking for more bytes
// (g.need) until it is whole, then starts the chunk's body.
func (g *guardedConn) header() error {
	fmtType := g.hdr[0] >> 6
	csid := g.hdr[0] & 0x3f
	if csid < 2 {
		return fmt.Errorf("%w: extended chunk stream ids are not supported", ErrLimit)
	}
	size := [4]int{12, 8, 4, 1}[fmtType]
	if len(g.hdr) < size {
		g.need = size
		return nil
	}
	s := g.streams[csid]
	if s == nil {
		s = &guardStream{}
		g.streams[csid] = s
	}
	// The timestamp (type 0) or delta (types 1, 2) field; 0xFFFFFF means
	// 4 more bytes follow. Type 3 carries them when the stream's last
	// header did, as gortmplib decides it.
	extended := false
	switch fmtType {
	case 0, 1, 2:
		extended = uint32(g.hdr[1])<<16|uint32(g.hdr[2])<<8|uint32(g.hdr[3]) >= 0xffffff
	case 3:
		extended = s.extended
	}
	if extended && len(g.hdr) < size+4 {
		g.need = size + 4
		return nil
	}
	g.need = 0
	ts := uint32(0)
	if extended {
		ts = binary.BigEndian.Uint32(g.hdr[size:])
	}

	var bodyLen uint32
	switch fmtType {
	case 0, 1:
		if s.recv != 0 {
			return fmt.Errorf("%w: new message header in the middle of a message", ErrLimit)
		}
		if fmtType == 1 && !s.started {
			return fmt.Errorf("%w: type 1 chunk without a previous chunk", ErrLimit)
		}
		s.started = true
		s.length = uint32(g.hdr[4])<<16 | uint32(g.hdr[5])<<8 | uint32(g.hdr[6])
		s.typ = g.hdr[7]
		if extended {
			s.extended = ts >= 0xffffff
		} else {
			s.extended = false
		}
		if max := g.maxMessage(); s.length > max {
			return fmt.Errorf("%w: a message of %d bytes (limit %d)", ErrLimit, s.length, max)
		}
		bodyLen = min(s.length, g.chunkSize)
	case 2:
		if !s.started {
			return fmt.Errorf("%w: type 2 chunk without a previous chunk", ErrLimit)
		}
		if s.recv != 0 {
			return fmt.Errorf("%w: new message header in the middle of a message", ErrLimit)
		}
		s.extended = extended && ts >= 0xffffff
		bodyLen = min(s.length, g.chunkSize)
	case 3:
		if s.recv != 0 {
			bodyLen = min(s.length-s.recv, g.chunkSize)
		} else {
			if !s.started {
				return fmt.Errorf("%w: type 3 chunk without a previous chunk", ErrLimit)
			}
			bodyLen = min(s.length, g.chunkSize)
		}
	}
	if s.recv == 0 { // a new message: keep the body of the control messages that change how to read
		s.ctrl = nil
		if s.typ == 1 || s.typ == 2 {
			s.ctrl = make([]byte, 0, 4)
		}
	}
	s.recv += bodyLen
	g.cur = s
	g.body = bodyLen
	if bodyLen == 0 {
		return g.endChunk()
	}
	return nil
}

// endChunk finishes the current chunk; at the end of a message it applies
// what gortmplib will apply: a new chunk size, an aborted chunk stream.
func (g *guardedConn) endChunk() error {
	s := g.cur
	if s.recv < s.length {
		return nil
	}
	s.recv = 0
	if s.length != 4 || len(s.ctrl) != 4 {
		return nil
	}
	v := binary.BigEndian.Uint32(s.ctrl)
	switch s.typ {
	case 1: // SetChunkSize
		if v == 0 || v > g.maxChunk {
			return fmt.Errorf("%w: chunk size %d (limit %d)", ErrLimit, v, g.maxChunk)
		}
		g.chunkSize = v
	case 2: // AbortMessage
		if v >= 2 && v <= 63 {
			if a := g.streams[byte(v)]; a != nil {
				a.recv = 0
			}
		}
	}
	return nil
}
