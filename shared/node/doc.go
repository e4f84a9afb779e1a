// Package node runs a swarm engine over real connections: a signaling Conn
// to the tracker, WebRTC data channels (pion/webrtc) to neighbours and HTTP
// to the origin for fallback fetches. It is the driver that the browser
// peer (wasm/), native peers and the server's origin share; pion/webrtc
// wraps the browser's RTCPeerConnection when built for js/wasm, so the same
// code runs on both.
//
// A Node owns one goroutine, the loop, which is the only one touching the
// engine. WebRTC callbacks and the signaling reader post events to an inbox
// that never blocks, so no JavaScript callback ever waits on Go.
//
//	n, err := node.New(node.Config{Stream: "demo", Signal: conn, Fetch: node.HTTPFetcher(base, nil)})
//	...
//	err = n.Run(ctx) // until ctx ends or signaling fails
package node
