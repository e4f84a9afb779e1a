package swarm

import "errors"

// Errors returned by Step. Each one means the driver fed an impossible
// event; none is caused by what a remote peer sends.
var (
	ErrUnknownPeer   = errors.New("swarm: unknown peer")
	ErrDuplicatePeer = errors.New("swarm: peer already connected")
	ErrNotOrigin     = errors.New("swarm: only an origin engine publishes")
	ErrUnknownEvent  = errors.New("swarm: unknown event type")
	ErrTimeBackward  = errors.New("swarm: time went backwards")
)
