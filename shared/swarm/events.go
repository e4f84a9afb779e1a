package swarm

import "github.com/shoal-live/shoal/shared/wire"

// PeerID names a neighbour. The tracker assigns it; the engine treats it as
// opaque.
type PeerID string

// Event is something that happened to the peer. The set is closed: the
// engine accepts exactly the types in this file.
type Event interface{ isEvent() }

// PeerConnected reports that a data channel to Peer is open. Origin is true
// when the tracker said Peer is the stream's origin.
type PeerConnected struct {
	Peer   PeerID
	Origin bool
}

// PeerDisconnected reports that the data channel to Peer is gone.
type PeerDisconnected struct{ Peer PeerID }

// MessageReceived carries a decoded wire message from a neighbour.
type MessageReceived struct {
	From PeerID
	Msg  wire.Message
}

// Published hands a new chunk from the stream source to an origin engine.
type Published struct{ Chunk wire.Chunk }

// Fetched carries a chunk that a Fetch action got from the origin.
type Fetched struct{ Chunk wire.Chunk }

// FetchFailed reports that a Fetch action for Seq failed.
type FetchFailed struct{ Seq uint64 }

// Live tells a peer where the live edge is, as the tracker says: Newest is
// the newest chunk the origin holds, Keyframe the newest keyframe chunk at
// or before it (0: not known). The tracker's welcome carries one, and its
// "live" messages more later.
//
// A peer that has not started yet starts at Keyframe or JoinBacklog chunks
// behind Newest, whichever is older (at most 3/4 of Window behind), and
// fetches from there to Newest from the origin at once, unless
// Config.NoJoinFetch: the first frames need not wait for data channels to
// open. A started peer takes Newest as the anchor from which it predicts
// when the next chunks are due (with the chunk interval), and learns from
// it that every chunk up to Newest exists while it has no stripe parent:
// without one nothing else tells it. See docs/PROTOCOL.md §3.7-3.8.
//
// From, when not 0, is where a joiner must start instead: the first chunk
// its player still needs (a page that played the stream from HTTP while
// its wasm loaded, or a peer joining again after losing the tracker). It
// is honoured when it lies within 3/4 of the window behind Newest, and
// taken as proof that every chunk before it exists when it is ahead of
// Newest (the page got those from the origin).
type Live struct {
	Newest   uint64
	Keyframe uint64
	From     uint64
}

// Covered tells a peer that its player has every chunk before Before from
// elsewhere: a page that plays from HTTP while its peer joins the swarm
// (frontend/lib/start.js) says so as each chunk comes. The peer neither
// requests nor fetches those chunks, though it still takes, keeps and
// forwards any a parent pushes. Like Live's From it proves that they
// exist; before the peer has started, it moves where it will start.
type Covered struct{ Before uint64 }

// Tick lets time pass. Drivers send one every TickInterval or so.
type Tick struct{}

func (PeerConnected) isEvent()    {}
func (PeerDisconnected) isEvent() {}
func (MessageReceived) isEvent()  {}
func (Published) isEvent()        {}
func (Fetched) isEvent()          {}
func (FetchFailed) isEvent()      {}
func (Tick) isEvent()             {}
func (Live) isEvent()             {}
func (Covered) isEvent()          {}

// Action is something the driver must do. The set is closed.
type Action interface{ isAction() }

// Send asks the driver to write Msg to the data channel of To.
type Send struct {
	To  PeerID
	Msg wire.Message
}

// Fetch asks the driver to get chunk Seq from the origin out of band (HTTP)
// and report back with Fetched or FetchFailed.
type Fetch struct{ Seq uint64 }

// Deliver hands a chunk, in no particular order, to the player. From is the
// neighbour it came from, empty when it came from a Fetch; FromOrigin is true
// when the origin sent it, directly or by Fetch.
type Deliver struct {
	Chunk      wire.Chunk
	From       PeerID
	FromOrigin bool
}

// Disconnect asks the driver to close the connection to Peer.
type Disconnect struct {
	Peer   PeerID
	Reason string
}

func (Send) isAction()       {}
func (Fetch) isAction()      {}
func (Deliver) isAction()    {}
func (Disconnect) isAction() {}
