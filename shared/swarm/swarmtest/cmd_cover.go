package swarmtest

import (
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/shoal-live/shoal/shared/swarm"
)

// handleCover passes on the player's word that it has every chunk before
// a sequence number from elsewhere (its HTTP feed):
//
//	cover before=N [at=D]
func (env *Env) handleCover(t *testing.T, d *datadriven.TestData) string {
	t.Helper()
	env.at(t, d)
	var ev swarm.Covered
	d.ScanArgs(t, "before", &ev.Before)
	return env.step(ev)
}
