package swarmtest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/shoal-live/shoal/shared/swarm"
	"github.com/shoal-live/shoal/shared/wire"
)

// T0 is the transcript's time zero.
var T0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Env is one transcript's engine and clock.
type Env struct {
	e          *swarm.Engine
	now        time.Duration // since T0
	showStatus bool
	chunkMs    int64 // chunk k's timestamp is k×chunkMs: the engine learns the interval from it
}

// New returns an environment without an engine: a transcript starts with
// the engine command.
func New() *Env { return &Env{chunkMs: 125} }

// Handle runs one command of a transcript and returns its output.
func (env *Env) Handle(t *testing.T, d *datadriven.TestData) string {
	t.Helper()
	if d.Cmd != "engine" && env.e == nil {
		d.Fatalf(t, "%s before engine", d.Cmd)
	}
	switch d.Cmd {
	case "engine":
		return env.handleEngine(t, d)
	case "connect":
		return env.handleConnect(t, d)
	case "disconnect":
		return env.handleDisconnect(t, d)
	case "recv":
		return env.handleRecv(t, d)
	case "publish":
		return env.handlePublish(t, d)
	case "fetched":
		return env.handleFetched(t, d)
	case "fetch-failed":
		return env.handleFetchFailed(t, d)
	case "live":
		return env.handleLive(t, d)
	case "cover":
		return env.handleCover(t, d)
	case "tick":
		return env.handleTick(t, d)
	case "stats":
		return env.handleStats(t, d)
	}
	d.Fatalf(t, "unknown command %q", d.Cmd)
	return ""
}

// at moves the clock to the command's at= argument, if any.
func (env *Env) at(t *testing.T, d *datadriven.TestData) {
	t.Helper()
	if !d.HasArg("at") {
		return
	}
	at := duration(t, d, "at")
	if at < env.now {
		d.Fatalf(t, "at=%v is before the last event (%v)", at, env.now)
	}
	env.now = at
}

// step feeds ev at the current time and formats what the engine does.
func (env *Env) step(ev swarm.Event) string {
	return env.lines("", env.stepRaw(ev))
}

// stepRaw feeds ev and returns the formatted actions, or the error.
func (env *Env) stepRaw(ev swarm.Event) []string {
	if err := env.e.Step(T0.Add(env.now), ev); err != nil {
		return []string{"error: " + err.Error()}
	}
	var out []string
	for _, a := range env.e.Ready() {
		if s, ok := a.(swarm.Send); ok && !env.showStatus && s.Msg.Type() == wire.TypeStatus {
			continue
		}
		out = append(out, formatAction(a))
	}
	return out
}

func (env *Env) lines(prefix string, ls []string) string {
	if len(ls) == 0 {
		return "(no actions)"
	}
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(prefix)
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// Chunk is the chunk seq as the transcripts' origin makes it: four bytes
// of payload, a timestamp of seq×125 ms (by default).
func (env *Env) Chunk(seq uint64, key bool) wire.Chunk {
	c := wire.Chunk{Seq: seq, Timestamp: int64(seq) * env.chunkMs, Payload: []byte{byte(seq), 1, 2, 3}}
	if key {
		c.Flags |= wire.FlagKeyframe
	}
	return c
}

func formatAction(a swarm.Action) string {
	switch a := a.(type) {
	case swarm.Send:
		return fmt.Sprintf("-> %s %s", a.To, formatMsg(a.Msg))
	case swarm.Fetch:
		return fmt.Sprintf("fetch %d", a.Seq)
	case swarm.Deliver:
		s := fmt.Sprintf("deliver %d", a.Chunk.Seq)
		if a.From != "" {
			s += " from=" + string(a.From)
		} else {
			s += " by-fetch"
		}
		if a.FromOrigin {
			s += " origin"
		}
		return s
	case swarm.Disconnect:
		return fmt.Sprintf("disconnect %s: %s", a.Peer, a.Reason)
	}
	return fmt.Sprintf("unknown action %T", a)
}

func formatMsg(m wire.Message) string {
	switch m := m.(type) {
	case wire.Status:
		return fmt.Sprintf("Status newest=%d recent=%#x slots=%d free=%d depth=%s", m.Newest, m.Recent, m.Slots, m.Free, formatDepths(m.Depth))
	case wire.Subscribe:
		return fmt.Sprintf("Subscribe stripe=%d slots=%d", m.Stripe, m.Slots)
	case wire.Accept:
		return fmt.Sprintf("Accept stripe=%d depth=%s", m.Stripe, formatDepth(m.Depth))
	case wire.Unsubscribe:
		return fmt.Sprintf("Unsubscribe stripe=%d", m.Stripe)
	case wire.Request:
		return fmt.Sprintf("Request %d", m.Seq)
	case wire.NotFound:
		return fmt.Sprintf("NotFound %d", m.Seq)
	case wire.Chunk:
		return fmt.Sprintf("Chunk %d", m.Seq)
	}
	return fmt.Sprintf("%s", m.Type())
}

// formatDepth shows wire.NoDepth (no path to the origin) as "-".
func formatDepth(d uint8) string {
	if d == wire.NoDepth {
		return "-"
	}
	return fmt.Sprint(d)
}

func formatDepths(ds []uint8) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = formatDepth(d)
	}
	return "(" + strings.Join(parts, ",") + ")"
}

func formatTime(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// duration reads a Go duration argument.
func duration(t *testing.T, d *datadriven.TestData, key string) time.Duration {
	t.Helper()
	var s string
	d.ScanArgs(t, key, &s)
	v, err := time.ParseDuration(s)
	if err != nil {
		d.Fatalf(t, "%s=%s: %v", key, s, err)
	}
	return v
}

// peerArg reads a peer name: the first bare argument, or key=.
func peerArg(t *testing.T, d *datadriven.TestData, key string) swarm.PeerID {
	t.Helper()
	if d.HasArg(key) {
		var s string
		d.ScanArgs(t, key, &s)
		return swarm.PeerID(s)
	}
	for _, a := range d.CmdArgs {
		if len(a.Vals) == 0 && a.Key != "origin" {
			return swarm.PeerID(a.Key)
		}
	}
	d.Fatalf(t, "%s: which peer?", d.Cmd)
	return ""
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x5eed)) }
