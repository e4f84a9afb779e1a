package sim

import (
	"time"

	"github.com/shoal-live/shoal/tools/swarmsim/playmodel"
)

// newPlayer gives viewer p its model player (package playmodel, the model
// of frontend/lib/player.js). The run's chunk k (sequence number first+k)
// is published at k·ChunkInterval, and every keyEvery-th is a keyframe
// chunk.
func (s *Sim) newPlayer(p *peer) *playmodel.Player {
	return playmodel.New(playmodel.Config{
		Interval:      s.interval,
		StartupChunks: s.sc.StartupChunks,
		Window:        s.window(),
		OnPlay: func(seq uint64, at, latency int64) {
			s.m.latency.Add(latency)
			if p.isolated {
				s.m.isoLatency.Add(latency)
			}
			s.m.bucketAt(at).latency(at, latency)
			if s.opt.OnPlay != nil {
				s.opt.OnPlay(int(p.idx), seq, time.Duration(at))
			}
		},
	})
}

// playerDeliver records that p's engine delivered seq now.
func (s *Sim) playerDeliver(p *peer, seq uint64) {
	k := seq - s.first
	if p.pl.Deliver(seq, s.now, int64(k)*s.interval, k%s.keyEvery() == 0) {
		s.m.startup = append(s.m.startup, p.pl.Stats().StartAt-p.joined)
		if p.isolated {
			s.m.isoStartup = append(s.m.isoStartup, p.pl.Stats().StartAt-p.joined)
		}
	}
}

// keyEvery is how many chunks apart keyframes are: KeyframeInterval (one
// a second, what broadcasters are asked for, by default) in whole chunks.
func (s *Sim) keyEvery() uint64 {
	return uint64(max(1, (int64(s.sc.KeyframeInterval)+s.interval/2)/s.interval))
}

func (s *Sim) window() int {
	if s.sc.Window > 0 {
		return s.sc.Window
	}
	return 128 // the engine's default
}

// finishPlayer stops p's player at t and adds what it saw to the books.
func (s *Sim) finishPlayer(p *peer, t int64) {
	if !p.pl.Finish(t) {
		return
	}
	s.m.players.Add(p.pl.Stats(), t)
	if p.isolated {
		s.m.isoViewers++
		s.m.isoPlayers.Add(p.pl.Stats(), t)
	}
}
