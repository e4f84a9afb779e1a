// Package rtmp is Shoal's RTMP ingest: broadcasters (OBS, ffmpeg, hardware
// encoders) publish H.264 and AAC to rtmp://host/live/<stream key>, and each
// publish session is repackaged by a [cmaf.Muxer] into an init segment and
// fragments handed to a [Sink].
//
//	srv, err := rtmp.New(rtmp.Config{
//		Authorize: func(key string) (string, bool) { return streams.ByKey(key) },
//		Sink:      fanout, // Start(stream, info) returns the per-session consumer
//		Logger:    logger,
//	})
//	if err != nil { ... }
//	err = srv.ListenAndServe(ctx, rtmp.DefaultAddr) // until ctx ends
//
// A connection goes through these steps, and is closed with one log line at
// the first that fails:
//
//  0. Config.MaxConns and Config.MaxConnsPerAddr (64 and 4) bound the
//     connections served at once; one over either is closed unread, and
//     refusals are logged at most once every 10 s. From the first byte a
//     guard follows the chunk stream and closes the connection, with
//     [ErrLimit], at a chunk size over Config.MaxChunkSize (64 KiB) or a
//     message over 64 KiB before the key is accepted and
//     Config.MaxMessageBytes (8 MiB) after: gortmplib allocates a chunk's
//     body before it arrives, so without these a few bytes could reserve
//     10 MiB.
//  1. RTMP handshake and connect; only publishing is accepted, not playing.
//  2. The path must be /live/<key>, and Config.Authorize must accept the key
//     and name the stream. A refused key gets NetStream.Publish.Unauthorized;
//     the key itself is never logged.
//  3. About two seconds of media are read to find the tracks (gortmplib's
//     analysis). One H.264 video track and/or one AAC audio track are
//     accepted; any other codec fails with [ErrUnsupportedCodec] before the
//     Sink hears of the stream.
//  4. Sink.Start, then Session.Init with the MIME type and the init
//     segment, then Session.Fragment per fragment, then Session.End once.
//     If the broadcaster changes its H.264 parameter sets mid-stream,
//     Session.Init is called again and the fragments after it (starting
//     at a keyframe, Seq restarting at 1) need the new init segment.
//
// Session methods run on the connection's goroutine, in order: a slow
// Session stalls that publisher's TCP stream, so a Session must hand
// fragments to a bounded queue rather than block. Each read waits at most
// Config.ReadTimeout. When the context given to [Server.Serve] ends, the
// listener and every connection are closed, each Session gets
// End([ErrServerClosed]) after its buffered media is flushed, and Serve
// returns once every connection goroutine has finished.
package rtmp
