package whip

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzSplitAVCC checks the splitter of depacketized H.264 from the
// broadcaster: it never panics or reads out of bounds, and what it accepts
// re-joins to its input.
func FuzzSplitAVCC(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 1, 0x65})
	f.Add([]byte{0, 0, 0, 2, 0x67, 0x42, 0, 0, 0, 1, 0x68})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1})
	f.Add([]byte{0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		nalus, err := splitAVCC(b)
		if err != nil {
			return
		}
		var re []byte
		for _, n := range nalus {
			re = binary.BigEndian.AppendUint32(re, uint32(len(n)))
			re = append(re, n...)
		}
		if !bytes.Equal(re, b) {
			t.Fatalf("splitAVCC(%x) does not re-join to its input", b)
		}
	})
}

// FuzzParseOffer feeds WHIP offers (the body of an authenticated POST) to
// the offer checker: errors are fine, panics are not.
func FuzzParseOffer(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"))
	f.Add([]byte("v=0\r\n"))
	f.Add([]byte("m=video 0 RTP/AVP 96\r\na=fmtp:96 ;;==\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := parseOffer(raw)
		if err == nil && len(o.h264) == 0 {
			t.Fatalf("parseOffer accepted an offer without H.264")
		}
	})
}
