// Package swarm is Shoal's swarm engine: the logic that decides which stream
// chunks a peer asks for, from whom, what it tells its neighbours, and when
// it gives up on the swarm and fetches a chunk from the origin.
//
// The engine is sans-IO, in the manner of etcd's raft: it owns no
// goroutines, sockets, timers or clocks. A driver feeds it events with the
// current time and carries out the actions it returns, in order:
//
//	e, err := swarm.New(swarm.Config{Rand: rand.New(rand.NewPCG(1, 2))})
//	...
//	if err := e.Step(now, swarm.MessageReceived{From: id, Msg: msg}); err != nil {
//		// a driver bug: the event was impossible
//	}
//	for _, a := range e.Ready() {
//		switch a := a.(type) {
//		case swarm.Send:       // write a.Msg to the data channel of a.To
//		case swarm.Fetch:      // fetch chunk a.Seq from the origin over HTTP
//		case swarm.Deliver:    // hand a.Chunk to the player
//		case swarm.Disconnect: // close the connection to a.Peer
//		}
//	}
//
// The same engine runs in the browser (wasm/), in native peers and the
// server's origin (shared/node) and in the simulator on a virtual clock.
//
// # Protocol v1: stripe push trees with pull repair
//
// The stream is cut into Config.Stripes stripes (chunk Seq belongs to
// stripe Seq mod Stripes). Each peer takes every stripe from one parent,
// found by Subscribe and confirmed by Accept, and pushes each chunk it gets
// to its children in that stripe the moment it has it; the origin roots
// every stripe's tree at depth 0 with its Slots. Every peer sends each
// neighbour a Status (its newest chunk, a bitmap of which of the 64 chunks
// up to and including that one it holds, free slots, its depth per
// stripe) when the channel opens and every
// StatusInterval, which is how parents are chosen and holes seen. A chunk
// known to exist and missing for RepairAfter is requested from a neighbour
// that holds it (Request, answered by Chunk or NotFound), again from
// another after RequestTimeout, and fetched from the origin over HTTP
// after FallbackAfter (1.2 s by default); a peer without any parent for
// LonelyAfter fetches every chunk as it falls due. A parent that pushes
// nothing for StarveRounds rounds, or a path deeper than MaxDepth, is left.
// The engine drops the wire messages reserved in shared/wire/wire.go.
// docs/PROTOCOL.md §3 gives the whole protocol and the figures behind each
// default.
package swarm
