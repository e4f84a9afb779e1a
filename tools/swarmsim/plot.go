package main

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/shoal-live/shoal/tools/swarmsim/sim"
)

// writePNG draws the latency CDF and the offload over time side by side.
func writePNG(path string, r *sim.Report) error {
	cdf := plot.New()
	cdf.Title.Text = "Latency behind live at playback (targets: p50 2 s, p95 3 s)"
	cdf.X.Label.Text = "latency (s)"
	cdf.Y.Label.Text = "share of chunks played"
	cdf.X.Min, cdf.Y.Min, cdf.Y.Max = 0, 0, 1
	cdf.Add(plotter.NewGrid())
	pts := make(plotter.XYs, 0, len(r.LatencyCDF))
	for _, p := range r.LatencyCDF {
		pts = append(pts, plotter.XY{X: p.X / 1000, Y: p.Y})
	}
	if len(pts) > 0 {
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
		l.Width = vg.Points(1.5)
		cdf.Add(l)
	}
	for _, t := range []float64{2, 3} {
		target, err := plotter.NewLine(plotter.XYs{{X: t, Y: 0}, {X: t, Y: 1}})
		if err != nil {
			return err
		}
		target.Color = color.Gray{Y: 0x99}
		target.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		cdf.Add(target)
	}

	off := plot.New()
	off.Title.Text = "Offload over time"
	off.X.Label.Text = "simulated time (s)"
	off.Y.Label.Text = "share of payload from peers"
	off.Y.Min, off.Y.Max = 0, 1
	off.Add(plotter.NewGrid())
	series := make(plotter.XYs, 0, len(r.Series))
	for _, s := range r.Series {
		if s.Offload > 0 || s.Viewers > 0 {
			series = append(series, plotter.XY{X: s.T, Y: s.Offload})
		}
	}
	if len(series) > 0 {
		l, err := plotter.NewLine(series)
		if err != nil {
			return err
		}
		l.Color = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
		l.Width = vg.Points(1.5)
		off.Add(l)
	}

	const w, h = 12 * vg.Inch, 4.5 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 2, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{{cdf, off}}, tiles, dc)
	cdf.Draw(canvases[0][0])
	off.Draw(canvases[0][1])
	return saveImage(path, img)
}
