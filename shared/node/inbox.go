package node

import "sync"

// inbox is a bounded queue that never blocks the poster: callbacks from the
// browser's event loop must not wait on Go.
type inbox struct {
	mu      sync.Mutex
	items   []any
	limit   int
	dropped int
	wake    chan struct{}
}

func newInbox(limit int) *inbox {
	return &inbox{limit: limit, wake: make(chan struct{}, 1)}
}

// post queues ev, or drops it and counts when the queue is full.
func (q *inbox) post(ev any) {
	q.mu.Lock()
	if len(q.items) >= q.limit {
		q.dropped++
		q.mu.Unlock()
		return
	}
	q.items = append(q.items, ev)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// drain takes everything queued.
func (q *inbox) drain() []any {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.items
	q.items = nil
	return out
}

func (q *inbox) droppedCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}
