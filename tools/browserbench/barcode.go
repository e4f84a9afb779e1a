package main

import (
	"fmt"
	"strings"
)

// The frame counter burnt into the top of every frame: a black band with
// two rows of white boxes, one box per bit of the frame number n. In row A
// the box of bit i is white when bit i is set, in row B when it is clear,
// so each bit is read as "A brighter than B" and a pair without contrast
// (a blurred or half-decoded frame) makes the whole reading invalid. The
// boxes are 16×16 and sit on the 16-pixel macroblock grid so that H.264 at
// 1.5 Mbit/s keeps them sharp.
const (
	frameW      = 640
	frameH      = 360
	barBits     = 20 // 2^20 frames: 9.7 hours at 30 fps
	barCell     = 32 // pixels per bit, left to right from bit 0
	barBox      = 16
	barRowA     = 16 // top of row A
	barRowB     = 48 // top of row B
	barBandH    = 80 // the black band behind the boxes
	minContrast = 64 // luma levels between a white and a black box, at least
)

// barFilter is the ffmpeg filter chain that draws the counter, n+offset;
// n in a timeline expression is the frame's number, the same n that
// showinfo prints further down the chain.
func barFilter(offset int) string {
	parts := []string{fmt.Sprintf("drawbox=x=0:y=0:w=%d:h=%d:color=black:t=fill", frameW, barBandH)}
	for i := range barBits {
		bit := fmt.Sprintf("mod(floor((n+%d)/%d),2)", offset, 1<<i)
		x := i * barCell
		parts = append(parts,
			fmt.Sprintf("drawbox=x=%d:y=%d:w=%d:h=%d:color=white:t=fill:enable='%s'", x, barRowA, barBox, barBox, bit),
			fmt.Sprintf("drawbox=x=%d:y=%d:w=%d:h=%d:color=white:t=fill:enable='1-%s'", x, barRowB, barBox, barBox, bit))
	}
	return strings.Join(parts, ",")
}

// barSamplePoints lists where the page reads luma, in the 640×360 picture:
// the centres of row A's boxes for bits 0…barBits-1, then row B's. The page
// (inject.js) averages a 4×4 patch around each point; it gets the points
// from the harness so that the layout lives here only.
func barSamplePoints() [][2]int {
	pts := make([][2]int, 0, 2*barBits)
	for _, top := range []int{barRowA, barRowB} {
		for i := range barBits {
			pts = append(pts, [2]int{i*barCell + barBox/2, top + barBox/2})
		}
	}
	return pts
}

// decodeBar turns the luma read at barSamplePoints into a frame number;
// ok is false when the reading is not a clean counter (wrong length, or a
// bit whose two boxes are too close in brightness).
func decodeBar(luma []float64) (n int, ok bool) {
	if len(luma) != 2*barBits {
		return 0, false
	}
	for i := range barBits {
		a, b := luma[i], luma[barBits+i]
		switch {
		case a-b >= minContrast:
			n |= 1 << i
		case b-a >= minContrast:
		default:
			return 0, false
		}
	}
	return n, true
}
