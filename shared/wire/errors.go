package wire

import "errors"

// Sentinel errors. Decode and Validate wrap them with the operation and the
// message type, so test them with [errors.Is].
var (
	// ErrShort reports input that ends before the frame or a field is complete.
	ErrShort = errors.New("message truncated")
	// ErrVersion reports a frame whose version byte is not [Version].
	ErrVersion = errors.New("unsupported protocol version")
	// ErrUnknownType reports a message type this version does not define.
	ErrUnknownType = errors.New("unknown message type")
	// ErrTooLarge reports a frame, count or length over its bound.
	ErrTooLarge = errors.New("length over bound")
	// ErrTrailing reports bytes left over after the body.
	ErrTrailing = errors.New("trailing bytes after message")
	// ErrMalformed reports any other inconsistency, such as nonzero padding
	// bits or a sequence range that overflows uint64.
	ErrMalformed = errors.New("malformed message")
)
