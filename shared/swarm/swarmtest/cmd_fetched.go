package swarmtest

import (
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/shoal-live/shoal/shared/swarm"
)

// handleFetched reports that a Fetch got its chunk from the origin:
//
//	fetched SEQ [key] [at=D]
func (env *Env) handleFetched(t *testing.T, d *datadriven.TestData) string {
	t.Helper()
	env.at(t, d)
	return env.step(swarm.Fetched{Chunk: env.Chunk(seqArg(t, d), d.HasArg("key"))})
}

// handleFetchFailed reports that a Fetch failed (the origin does not have
// the chunk, yet or any more):
//
//	fetch-failed SEQ [at=D]
func (env *Env) handleFetchFailed(t *testing.T, d *datadriven.TestData) string {
	t.Helper()
	env.at(t, d)
	return env.step(swarm.FetchFailed{Seq: seqArg(t, d)})
}
