package cmaf_test

import (
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/cmaf"
)

// FuzzOpusPacketDuration feeds the Opus TOC parser the broadcaster's
// packets (WHIP audio): it must never panic and must stay within Opus's
// 2.5 to 120 ms.
func FuzzOpusPacketDuration(f *testing.F) {
	for _, seed := range [][]byte{{}, {0x78}, {0xfc, 0xff, 0xfe}, {0x03}, {0x03, 0x00}, {0x0b, 0x30}, {0xfb, 0x3f}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, packet []byte) {
		d, err := cmaf.OpusPacketDuration(packet)
		if err != nil {
			return
		}
		if d < 2500*time.Microsecond || d > 120*time.Millisecond {
			t.Fatalf("OpusPacketDuration(%x) = %v, outside 2.5..120 ms", packet, d)
		}
	})
}
