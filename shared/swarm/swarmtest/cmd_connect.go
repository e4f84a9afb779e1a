package swarmtest

import (
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/shoal-live/shoal/shared/swarm"
)

// handleConnect opens a data channel to a neighbour:
//
//	connect PEER [origin] [at=D]
//
// origin says the tracker named it the stream's origin.
func (env *Env) handleConnect(t *testing.T, d *datadriven.TestData) string {
	t.Helper()
	env.at(t, d)
	return env.step(swarm.PeerConnected{Peer: peerArg(t, d, "peer"), Origin: d.HasArg("origin")})
}

// handleDisconnect closes the data channel to a neighbour:
//
//	disconnect PEER [at=D]
func (env *Env) handleDisconnect(t *testing.T, d *datadriven.TestData) string {
	t.Helper()
	env.at(t, d)
	return env.step(swarm.PeerDisconnected{Peer: peerArg(t, d, "peer")})
}
