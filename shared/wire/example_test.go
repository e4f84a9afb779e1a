package wire_test

import (
	"fmt"

	"github.com/shoal-live/shoal/shared/wire"
)

func Example() {
	// Sender: encode into a reused buffer, one frame per data channel message.
	var buf []byte
	buf = wire.Chunk{
		Seq:       42,
		Timestamp: 1700000000000,
		Flags:     wire.FlagKeyframe,
		Payload:   []byte("media"),
	}.AppendEncode(buf[:0])
	fmt.Printf("%d bytes: % x\n", len(buf), buf[:2])

	// Receiver: decode and dispatch on the value type.
	m, err := wire.Decode(buf)
	if err != nil {
		fmt.Println("disconnect:", err)
		return
	}
	switch m := m.(type) {
	case wire.Chunk:
		fmt.Printf("%s %d at %d keyframe=%v: %s\n", m.Type(), m.Seq, m.Timestamp, m.Flags&wire.FlagKeyframe != 0, m.Payload)
	default:
		fmt.Println("unexpected", m.Type())
	}

	// Bad input is an error, never a panic.
	_, err = wire.Decode(buf[:10])
	fmt.Println(err)

	// Output:
	// 28 bytes: 01 04
	// Chunk 42 at 1700000000000 keyframe=true: media
	// wire: decode Chunk: message truncated: header needs 21 bytes, have 8
}
