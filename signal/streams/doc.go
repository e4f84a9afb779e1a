// Package streams owns every stream this server knows, from first publish
// to idle stop: which streams exist, each one's origin (started for a
// publisher, stopped after Config.Idle without one), its ingest session
// (one publisher at a time, and the studio's "end stream"), its ingest
// status with the public text of its last error, whether it is live, and
// how many watch it (asked of the tracker). Pages, the JSON APIs, chat and
// the signaling loop ask a *Streams; nothing else starts or stops an
// origin or writes a status. Two questions have one answer each, here:
// "does this stream exist?" is Exists (Lookup adds its row in the store),
// and "is it live?" is State.Live.
//
//	s := streams.New(streams.Config{Store: db, Tracker: tr, Join: serveOrigin, Keys: keys})
//	go s.Run(ctx) // origins started later run under ctx; Run returns once they stopped
//	in, err := s.Begin("live", "rtmp") // a publisher arrives: its origin starts if need be
//	in.Init(mime, init, 1280, 720)
//	in.Fragment(f)
//	in.End(nil) // the origin idles, then stops
//	st := s.State("live") // status, live, newest chunk, viewers
//	row, ok, err := s.Lookup(ctx, "live") // exists? and its row in the store, if any
//
// # Lock discipline
//
// One mutex guards every stream's record: the origin that runs, its ingest
// session, its status. A publisher's check (is the stream free?) and claim
// (it is mine) happen under it, as do starting and stopping origins, so an
// RTMP and a WHIP publisher cannot both get in and a publisher cannot
// arrive at an origin being stopped; every status change is one
// read-modify-write under it. Under it the package may take an origin's
// own lock (origin methods) and the store's, never the tracker's: viewer
// counts are read after it is released.
//
// It imports the origin, the ingest packages (for their sentinel errors),
// the store's types and shared/; never the root package, the studio or the
// tracker (it declares the narrow Tracker and Store it needs).
package streams
