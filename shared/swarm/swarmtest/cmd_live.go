package swarmtest

import (
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/shoal-live/shoal/shared/swarm"
)

// handleLive passes on the tracker's word on the live edge:
//
//	live newest=N [keyframe=N] [from=N] [at=D]
func (env *Env) handleLive(t *testing.T, d *datadriven.TestData) string {
	t.Helper()
	env.at(t, d)
	var ev swarm.Live
	d.ScanArgs(t, "newest", &ev.Newest)
	d.MaybeScanArgs(t, "keyframe", &ev.Keyframe)
	d.MaybeScanArgs(t, "from", &ev.From)
	return env.step(ev)
}
