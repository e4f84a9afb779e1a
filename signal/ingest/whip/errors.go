package whip

import "errors"

// Sentinel errors, wrapped with details; test them with [errors.Is].
var (
	// ErrInvalidConfig reports a Config without Authorize or Sink, or with
	// a negative duration or size.
	ErrInvalidConfig = errors.New("whip: invalid config")
	// ErrBusy is what a Sink wraps to refuse a publisher because the
	// stream already has one: the publisher gets 409 Conflict. Any other
	// Sink error gives 503 Service Unavailable.
	ErrBusy = errors.New("whip: stream already has a publisher")
	// ErrBadOffer reports an SDP offer that does not parse or cannot be
	// answered: 400 Bad Request.
	ErrBadOffer = errors.New("whip: bad SDP offer")
	// ErrNoH264 reports an offer without sendable H.264 video in
	// packetization mode 1: 406 Not Acceptable.
	ErrNoH264 = errors.New("whip: offer has no H.264 video with packetization-mode=1")
	// ErrConnectionFailed is given to Session.End when ICE or DTLS fails
	// or the peer closes the connection.
	ErrConnectionFailed = errors.New("whip: peer connection failed")
	// ErrMediaTimeout is given to Session.End when no media arrived for
	// Config.MediaTimeout.
	ErrMediaTimeout = errors.New("whip: no media")
	// ErrServerClosed is given to Session.End when the Handler closes.
	ErrServerClosed = errors.New("whip: server closed")
)
