package swarm_test

import (
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/shoal-live/shoal/shared/swarm/swarmtest"
)

// TestInteraction runs the transcripts in testdata/ (package swarmtest
// documents the commands). After a deliberate change of behaviour,
// regenerate them with -rewrite and review the diff:
//
//	go test ./shared/swarm -run TestInteraction -rewrite
func TestInteraction(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		env := swarmtest.New()
		datadriven.RunTest(t, path, env.Handle)
	})
}
