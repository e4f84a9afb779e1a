// Package sim is a discrete-event simulator that drives Shoal's real swarm
// engine (shared/swarm) and real tracker (signal/tracker) on a virtual
// clock, to measure what a swarm of thousands of browsers would see.
//
//	sc, _ := sim.Preset("steady")
//	sc.Peers, sc.Duration = 300, sim.Duration(time.Minute)
//	rep, err := sim.Run(sc, sim.Options{})
//	fmt.Println(rep.LatencyMs.P50, rep.Offload)
//
// # What it models
//
//   - One origin engine (Config{Origin: true}) fed a chunk every
//     ChunkInterval, and one engine per viewer, each with its own seeded
//     Rand. Every engine event goes through Engine.Step with the virtual
//     time, and every action is carried out in order, as shared/node does.
//   - The real tracker, in memory: joins, leaves, neighbour introductions,
//     offer/answer relays and drops go through tracker.Tracker; its
//     messages reach a peer after the peer's signaling latency. The data
//     channel opens ConnectRTTs link round trips after the answer reaches
//     the initiator. A share of viewer pairs (NAT) never connects: both
//     ends declare the connection failed after NATFailAfter and report a
//     drop to the tracker, which introduces replacements, as the driver
//     does.
//   - Latency: each peer draws a one-way latency L uniformly from
//     [LatencyMin, LatencyMax]; a link between a and b has one-way latency
//     (La+Lb)/2, the sum of both ends' halves, and the server (tracker,
//     origin, HTTP) counts as a peer with ServerLatency.
//   - Capacity: each viewer's upload (drawn from UploadMix) and download
//     (DownloadMult) are FIFO serialisation queues. A message of n bytes
//     occupies the sender's upload for n/rate; it reaches the receiver
//     after the link latency and then shares the receiver's download FIFO
//     in order of arrival of its last byte, pipelined with the upload (a
//     receiver faster than the sender adds no second serialisation delay).
//     Messages on one channel are delivered in order. Every message costs
//     its wire.EncodedLen plus 28 bytes (SCTP/DTLS/UDP/IP headers). The
//     origin's upload is capped at OriginCopies × the stream rate.
//   - Send buffers: a chunk Send to a channel that already has MaxBuffered
//     bytes waiting in the upload queue is dropped and counted, as
//     shared/node drops it on the data channel's BufferedAmount (which
//     now allows 1.5 s of the stream, not a fixed 4 MiB: see
//     Scenario.MaxBuffered).
//   - Fallback fetches go to the origin's HTTP side: one request latency,
//     an optional HTTP capacity (OriginHTTP, unlimited by default, peak
//     reported), 300 bytes of HTTP headers, and the viewer's download.
//     Chunks not yet published, or more than 128 behind (the origin
//     store), fail.
//   - Loss: per packet (1200 bytes). The data channel is reliable and
//     ordered, so by default a lost packet delays its message by one link
//     RTT (a fast retransmission) and holds the messages behind it;
//     LossMode "drop" instead loses the message, to stress the engine's
//     timeouts.
//   - Churn: leaving viewers close their channels (neighbours notice one
//     link latency later and tell the tracker, as the driver does) and
//     their signaling connection (the tracker's Leave). Queued uploads that
//     had not left the sender are lost.
//   - A player per viewer: package playmodel's model of
//     frontend/lib/player.js (join point, startup, rate steering, adaptive
//     target latency, catch-up jumps, stalls), with the run's chunk k
//     published at k·ChunkInterval and a keyframe chunk every
//     KeyframeInterval (1 s). Sequence numbers start at the run's start
//     time in milliseconds, as signal/origin numbers them.
//   - Joins and the live edge: the tracker's welcome carries the newest
//     chunk and the newest keyframe chunk published, which the engine gets
//     as a Live event (see package swarm); the origin reports every chunk
//     to the tracker (tracker.Live), which passes "live" messages on to
//     the viewers as the server's does.
//   - Isolated viewers (Isolated): every WebRTC link of theirs, to the
//     origin too, fails after NATFailAfter, as with UDP blocked; they play
//     from HTTP fallback alone, and the report gives their figures apart.
//
// # What it does not model
//
// Congestion control and cross traffic (a link runs at its capacity or
// not at all), SCTP message interleaving (a channel is a FIFO), TURN relays
// (a NAT-blocked pair simply fails), the ICE candidate trickle (only offer
// and answer are relayed), CPU limits of browsers, clock skew between
// peers, signaling rate limits and the tracker's slow-session drop, the
// server's HTTP connection set-up, the real player's skipping of a chunk
// missing over 1 s (the model player waits for it), and abrupt departures
// (every leave is a clean close). CPU limits matter: tools/swarmload found
// the real swarm collapsing on an overloaded machine (docs/BENCHMARKS.md).
//
// # Determinism
//
// One math/rand/v2 PCG source seeded from Scenario.Seed draws the
// scenario (join times, capacities, latencies, losses); each engine gets
// its own PCG seeded from the seed and the peer's index; events run in
// (time, sequence number) order; no map is iterated where order matters.
// tracker.Leave refills orphaned neighbours in map order, so a leave is
// preceded by Drop calls, in id order, for every neighbour that would need
// a refill; Leave then has at most one to refill (see trackerLeave).
package sim
