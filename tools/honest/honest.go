// Package honest runs an honest native viewer (shared/node) for as long as
// its context lasts and counts the chunks it never got.
//
// A viewer joins like the browser peer does (wasm/main.go, peer.run): when
// its session ends — quarantined after false reports, the signaling
// connection closed, the server restarting — it joins again as a new peer,
// after the tracker's quarantine wait or a short pause, starting where it
// got to. Meanwhile it fetches the chunks it misses over HTTP, as the page's
// feed plays them, so a chunk is lost only if neither the swarm nor the
// origin's HTTP fallback brought it.
//
//	v := honest.New(honest.Config{Base: "http://127.0.0.1:8080", Stream: "demo"})
//	res := v.Run(ctx) // until ctx ends
//	fmt.Println(res.Chunks, res.Lost)
package honest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shoal-live/shoal/shared/node"
	"github.com/shoal-live/shoal/shared/signaling"
)

// Config says what to watch.
type Config struct {
	// Base is the server's HTTP address, "http://host:port".
	Base string
	// Stream names the stream.
	Stream string
	// RejoinPause is how long to wait before joining again after a
	// session ended for another reason than a quarantine (default 1 s).
	RejoinPause time.Duration
	// Logger receives one line per session end; nil discards. The node's
	// own log is discarded.
	Logger *slog.Logger
}

// Result is what a viewer saw over its whole life.
type Result struct {
	Chunks      int    `json:"chunks"`      // distinct chunks received
	First       uint64 `json:"first"`       // lowest sequence number received
	Last        uint64 `json:"last"`        // highest
	Lost        int    `json:"lost"`        // chunks between First and Last never received
	Sessions    int    `json:"sessions"`    // joins
	Quarantines int    `json:"quarantines"` // sessions ended by a quarantine
	FetchedAway int    `json:"fetchedAway"` // chunks fetched over HTTP between sessions
	// The node's integrity counters, summed over sessions: DeliveredBad
	// and ForwardedBad must stay 0.
	Verified       int      `json:"verified"`
	VerifyFailures int      `json:"verifyFailures"`
	DeliveredBad   int      `json:"deliveredBad"`
	ForwardedBad   int      `json:"forwardedBad"`
	Ends           []string `json:"ends,omitempty"`    // why each session ended (the first 20)
	Missing        []uint64 `json:"missing,omitempty"` // the first 20 chunks never received
}

// Viewer is one honest native viewer.
type Viewer struct {
	cfg   Config
	fetch node.FetchFunc

	mu     sync.Mutex
	got    map[uint64]struct{}
	skip   map[uint64]bool // holes the origin no longer holds: lost, not waited for
	cursor uint64          // every chunk from First to cursor-1 is received or skipped
	res    Result
}

// New returns a viewer; Run starts it.
func New(cfg Config) *Viewer {
	if cfg.RejoinPause <= 0 {
		cfg.RejoinPause = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg.Base = strings.TrimSuffix(cfg.Base, "/")
	return &Viewer{
		cfg:   cfg,
		fetch: node.HTTPFetcher(cfg.Base, &http.Client{Timeout: 5 * time.Second}),
		got:   map[uint64]struct{}{},
		skip:  map[uint64]bool{},
	}
}

// Run watches until ctx ends and returns what the viewer saw.
func (v *Viewer) Run(ctx context.Context) Result {
	for ctx.Err() == nil {
		err := v.session(ctx)
		if ctx.Err() != nil {
			break
		}
		wait := v.cfg.RejoinPause
		if qe := (*node.QuarantineError)(nil); errors.As(err, &qe) {
			// As the browser peer: stay away for the tracker's wait
			// (plus a little jitter), then join as a new peer.
			wait = qe.Wait + rand.N(qe.Wait/4+1)
			v.mu.Lock()
			v.res.Quarantines++
			v.mu.Unlock()
		}
		v.note(err)
		v.cfg.Logger.Info("viewer session ended; joining again", "err", err, "in", wait.Round(time.Millisecond))
		v.catchUp(ctx, time.Now().Add(wait))
	}
	return v.Result()
}

// Result returns the counts so far.
func (v *Viewer) Result() Result {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.res
	r.Ends = slices.Clone(r.Ends)
	r.Chunks = len(v.got)
	if r.Chunks > 0 {
		r.Lost = int(r.Last-r.First+1) - r.Chunks
		for q := r.First; q <= r.Last && len(r.Missing) < 20 && len(r.Missing) < r.Lost; q++ {
			if _, ok := v.got[q]; !ok {
				r.Missing = append(r.Missing, q)
			}
		}
	}
	return r
}

func (v *Viewer) note(err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.res.Ends) < 20 {
		v.res.Ends = append(v.res.Ends, time.Now().UTC().Format("15:04:05")+" "+errText(err))
	}
}

