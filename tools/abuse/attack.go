package main

import (
	"context"
	"fmt"
	"sort"
)

// Attack is one abuse scenario run against a live server. Each lives in its
// own file, attack_<name>.go, and registers itself from init().
//
// Run attacks tg and returns the limit the server hit, in words a reader of
// the report understands ("RTMP connection cap 4/address: 96 of 100
// refused"), or an error when the server did not hold (the limit was not
// hit, the server died, an honest request failed). Run must stop and close
// everything it opened when it returns: the report reads the server's
// memory and descriptors right after, and the next attack starts from there.
type Attack struct {
	Name string
	Run  func(ctx context.Context, tg Target) (limit string, err error)
}

// Target is the server under attack: a real bin/shoal on loopback.
type Target struct {
	HTTP   string // host:port of the HTTP server (pages, API, signaling, WHIP)
	RTMP   string // host:port of the RTMP ingest
	Debug  string // host:port of -debug-addr (/debug/vars)
	Stream string // a stream that may be published to with Key (nobody publishes at start)
	Key    string // its stream key (RTMP key, WHIP bearer token)
	Live   string // a stream that is always live (the synthetic demo): a swarm to join
	PID    int    // the server's process id (/proc/<pid>/…)
	Log    string // the server's log file (text slog lines)
}

// attacks holds every registered attack by name.
var attacks = map[string]Attack{}

// register adds an attack; called from init() in attack_<name>.go files.
// Names are unique: a duplicate is a programming error and panics at start.
func register(a Attack) {
	if a.Name == "" || a.Run == nil {
		panic("abuse: register needs a Name and a Run")
	}
	if _, dup := attacks[a.Name]; dup {
		panic(fmt.Sprintf("abuse: attack %q registered twice", a.Name))
	}
	attacks[a.Name] = a
}

// sortedAttacks returns the registered attacks in name order.
func sortedAttacks() []Attack {
	out := make([]Attack, 0, len(attacks))
	for _, a := range attacks {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
