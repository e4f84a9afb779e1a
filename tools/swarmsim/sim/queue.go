package sim

// queue is the event heap: a 4-ary min-heap of (time, sequence number)
// keys pointing into the simulator's event slab. The sequence number makes
// the order total, so equal times run first-scheduled first and every run
// of a seed is the same run.
type queue struct {
	h []qent
}

type qent struct {
	at  int64  // virtual nanoseconds
	seq uint64 // scheduling order, tie-break
	ev  int32  // index into the event slab
}

func (a qent) less(b qent) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

func (q *queue) len() int { return len(q.h) }

func (q *queue) push(e qent) {
	q.h = append(q.h, e)
	i := len(q.h) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !e.less(q.h[p]) {
			break
		}
		q.h[i] = q.h[p]
		i = p
	}
	q.h[i] = e
}

// pop removes and returns the smallest entry. The queue must not be empty.
func (q *queue) pop() qent {
	top := q.h[0]
	n := len(q.h) - 1
	last := q.h[n]
	q.h = q.h[:n]
	if n == 0 {
		return top
	}
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		end := min(c+4, n)
		for j := c + 1; j < end; j++ {
			if q.h[j].less(q.h[m]) {
				m = j
			}
		}
		if !q.h[m].less(last) {
			break
		}
		q.h[i] = q.h[m]
		i = m
	}
	q.h[i] = last
	return top
}

// peek returns the smallest entry without removing it.
func (q *queue) peek() qent { return q.h[0] }