func errText(err error) string {
	if err == nil {
		return "ended"
	}
	return err.Error()
}

// record notes chunk seq as received.
func (v *Viewer) record(seq uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.got) == 0 || seq < v.res.First {
		v.res.First = seq
	}
	if len(v.got) == 0 || seq > v.res.Last {
		v.res.Last = seq
	}
	v.got[seq] = struct{}{}
}

// needed is the first chunk the viewer still needs, as a player's next
// chunk: the first hole after First, or the one after the newest (0
// before any chunk).
func (v *Viewer) needed() uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.got) == 0 {
		return 0
	}
	v.cursor = max(v.cursor, v.res.First)
	for v.cursor <= v.res.Last {
		if _, ok := v.got[v.cursor]; !ok && !v.skip[v.cursor] {
			break
		}
		v.cursor++
	}
	return v.cursor
}

// isHole reports whether seq is before the newest chunk received.
func (v *Viewer) isHole(seq uint64) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.got) > 0 && seq < v.res.Last
}

// session is one join, from dial to its end.
func (v *Viewer) session(ctx context.Context) error {
	conn, err := signaling.DialWebSocket(ctx, "ws"+strings.TrimPrefix(v.cfg.Base, "http")+"/api/signal")
	if err != nil {
		return err
	}
	n, err := node.New(node.Config{
		Stream: v.cfg.Stream, Signal: conn, LoopbackOnly: true,
		Fetch:     v.fetch,
		StartAt:   v.needed(),
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnDeliver: func(d node.Delivery) { v.record(d.Chunk.Seq) },
	})
	if err != nil {
		conn.Close("bad config")
		return err
	}
	v.mu.Lock()
	v.res.Sessions++
	v.mu.Unlock()
	err = n.Run(ctx)
	st := n.Stats()
	v.mu.Lock()
	v.res.Verified += st.Verified
	v.res.VerifyFailures += st.VerifyFailures
	v.res.DeliveredBad += st.DeliveredBad
	v.res.ForwardedBad += st.ForwardedBad
	v.mu.Unlock()
	return err
}

// catchUp fetches, until the deadline, the chunks the viewer still needs
// — a hole left by the session that ended (a chunk in flight), then each
// chunk as the origin cuts it — as the page's HTTP feed does from the
// player's next chunk while its peer is away. A hole the origin no longer
// holds is skipped (and stays lost). Before the first chunk there is
// nothing to catch up.
func (v *Viewer) catchUp(ctx context.Context, until time.Time) {
	ctx, cancel := context.WithDeadline(ctx, until)
	defer cancel()
	if v.needed() == 0 {
		<-ctx.Done()
		return
	}
	for ctx.Err() == nil {
		seq := v.needed()
		c, err := v.fetch(ctx, v.cfg.Stream, seq)
		if err == nil && c.Seq == seq {
			v.record(seq)
			v.mu.Lock()
			v.res.FetchedAway++
			v.mu.Unlock()
			continue
		}
		notCut := err != nil && strings.Contains(err.Error(), "404")
		if notCut && v.isHole(seq) {
			v.mu.Lock()
			v.skip[seq] = true // gone from the origin's window
			v.mu.Unlock()
			continue
		}
		pause := 125 * time.Millisecond // not cut yet; a 429 or another error waits longer
		if !notCut {
			pause = 500 * time.Millisecond
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
}
