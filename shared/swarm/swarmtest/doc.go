// Package swarmtest runs scripted interactions with one swarm engine: the
// handler behind the data-driven transcripts in shared/swarm/testdata (the
// shape of etcd-io/raft's rafttest). A transcript feeds the engine events
// at given times, one command per event kind, and records the actions it
// returns, in order:
//
//	engine stripes=2 join-backlog=2
//	----
//	ok
//
//	connect p at=0s
//	----
//	(no actions)
//
//	recv from=p status newest=99 depth=(0,0)
//	----
//	(no actions)
//
//	tick until=1s
//	----
//	0.050s -> p Subscribe stripe=0 slots=1
//	…
//
// Commands, one handler file each: engine (cmd_engine.go), connect and
// disconnect (cmd_connect.go), recv (cmd_recv.go), publish (cmd_publish.go),
// fetched and fetch-failed (cmd_fetched.go), live (cmd_live.go), cover
// (cmd_cover.go), tick (cmd_tick.go) and stats (cmd_stats.go). Every
// command but engine and stats takes at=DURATION, the time since the start
// of the transcript at which the event happens (default: when the last one
// did; time never goes back). Status sends are left out unless the engine was made with
// show-status: they go to every neighbour every StatusInterval and would
// bury what a transcript is about.
//
// Regenerate the expected output with
//
//	go test ./shared/swarm -run TestInteraction -rewrite
//
// and review the diff.
package swarmtest
