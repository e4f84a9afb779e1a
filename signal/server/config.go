package server

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/shoal-live/shoal/shared/signaling"
	"github.com/shoal-live/shoal/signal/chat"
	"github.com/shoal-live/shoal/signal/ingest/rtmp"
	"github.com/shoal-live/shoal/signal/pages"
	"github.com/shoal-live/shoal/signal/rendezvous"
	"github.com/shoal-live/shoal/signal/store"
	"github.com/shoal-live/shoal/signal/tracker"
)

// Config sets up a Server. Zero values take the defaults noted.
type Config struct {
	// Neighbours is how many neighbours the tracker gives each viewer
	// (default tracker.DefaultNeighbours, 8).
	Neighbours int
	// MaxPeersPerSwarm bounds one stream's audience (default
	// tracker.DefaultMaxPeers, 10000).
	MaxPeersPerSwarm int
	// OriginLinks is how many viewers the origin peer connects to
	// directly (default tracker.DefaultOriginLinks, 16).
	OriginLinks int
	// OriginCopies is how many copies of the stream the origin pushes to
	// the swarm in all (default 4), spread over the stripes' first peers.
	OriginCopies float64
	// ICEServers are STUN/TURN URLs handed to peers; none are needed on
	// one machine or a LAN.
	ICEServers []string
	// LoopbackOnly keeps the origin peer's ICE candidates on loopback
	// (tests run in a network namespace with only lo).
	LoopbackOnly bool
	// DemoStream names a demo stream started at launch ("" for none).
	DemoStream string
	// DemoSource is "clip" (default: the looping test clip, real video)
	// or "synthetic" (made-up chunks, see DemoInterval).
	DemoSource string
	// DemoInterval and DemoChunkSize shape the synthetic stream
	// (default a 48 KiB chunk every 250 ms, about 1.5 Mbit/s).
	DemoInterval  time.Duration
	DemoChunkSize int
	// StreamKeys maps stream names to the keys that publish to them (the
	// RTMP stream key, the WHIP bearer token), besides the keys of the
	// streams in Store.
	StreamKeys map[string]string
	// Store holds accounts, sessions, streams and their keys, chat and
	// bans; the caller opens and closes it. Nil gives the server a private
	// in-memory database (tests).
	Store *store.DB
	// RTMPAddr is where RTMP ingest listens ("" to turn it off).
	RTMPAddr string
	// FragmentDuration is the target length of a CMAF fragment, the unit
	// the swarm trades (default 125 ms: each hop of the swarm's push trees
	// stores a whole chunk before forwarding it; see docs/PROTOCOL.md §3.1).
	FragmentDuration time.Duration
	// MaxMessagesPerSecond and MessageBurst rate-limit each signaling
	// connection (default 50/s, burst 200: a join's ICE trickle is bursty).
	MaxMessagesPerSecond float64
	MessageBurst         int
	// SendQueueBytes bounds the messages waiting to be written to one
	// signaling connection, in bytes (default DefaultSendQueueBytes, 1
	// MiB); a connection that lets more pile up is closed as too slow.
	SendQueueBytes int
	// OriginIdle is how long a stream's origin runs on without a
	// publisher before it stops, freeing its peer connection, ticker
	// and chunks (default 2 min); the next publish starts another, and
	// the stream's viewers resume from it. The demo's never stops.
	OriginIdle time.Duration
	// MaxConnsPerIP bounds signaling connections from one client address
	// (default 32).
	MaxConnsPerIP int
	// SignalBytesPerSecond and SignalByteBurst pace what the server reads
	// from one address's signaling connections together (default
	// DefaultSignalBytesPerSecond, DefaultSignalByteBurst; the burst is
	// at least signaling.MaxMessageSize). Past them the server reads
	// on only as the budget refills, so the sender waits.
	SignalBytesPerSecond int
	SignalByteBurst      int
	// AllowedOrigins are extra host patterns (as in coder/websocket's
	// OriginPatterns) allowed to open the signaling WebSocket; the
	// server's own origin is always allowed.
	AllowedOrigins []string
	// FrameAncestors is the CSP frame-ancestors source list of the embed
	// page /embed/<stream>, the sites that may embed the player (default
	// pages.DefaultFrameAncestors, "*").
	FrameAncestors string
	// ChatMaxAge and ChatMaxMessages bound each stream's stored chat
	// history: older messages, and all but the newest ChatMaxMessages, are
	// pruned (default 7 days and 1,000; see chat.Config).
	ChatMaxAge      time.Duration
	ChatMaxMessages int
	// SetupToken is the one-time token the first-account page /setup
	// requires while no account exists; empty for a random one, logged at
	// start as a link.
	SetupToken string
	// SecureCookies marks the session cookie Secure on every response, for
	// a server behind a TLS-terminating proxy (over TLS it always is).
	SecureCookies bool
	// RTMPMaxConns and RTMPMaxConnsPerIP bound RTMP connections at once,
	// in all and per remote address (default 64 and 4; see package rtmp).
	RTMPMaxConns, RTMPMaxConnsPerIP int
	// MaxHTTPConnsPerIP bounds open HTTP connections (WebSockets
	// included) from one TCP peer (default 128); a TrustedProxies peer is
	// not bounded.
	MaxHTTPConnsPerIP int
	// TrustedProxies are the reverse proxies whose Forwarded or
	// X-Forwarded-For header names the client: only a request whose TCP
	// peer is in one of these prefixes is believed. Every per-address limit
	// uses the address found so. None: the TCP peer is the client.
	TrustedProxies []netip.Prefix
	// TrustedProxyHeader is the header those proxies write: "Forwarded"
	// (RFC 7239) or, by default, "X-Forwarded-For". Only that one is read.
	TrustedProxyHeader string
	// WHIPAllowedOrigins are the origins (scheme://host[:port]) whose
	// pages may publish over WHIP from a browser; "*" is any. Nil means
	// any: the bearer key is what authorizes a publisher (see README).
	// An empty, non-nil slice allows none.
	WHIPAllowedOrigins []string
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	// peerHook, when set, is called from a joined peer's signaling loop
	// each time the server has dealt with a message of the peer's
	// (relayed, answered or refused it), with how many so far, and once
	// more when the loop ends (open false). Tests set it (export_test.go)
	// to wait for the server rather than sleep.
	peerHook func(peer string, handled int, open bool)
}

