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
// # Protocol v0
//
// Peers announce what they hold with a BufferMap when a data channel opens
// and a Have for every chunk they get afterwards. A peer requests a missing
// chunk from a random neighbour that announced it, re-requests it from
// another after RequestTimeout, and fetches it from the origin once it has
// been known missing for FallbackAfter. The origin never announces; it
// pushes each new chunk to OriginFanout of its neighbours in turn, and the
// swarm spreads it from there. See docs/PROTOCOL.md.
package swarm
