package rtmp

import "errors"

// Sentinel errors, wrapped with details; test them with [errors.Is].
var (
	// ErrInvalidConfig reports a Config without Authorize or Sink.
	ErrInvalidConfig = errors.New("rtmp: invalid config")
	// ErrUnauthorized reports a stream key that Config.Authorize refused.
	ErrUnauthorized = errors.New("rtmp: unknown stream key")
	// ErrBadPath reports a publish URL whose path is not /live/<key>.
	ErrBadPath = errors.New("rtmp: publish path is not /live/<stream key>")
	// ErrPlayNotSupported reports a client that asked to play: the server
	// only ingests.
	ErrPlayNotSupported = errors.New("rtmp: playing is not supported, only publishing")
	// ErrUnsupportedCodec reports a track other than H.264 video or AAC
	// audio, or more than one track of a kind.
	ErrUnsupportedCodec = errors.New("rtmp: unsupported codec")
	// ErrLimit reports a client that broke a limit of the chunk stream:
	// a chunk size or a message over Config's bounds, or a stream the
	// server does not follow (RTMPE, extended chunk stream ids).
	ErrLimit = errors.New("rtmp: over a limit")
	// ErrTooManyConns reports a connection refused by Config.MaxConns or
	// Config.MaxConnsPerAddr.
	ErrTooManyConns = errors.New("rtmp: too many connections")
	// ErrServerClosed is given to Session.End when the server shuts down.
	ErrServerClosed = errors.New("rtmp: server closed")
)
