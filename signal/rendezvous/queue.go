package rendezvous

import (
	"sync"
	"sync/atomic"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/tracker"
)

// sendQueue is how many messages may wait for one connection before it
// counts as too slow.
const sendQueue = 256

// session queues messages for one connection; the tracker and the chat
// room deliver through it. The queue is bounded in messages (sendQueue)
// and in bytes (maxBytes, by messageBytes): a connection that falls that
// far behind is disconnected.
type session struct {
	out      chan signaling.Message
	queued   atomic.Int64 // bytes in out and being written
	maxBytes int64
	slow     chan struct{}
	slowOnce sync.Once
}

var _ tracker.Session = (*session)(nil)

func newSession(maxBytes int) *session {
	return &session{out: make(chan signaling.Message, sendQueue), slow: make(chan struct{}), maxBytes: int64(maxBytes)}
}

// Deliver queues m without blocking; false (and the connection marked too
// slow) when the queue is full.
func (s *session) Deliver(m signaling.Message) bool {
	n := int64(messageBytes(m))
	if s.queued.Add(n) > s.maxBytes {
		s.queued.Add(-n)
		s.slowOnce.Do(func() { close(s.slow) })
		return false
	}
	select {
	case s.out <- m:
		return true
	default:
		s.queued.Add(-n)
		s.slowOnce.Do(func() { close(s.slow) })
		return false
	}
}

// sent releases m's bytes once the writer is done with it.
func (s *session) sent(m signaling.Message) { s.queued.Add(-int64(messageBytes(m))) }

// messageBytes is about what m holds in memory: its strings and a
// fixed allowance for the struct.
func messageBytes(m signaling.Message) int {
	n := 256 + len(m.Stream) + len(m.ID) + len(m.Peer) + len(m.SDP) + len(m.StreamKey) +
		len(m.Code) + len(m.Text) + len(m.Nick)
	if c := m.Candidate; c != nil {
		n += 64 + len(c.Candidate)
		if c.SDPMid != nil {
			n += len(*c.SDPMid)
		}
	}
	for _, s := range m.ICEServers {
		n += 64 + len(s.Username) + len(s.Credential)
		for _, u := range s.URLs {
			n += 16 + len(u)
		}
	}
	return n
}
