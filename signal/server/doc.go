// Package server is the Shoal server: it wires the parts together and
// serves them, and holds little of its own. It owns Config and its
// defaults (Defaults, most of them the parts' own), the routes (all in
// routes.go) and the middleware stack around them, the server's start and
// graceful stop (Serve), and the glue no part can own alone: the ingest
// sinks that begin a streams.Session for each RTMP and WHIP publish (and
// the demo clip's), the demo stream's feed, the chat hub's store salt, the
// signed-in account of a chat connection, and the studio's view of the
// streams. Each job is a package of its own:
//
//   - streams: each stream's lifecycle, existence and live state;
//   - rendezvous: the signaling WebSocket and the origins' pipes (swarm
//     peers with the tracker, chat connections), and its limits;
//   - streamapi: the public stream API (/api/streams…);
//   - pages: the pages, the browser peer's files, the embed page, the CSP;
//   - clientip and httplimit: who sent a request, and the HTTP limits;
//   - studio, chat, tracker, origin, ingest/rtmp, ingest/whip, demo.
//
// Use:
//
//	srv, err := server.New(server.Config{DemoStream: "demo"}, frontend.FS)
//	...
//	err = srv.Serve(ctx, listener) // until ctx ends, then shuts down gracefully
package server
