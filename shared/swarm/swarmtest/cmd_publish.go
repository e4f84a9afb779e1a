package swarmtest

import (
	"strconv"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/shoal-live/shoal/shared/swarm"
)

// handlePublish hands an origin engine a new chunk from the stream source:
//
//	publish SEQ [key] [at=D]
func (env *Env) handlePublish(t *testing.T, d *datadriven.TestData) string {
	t.Helper()
	env.at(t, d)
	return env.step(swarm.Published{Chunk: env.Chunk(seqArg(t, d), d.HasArg("key"))})
}

// seqArg reads the first bare numeric argument.
func seqArg(t *testing.T, d *datadriven.TestData) uint64 {
	t.Helper()
	for _, a := range d.CmdArgs {
		if len(a.Vals) == 0 {
			if v, err := strconv.ParseUint(a.Key, 10, 64); err == nil {
				return v
			}
		}
	}
	d.Fatalf(t, "%s: which chunk?", d.Cmd)
	return 0
}
