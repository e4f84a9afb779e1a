package rtmp

import (
	"errors"
	"net"
	"sync/atomic"
)

// ErrEnded is given to Session.End when the Session asked for its publish
// session to end (see [Ender]).
var ErrEnded = errors.New("rtmp: publish ended by the server")

// Ender is implemented by a Session that the server may end before the
// publisher stops (a broadcaster's "end stream" button): once the channel
// Ended returns is closed, the connection is closed and the Session's End
// gets [ErrEnded].
type Ender interface {
	Ended() <-chan struct{}
}

// watchEnd closes conn when sess, if it is an Ender, asks to end. The
// returned stop ends the watch and reports whether it did close conn.
func watchEnd(conn net.Conn, sess Session) (stop func() bool) {
	e, ok := sess.(Ender)
	if !ok {
		return func() bool { return false }
	}
	var ended atomic.Bool
	done := make(chan struct{})
	go func() {
		select {
		case <-e.Ended():
			ended.Store(true)
			conn.Close()
		case <-done:
		}
	}()
	return func() bool {
		close(done)
		return ended.Load()
	}
}
