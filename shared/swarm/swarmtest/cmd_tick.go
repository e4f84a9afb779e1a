package swarmtest

import (
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/shoal-live/shoal/shared/swarm"
)

// handleTick lets time pass:
//
//	tick [at=D]                     one Tick
//	tick until=D [every=D]          a Tick every 50 ms (or every) after the
//	                                last event, up to and including until
//
// With until, each action is prefixed with the time of its Tick: that is
// how transcripts pin timings (a repair RepairAfter after a chunk was
// known, a fetch FallbackAfter after).
func (env *Env) handleTick(t *testing.T, d *datadriven.TestData) string {
	t.Helper()
	env.at(t, d)
	if !d.HasArg("until") {
		return env.step(swarm.Tick{})
	}
	until := duration(t, d, "until")
	every := 50 * time.Millisecond
	if d.HasArg("every") {
		every = duration(t, d, "every")
	}
	if until < env.now {
		d.Fatalf(t, "until=%v is before the last event (%v)", until, env.now)
	}
	var out []string
	for env.now+every <= until {
		env.now += every
		for _, l := range env.stepRaw(swarm.Tick{}) {
			out = append(out, formatTime(env.now)+" "+l)
		}
	}
	return env.lines("", out)
}
