package swarmtest

import (
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/shoal-live/shoal/shared/swarm"
)

// handleEngine makes a new engine, forgetting the old one, and restarts the
// clock:
//
//	engine [origin] [stripes=N] [slots=N] [upload=F] [window=N] [join-backlog=N]
//	       [repair-after=D] [request-timeout=D] [fallback-after=D] [lonely-after=D]
//	       [status-interval=D] [subscribe-timeout=D] [starve-rounds=N] [max-fetches=N]
//	       [no-join-fetch] [seed=N] [chunk-ms=N] [show-status]
//
// Unset values take the engine's defaults (swarm.Config).
func (env *Env) handleEngine(t *testing.T, d *datadriven.TestData) string {
	t.Helper()
	var cfg swarm.Config
	seed := uint64(1)
	env.showStatus, env.chunkMs, env.now = false, 125, 0
	ints := map[string]*int{
		"stripes": &cfg.Stripes, "slots": &cfg.Slots, "window": &cfg.Window,
		"join-backlog": &cfg.JoinBacklog, "starve-rounds": &cfg.StarveRounds,
		"max-fetches": &cfg.MaxFetches, "max-inflight": &cfg.MaxInflight,
		"serve-rate": &cfg.ServeRate, "max-peers": &cfg.MaxPeers,
	}
	durs := map[string]*time.Duration{
		"repair-after": &cfg.RepairAfter, "request-timeout": &cfg.RequestTimeout,
		"fallback-after": &cfg.FallbackAfter, "lonely-after": &cfg.LonelyAfter,
		"status-interval": &cfg.StatusInterval, "subscribe-timeout": &cfg.SubscribeTimeout,
		"due-margin": &cfg.DueMargin,
	}
	for _, a := range d.CmdArgs {
		switch {
		case a.Key == "origin":
			cfg.Origin = true
		case a.Key == "no-join-fetch":
			cfg.NoJoinFetch = true
		case a.Key == "show-status":
			env.showStatus = true
		case a.Key == "upload":
			d.ScanArgs(t, a.Key, &cfg.Upload)
		case a.Key == "seed":
			d.ScanArgs(t, a.Key, &seed)
		case a.Key == "chunk-ms":
			d.ScanArgs(t, a.Key, &env.chunkMs)
		case ints[a.Key] != nil:
			d.ScanArgs(t, a.Key, ints[a.Key])
		case durs[a.Key] != nil:
			*durs[a.Key] = duration(t, d, a.Key)
		default:
			d.Fatalf(t, "engine: unknown argument %q", a.Key)
		}
	}
	cfg.Rand = newRand(seed)
	e, err := swarm.New(cfg)
	if err != nil {
		return "error: " + err.Error()
	}
	env.e = e
	return "ok"
}
