package whip

import "errors"

// ErrEnded is given to Session.End when the server ended the publish
// session with [Handler.EndStream].
var ErrEnded = errors.New("whip: publish ended by the server")

// EndStream ends the publish sessions of stream (a broadcaster's "end
// stream" button) and reports how many there were. Each Session's End gets
// ErrEnded; the publisher sees its PeerConnection close.
func (h *Handler) EndStream(stream string) int {
	h.mu.Lock()
	var ending []*session
	for _, s := range h.sessions {
		if s.stream == stream {
			ending = append(ending, s)
		}
	}
	h.mu.Unlock()
	for _, s := range ending {
		s.stop(ErrEnded)
	}
	return len(ending)
}
