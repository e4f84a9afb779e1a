package swarmtest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/shoal-live/shoal/shared/swarm"
	"github.com/shoal-live/shoal/shared/wire"
)

// handleRecv delivers one wire message from a neighbour:
//
//	recv from=PEER status newest=N [recent=BITS] [slots=N] [free=N] depth=(D,…) [at=D]
//	recv from=PEER chunk=SEQ [key] [at=D]
//	recv from=PEER chunks=(FIRST,LAST) [at=D]     (one event per chunk, in order)
//	recv from=PEER subscribe=STRIPE [slots=N] [at=D]
//	recv from=PEER accept=STRIPE depth=D [at=D]
//	recv from=PEER unsubscribe=STRIPE [at=D]
//	recv from=PEER request=SEQ [at=D]
//	recv from=PEER notfound=SEQ [at=D]
//
// A Status's recent defaults to every bit set (the sender holds the 64
// chunks up to newest) and slots to 8; depth "-" is wire.NoDepth.
func (env *Env) handleRecv(t *testing.T, d *datadriven.TestData) string {
	t.Helper()
	env.at(t, d)
	from := peerArg(t, d, "from")
	recv := func(m wire.Message) string { return env.step(swarm.MessageReceived{From: from, Msg: m}) }
	u8 := func(key string, def uint8) uint8 {
		if !d.HasArg(key) {
			return def
		}
		var v uint8
		d.ScanArgs(t, key, &v)
		return v
	}
	u64 := func(key string) uint64 {
		var v uint64
		d.ScanArgs(t, key, &v)
		return v
	}
	switch {
	case d.HasArg("status"):
		m := wire.Status{Newest: u64("newest"), Recent: ^uint64(0), Slots: u8("slots", 8)}
		m.Free = u8("free", m.Slots)
		if d.HasArg("recent") {
			var s string
			d.ScanArgs(t, "recent", &s)
			v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
			if err != nil {
				d.Fatalf(t, "recent=%s: %v", s, err)
			}
			m.Recent = v
		}
		arg, _ := d.Arg("depth")
		for _, v := range arg.Vals {
			if v == "-" {
				m.Depth = append(m.Depth, wire.NoDepth)
				continue
			}
			n, err := strconv.ParseUint(v, 10, 8)
			if err != nil {
				d.Fatalf(t, "depth %s: %v", v, err)
			}
			m.Depth = append(m.Depth, uint8(n))
		}
		return recv(m)
	case d.HasArg("chunk"):
		return recv(env.Chunk(u64("chunk"), d.HasArg("key")))
	case d.HasArg("chunks"):
		var first, last uint64
		d.ScanArgs(t, "chunks", &first, &last)
		var out []string
		for s := first; s <= last; s++ {
			out = append(out, env.stepRaw(swarm.MessageReceived{From: from, Msg: env.Chunk(s, false)})...)
		}
		return env.lines("", out)
	case d.HasArg("subscribe"):
		return recv(wire.Subscribe{Stripe: u8("subscribe", 0), Slots: u8("slots", 8)})
	case d.HasArg("accept"):
		return recv(wire.Accept{Stripe: u8("accept", 0), Depth: u8("depth", 0)})
	case d.HasArg("unsubscribe"):
		return recv(wire.Unsubscribe{Stripe: u8("unsubscribe", 0)})
	case d.HasArg("request"):
		return recv(wire.Request{Seq: u64("request")})
	case d.HasArg("notfound"):
		return recv(wire.NotFound{Seq: u64("notfound")})
	}
	d.Fatalf(t, "recv: which message?")
	return ""
}
