// Package signal is the Shoal server: it serves the pages and the browser
// peer, runs the tracker behind the signaling WebSocket, and wires the
// streams (package streams: each stream's origin peer, ingest session and
// status) to the RTMP and WHIP ingests, the chat and the studio.
//
//	srv, err := signal.New(signal.Config{DemoStream: "demo"}, frontend.FS)
//	...
//	err = srv.Serve(ctx, listener) // until ctx ends, then shuts down gracefully
//
// The routes are all in routes.go.
package signal
