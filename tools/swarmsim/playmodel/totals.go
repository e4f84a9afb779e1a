package playmodel

import (
	"time"

	"github.com/shoal-live/shoal/tools/swarmsim/hist"
)

// Rebuffering sums the players' stalls, as the simulator and swarmload
// report them.
type Rebuffering struct {
	Ratio          float64 `json:"ratio"` // stalled / watch time
	StalledSeconds float64 `json:"stalledSeconds"`
	WatchSeconds   float64 `json:"watchSeconds"`
	Stalls         int     `json:"stalls"`
	ViewersStalled int     `json:"viewersStalled"`
	SkippedChunks  int     `json:"skippedChunks"`
	Jumps          int     `json:"jumps"` // catch-up jumps of a playhead far behind its target
	PlayedChunks   int     `json:"playedChunks"`
}

// Totals adds up what many players saw. The zero value is empty.
type Totals struct {
	Started                                      int // players that started
	watch, stalled                               int64
	stalls, skipped, jumps, played, viewersStall int
}

// Add counts a player finished at until, if it started.
func (t *Totals) Add(st Stats, until int64) {
	if !st.Started {
		return
	}
	t.watch += until - st.StartAt
	t.stalled += st.Stalled
	t.stalls += st.Stalls
	t.skipped += st.Skipped
	t.jumps += st.Jumps
	t.played += st.Played
	if st.Stalled > 0 {
		t.viewersStall++
	}
	t.Started++
}

// Rebuffering summarises the totals.
func (t *Totals) Rebuffering() Rebuffering {
	r := Rebuffering{
		StalledSeconds: hist.Round(time.Duration(t.stalled).Seconds()),
		WatchSeconds:   hist.Round(time.Duration(t.watch).Seconds()),
		Stalls:         t.stalls, ViewersStalled: t.viewersStall,
		SkippedChunks: t.skipped, Jumps: t.jumps, PlayedChunks: t.played,
	}
	if t.watch > 0 {
		r.Ratio = hist.Round(float64(t.stalled) / float64(t.watch))
	}
	return r
}
