// Package whip is Shoal's WebRTC ingest (WHIP, RFC 9725): OBS 30+ (service
// "WHIP"), browsers and tools/whipclient publish H.264 and Opus over a pion
// PeerConnection, and each session is repackaged by a [cmaf.Muxer] into
// init segments and fragments handed to a [Sink].
//
//	h, err := whip.New(whip.Config{
//		Authorize: func(stream, key string) bool { return keys.Match(stream, key) },
//		Sink:      fanout, // Begin(stream) returns the per-session consumer
//		Logger:    logger,
//	})
//	if err != nil { ... }
//	defer h.Close() // ends every session
//	r.Handle("/api/whip/*", h) // chi; or mux.Handle("/api/whip/", h)
//
// The Handler routes by itself under [Config.BasePath] (default /api/whip):
//
//	POST    /api/whip/{stream}               offer in, 201 + answer + Location
//	DELETE  /api/whip/{stream}/{session}     ends the session, 200
//	OPTIONS either                           204, CORS preflight for AllowedOrigins
//	PATCH   /api/whip/{stream}/{session}     405: no trickle ICE, no ICE restart
//
// A POST goes through these steps, answered with the first that fails:
//
//  1. Authorization: Bearer <key>, checked by Config.Authorize: else 401
//     with WWW-Authenticate: Bearer. The key is never logged.
//  2. Content-Type: application/sdp (else 415) and a body of at most
//     Config.MaxOfferBytes (else 413).
//  3. The offer must parse (else 400) and send H.264 in packetization mode
//     1, any profile (else 406, naming what was offered). Opus audio is
//     taken if offered; other codecs are refused in the answer.
//  4. Sink.Begin: an error wrapping [ErrBusy] gives 409, any other 503.
//  5. The answer is sent once ICE gathering completes (no trickle), or
//     after Config.GatherTimeout with the candidates found so far: 201,
//     Content-Type: application/sdp, Location: /api/whip/{stream}/{id}.
//
// # Media
//
// Packets are reordered and depacketized by pion's samplebuilder (NACK asks
// for lost ones). Timestamps come from RTP (90 kHz video, 48 kHz Opus),
// unwrapped, each track anchored at the arrival of its first packet on a
// timeline that starts at the POST. SPS and PPS are taken from the stream
// (WebRTC senders repeat them before each IDR); a muxer starts at the first
// IDR, and a keyframe is requested (PLI) when the video track starts, every
// Config.PLIInterval until that IDR, and after packet loss. When the
// parameter sets change (a new resolution), the muxer is flushed and a new
// one starts at the next IDR with Session.Init. Video has no B-frames in
// WebRTC, so decode time is presentation time.
//
// A session ends on DELETE (Session.End(nil)), when the PeerConnection
// fails or closes ([ErrConnectionFailed]), when no media arrived for
// Config.MediaTimeout ([ErrMediaTimeout]), on a muxer error, or at
// [Handler.Close] ([ErrServerClosed]); buffered media is flushed first, and
// one log line reports the outcome. Session methods run on the session's
// goroutine, in order: a Session must hand fragments to a bounded queue
// rather than block.
package whip
