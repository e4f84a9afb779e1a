package cmaf_test

import (
	"fmt"
	"time"

	"github.com/shoal-live/shoal/signal/cmaf"
)

// Repackage half a second of 30 fps H.264 with an IDR every 10 frames into
// 200 ms fragments.
func Example() {
	m, err := cmaf.NewMuxer(cmaf.Config{
		Video: &cmaf.H264{SPS: [][]byte{testSPS}, PPS: [][]byte{testPPS}},
		OnFragment: func(f cmaf.Fragment) {
			fmt.Printf("fragment %d: %v+%v keyframe=%v\n", f.Seq, f.Start, f.Duration, f.Keyframe)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.MIME())
	for i := range 15 {
		t := time.Duration(i) * time.Second / 30
		slice := []byte{0x41, 0x9a} // non-IDR slice
		if i%10 == 0 {
			slice = []byte{0x65, 0x88} // IDR slice
		}
		if err := m.WriteVideo(t, t, [][]byte{slice}); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := m.Flush(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// video/mp4; codecs="avc1.640020"
	// fragment 1: 0s+200ms keyframe=true
	// fragment 2: 200ms+133.333333ms keyframe=false
	// fragment 3: 333.333333ms+166.666666ms keyframe=true
}
