package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/shoal-live/shoal/shared/signaling"
)

// report_flood: 20 honest viewers watch the live stream; 3 connections from
// one address join and report every neighbour they are given ("a chunk
// that fails verification"), then drop it, for 10 s. Two reports from
// distinct neighbours quarantine a peer, and each report and drop used to
// top the reporter up with a fresh neighbour to report: the 3 got 20 of 20
// honest peers quarantined in 10 s (issue #12). Now a peer can only report
// its neighbours, 3 reports and then one per 20 s count, and one over the
// rate brings no replacement: at most 3 × 3 / 2 = 4 honest peers in 10 s.
func init() {
	register(Attack{Name: "report_flood", Run: attackReportFlood})
}

const (
	floodHonest    = 20
	floodAttackers = 3
	floodFor       = 10 * time.Second
	floodMaxQ      = floodAttackers * 3 / 2 // tracker.Config.ReportBurst 3, QuarantineReporters 2
)

func attackReportFlood(ctx context.Context, tg Target) (string, error) {
	var (
		mu          sync.Mutex
		conns       []*websocket.Conn
		honest      = map[string]bool{}
		quarantined = map[string]bool{}
		attackers   = map[string]bool{}
		reports     int
	)
	defer func() {
		for _, c := range conns {
			c.CloseNow()
		}
	}()
	for i := range floodHonest {
		c, w, err := sigJoin(ctx, tg, tg.Live)
		if err != nil {
			return "", fmt.Errorf("honest viewer %d: %w", i, err)
		}
		conns = append(conns, c)
		honest[w.ID] = true
		go func() { // an honest viewer that stays: it notes a quarantine
			for {
				_, b, err := c.Read(ctx)
				if err != nil {
					return
				}
				if m, err := signaling.Decode(b); err == nil && m.Type == signaling.TypeError && m.Code == signaling.CodeQuarantined {
					mu.Lock()
					quarantined[w.ID] = true
					mu.Unlock()
				}
			}
		}()
	}
	type attacker struct {
		c   *websocket.Conn
		new chan string // neighbours to report
	}
	var as []attacker
	for i := range floodAttackers {
		c, w, err := sigJoin(ctx, tg, tg.Live)
		if err != nil {
			return "", fmt.Errorf("attacker %d: %w", i, err)
		}
		conns = append(conns, c)
		mu.Lock()
		attackers[w.ID] = true
		mu.Unlock()
		a := attacker{c: c, new: make(chan string, 256)}
		as = append(as, a)
		go func() {
			for {
				_, b, err := c.Read(ctx)
				if err != nil {
					return
				}
				if m, err := signaling.Decode(b); err == nil && m.Type == signaling.TypeNeighbour && !m.Origin {
					select {
					case a.new <- m.Peer:
					default:
					}
				}
			}
		}()
	}
	fctx, cancel := context.WithTimeout(ctx, floodFor)
	defer cancel()
	var wg sync.WaitGroup
	for _, a := range as {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var peer string
				select {
				case <-fctx.Done():
					return
				case peer = <-a.new:
				}
				mu.Lock()
				skip := attackers[peer]
				mu.Unlock()
				if skip {
					continue
				}
				for _, m := range []string{
					`{"v":1,"type":"report","peer":"` + peer + `","text":"chunk 1 fails verification"}`,
					`{"v":1,"type":"drop","peer":"` + peer + `","text":"closed"}`,
				} {
					if err := a.c.Write(fctx, websocket.MessageText, []byte(m)); err != nil {
						return
					}
				}
				mu.Lock()
				reports++
				mu.Unlock()
				time.Sleep(20 * time.Millisecond) // under the message rate
			}
		}()
	}
	wg.Wait()
	sleepCtx(ctx, 500*time.Millisecond) // the last quarantine errors arrive
	mu.Lock()
	q, sent := len(quarantined), reports
	mu.Unlock()
	limit := fmt.Sprintf("reports count only from neighbours, 3 per reporter then 1 per 20 s, no replacement over the rate: %d attackers sent %d reports in %v and got %d of %d honest viewers quarantined (limit %d)",
		floodAttackers, sent, floodFor, q, floodHonest, floodMaxQ)
	if sent == 0 {
		return limit, fmt.Errorf("the attackers were introduced to nobody: the attack did not run")
	}
	if q > floodMaxQ {
		return limit, fmt.Errorf("%d honest viewers quarantined, want at most %d", q, floodMaxQ)
	}
	return limit, nil
}
