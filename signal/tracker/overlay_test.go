package tracker

import (
	"fmt"
	"testing"
)

// TestOverlayIsShallow: peers joining one after another must end up in an
// overlay whose typical distance grows like log N, as a random graph's does,
// not in a chain of newcomers (which taking the least connected peer every
// time builds). The swarm's push trees live inside this overlay: their depth,
// and so the viewers' latency, cannot beat its distances.
func TestOverlayIsShallow(t *testing.T) {
	for _, n := range []int{200, 2000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			tr := newTracker(Config{Neighbours: 8})
			for i := 0; i < n; i++ {
				join(t, tr, "s", false)
			}
			sw := tr.swarms["s"]
			// Mean distance from a few sources, by breadth-first search.
			var sum, count, far int
			for _, src := range sw.list[:10] {
				dist := map[*member]int{src: 0}
				queue := []*member{src}
				for len(queue) > 0 {
					m := queue[0]
					queue = queue[1:]
					for _, nb := range m.links {
						if _, ok := dist[nb]; !ok {
							dist[nb] = dist[m] + 1
							queue = append(queue, nb)
						}
					}
				}
				if len(dist) != n {
					t.Fatalf("only %d of %d peers reachable", len(dist), n)
				}
				for _, d := range dist {
					sum += d
					count++
					far = max(far, d)
				}
			}
			mean := float64(sum) / float64(count)
			// A random graph with degree ~8-16 has mean distance about
			// ln N / ln 10: 2.3 at 200 peers, 3.3 at 2000.
			if mean > 4.5 || far > 8 {
				t.Errorf("%d peers: mean distance %.2f, farthest %d; want ≤ 4.5 and ≤ 8", n, mean, far)
			}
			t.Logf("%d peers: mean distance %.2f, farthest %d", n, mean, far)
		})
	}
}