// The signaling limits' defaults (package rendezvous'), under the names of
// the Config fields they fill.
const (
	DefaultSendQueueBytes       = rendezvous.DefaultSendQueueBytes
	DefaultSignalBytesPerSecond = rendezvous.DefaultBytesPerSecond
	DefaultSignalByteBurst      = rendezvous.DefaultByteBurst
)

// Defaults is the Config whose values a zero field of Config takes (New
// applies them; cmd/shoal's flags show them). Fields whose zero value
// means "none" or "off" (DemoStream, RTMPAddr, StreamKeys…) are zero here
// too. Where a package that a field configures has a default of its own
// (the tracker's, the signaling limits', the chat's, RTMP's, the embed
// page's), this is that default, not a copy of its value.
func Defaults() Config {
	return Config{
		Neighbours:           tracker.DefaultNeighbours,
		MaxPeersPerSwarm:     tracker.DefaultMaxPeers,
		OriginLinks:          tracker.DefaultOriginLinks,
		OriginCopies:         4,
		DemoSource:           "clip",
		DemoInterval:         250 * time.Millisecond,
		DemoChunkSize:        48 << 10,
		FragmentDuration:     125 * time.Millisecond,
		MaxMessagesPerSecond: rendezvous.DefaultMessagesPerSecond,
		MessageBurst:         rendezvous.DefaultMessageBurst,
		SendQueueBytes:       DefaultSendQueueBytes,
		OriginIdle:           2 * time.Minute,
		MaxConnsPerIP:        rendezvous.DefaultMaxConnsPerAddr,
		SignalBytesPerSecond: DefaultSignalBytesPerSecond,
		SignalByteBurst:      DefaultSignalByteBurst,
		FrameAncestors:       pages.DefaultFrameAncestors,
		ChatMaxAge:           chat.DefaultMaxAge,
		ChatMaxMessages:      chat.DefaultMaxMessages,
		RTMPMaxConns:         rtmp.DefaultMaxConns,
		RTMPMaxConnsPerIP:    rtmp.DefaultMaxConnsPerAddr,
		MaxHTTPConnsPerIP:    128,
		TrustedProxyHeader:   "X-Forwarded-For",
		WHIPAllowedOrigins:   []string{"*"},
	}
}

// orDefault sets *v to d when it is zero or negative (or empty).
func orDefault[T int | float64 | time.Duration | string](v *T, d T) {
	var zero T
	if *v <= zero {
		*v = d
	}
}

func (c Config) withDefaults() Config {
	d := Defaults()
	orDefault(&c.Neighbours, d.Neighbours)
	orDefault(&c.MaxPeersPerSwarm, d.MaxPeersPerSwarm)
	orDefault(&c.OriginLinks, d.OriginLinks)
	orDefault(&c.OriginCopies, d.OriginCopies)
	orDefault(&c.DemoSource, d.DemoSource)
	orDefault(&c.DemoInterval, d.DemoInterval)
	orDefault(&c.DemoChunkSize, d.DemoChunkSize)
	orDefault(&c.FragmentDuration, d.FragmentDuration)
	orDefault(&c.MaxMessagesPerSecond, d.MaxMessagesPerSecond)
	orDefault(&c.MessageBurst, d.MessageBurst)
	orDefault(&c.SendQueueBytes, d.SendQueueBytes)
	orDefault(&c.OriginIdle, d.OriginIdle)
	orDefault(&c.MaxConnsPerIP, d.MaxConnsPerIP)
	orDefault(&c.SignalBytesPerSecond, d.SignalBytesPerSecond)
	orDefault(&c.SignalByteBurst, d.SignalByteBurst)
	c.SignalByteBurst = max(c.SignalByteBurst, signaling.MaxMessageSize)
	orDefault(&c.FrameAncestors, d.FrameAncestors)
	orDefault(&c.MaxHTTPConnsPerIP, d.MaxHTTPConnsPerIP)
	orDefault(&c.TrustedProxyHeader, d.TrustedProxyHeader)
	if c.WHIPAllowedOrigins == nil {
		c.WHIPAllowedOrigins = d.WHIPAllowedOrigins
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
