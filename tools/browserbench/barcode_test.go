package main

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"
)

// render paints the counter band of frame n the way ffmpeg would with
// barFilter(offset): it parses the filter's drawbox list and evaluates
// each enable expression for n. Luma 16 is black, 235 white (limited
// range).
func renderOffset(t *testing.T, n, offset int) [][]float64 {
	t.Helper()
	img := make([][]float64, barBandH)
	for y := range img {
		img[y] = make([]float64, frameW)
		for x := range img[y] {
			img[y][x] = 128 // the test pattern under the band
		}
	}
	box := regexp.MustCompile(`drawbox=x=(\d+):y=(\d+):w=(\d+):h=(\d+):color=(black|white):t=fill(?::enable='(1-)?mod\(floor\(\(n\+(\d+)\)/(\d+)\),2\)')?`)
	boxes := box.FindAllStringSubmatch(barFilter(offset), -1)
	if len(boxes) != 1+2*barBits {
		t.Fatalf("barFilter draws %d boxes, want %d", len(boxes), 1+2*barBits)
	}
	for _, m := range boxes {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		w, _ := strconv.Atoi(m[3])
		h, _ := strconv.Atoi(m[4])
		if m[8] != "" {
			off, _ := strconv.Atoi(m[7])
			div, _ := strconv.Atoi(m[8])
			on := ((n + off) / div) % 2
			if m[6] == "1-" {
				on = 1 - on
			}
			if on == 0 {
				continue
			}
		}
		luma := 16.0
		if m[5] == "white" {
			luma = 235
		}
		for yy := y; yy < y+h && yy < barBandH; yy++ {
			for xx := x; xx < x+w && xx < frameW; xx++ {
				img[yy][xx] = luma
			}
		}
	}
	return img
}

// render paints frame n of an encode counting from 0.
func render(t *testing.T, n int) [][]float64 { return renderOffset(t, n, 0) }

// sample reads the band as inject.js does: a 4×4 mean around each point,
// plus noise of ±noise levels.
func sample(img [][]float64, noise float64, rng *rand.Rand) []float64 {
	var out []float64
	for _, p := range barSamplePoints() {
		var sum float64
		for dy := -2; dy < 2; dy++ {
			for dx := -2; dx < 2; dx++ {
				sum += img[p[1]+dy][p[0]+dx]
			}
		}
		out = append(out, sum/16+noise*(2*rng.Float64()-1))
	}
	return out
}

// The filter, the page's sample points and the decoder agree: every frame
// number drawn by barFilter reads back, with compression-like noise.
func TestBarRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ns := []int{0, 1, 2, 3, 30, 1000, 54_000, 123_456, 1<<barBits - 1}
	for range 50 {
		ns = append(ns, rng.IntN(1<<barBits))
	}
	for _, n := range ns {
		got, ok := decodeBar(sample(render(t, n), 40, rng))
		if !ok || got != n {
			t.Errorf("frame %d decoded as %d, ok=%v", n, got, ok)
		}
	}
	// The restart scenario's second encode draws n+restartFrameOffset.
	for _, n := range []int{0, 1, 29, 5_000} {
		got, ok := decodeBar(sample(renderOffset(t, n, restartFrameOffset), 40, rng))
		if !ok || got != n+restartFrameOffset {
			t.Errorf("frame %d of the second encode decoded as %d, ok=%v; want %d", n, got, ok, n+restartFrameOffset)
		}
	}
}

func TestDecodeBarRejects(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	good := sample(render(t, 777), 0, rng)
	cases := map[string][]float64{
		"empty":     nil,
		"too short": good[:2*barBits-1],
		"too long":  append(append([]float64{}, good...), 0),
	}
	flat := make([]float64, 2*barBits)
	for i := range flat {
		flat[i] = 128
	}
	cases["no contrast (a frame without the band)"] = flat
	blurred := append([]float64{}, good...)
	blurred[5], blurred[barBits+5] = 120, 140 // one bit smeared
	cases["one bit without contrast"] = blurred
	for name, luma := range cases {
		if n, ok := decodeBar(luma); ok {
			t.Errorf("%s: decoded as %d, want a misread", name, n)
		}
	}
}

// The boxes stay inside the band and the frame, and the sample points
// inside their boxes with the 4×4 patch.
func TestBarLayout(t *testing.T) {
	if (barBits-1)*barCell+barBox > frameW {
		t.Fatalf("%d bits of %d px do not fit in %d px", barBits, barCell, frameW)
	}
	if barRowB+barBox > barBandH {
		t.Fatalf("row B ends at %d, below the band (%d)", barRowB+barBox, barBandH)
	}
	for i, p := range barSamplePoints() {
		top := barRowA
		if i >= barBits {
			top = barRowB
		}
		left := (i % barBits) * barCell
		if p[0]-2 < left || p[0]+2 > left+barBox || p[1]-2 < top || p[1]+2 > top+barBox {
			t.Errorf("point %d (%d,%d) is not inside its box at (%d,%d)", i, p[0], p[1], left, top)
		}
	}
}
