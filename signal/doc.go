// Package signal is the Shoal server: it serves the pages and the browser
// peer, runs the tracker behind the signaling WebSocket, and runs an origin
// peer per live stream that seeds the swarm and answers fallback fetches.
//
//	srv, err := signal.New(signal.Config{DemoStream: "demo"}, frontend.FS)
//	...
//	err = srv.Serve(ctx, listener) // until ctx ends, then shuts down gracefully
//
// The routes are all in routes.go.
package signal
