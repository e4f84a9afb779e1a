package main

import "github.com/shoal-live/shoal/tools/swarmsim/playmodel"

// Each viewer is scored by the simulator's model player (package
// playmodel), on nanoseconds since the run started and the chunks' own
// timestamps and keyframe flags, so that the two tools' startup, latency
// and rebuffering figures mean the same thing.

// newPlayer gives v its model player; l.mu is held.
func (l *load) newPlayer() *playmodel.Player {
	return playmodel.New(playmodel.Config{
		Interval:      int64(l.cfg.ChunkInterval),
		StartupChunks: l.cfg.StartupChunks,
		Window:        l.cfg.Window,
		OnPlay: func(_ uint64, at, latency int64) {
			l.m.playLatency.Add(latency)
			l.m.bucketAt(at).latency(latency)
		},
	})
}

// playerDeliver records that v's node delivered a chunk at now; l.mu is
// held.
func (l *load) playerDeliver(v *viewer, seq uint64, now, pub int64, key bool) {
	if v.pl.Deliver(seq, now, pub, key) {
		l.m.startup = append(l.m.startup, v.pl.Stats().StartAt-v.joined)
	}
}

// finishPlayer stops v's player at t and adds what it saw to the books;
// l.mu is held.
func (l *load) finishPlayer(v *viewer, t int64) {
	if !v.pl.Finish(t) {
		return
	}
	l.m.players.Add(v.pl.Stats(), t)
}
