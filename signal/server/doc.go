// Package server is the Shoal server: it wires the parts together and
// serves them. It owns the HTTP routes (routes.go), the pages and the
// browser peer's files, the public stream API, the signaling WebSocket and
// its sessions with the tracker, chat connections, per-address limits, and
// the ingest glue (the RTMP listener and the WHIP handler, whose sessions
// are package streams'). Streams (package streams) own each stream's
// lifecycle; the studio (package studio) is mounted behind a narrow
// interface.
//
//	srv, err := server.New(server.Config{DemoStream: "demo"}, frontend.FS)
//	...
//	err = srv.Serve(ctx, listener) // until ctx ends, then shuts down gracefully
package server
