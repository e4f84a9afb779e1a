// Command shoal is the Shoal server: pages, signaling, tracker and origin.
//
// Every flag can also be set by an environment variable: SHOAL_ plus the
// flag's name in upper case with dashes as underscores (SHOAL_ADDR for
// -addr). A flag on the command line wins.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/shoal-live/shoal/frontend"
	"github.com/shoal-live/shoal/signal/clientip"
	"github.com/shoal-live/shoal/signal/server"
	"github.com/shoal-live/shoal/signal/store"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "shoal:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("shoal", flag.ContinueOnError)
	d := server.Defaults() // the defaults of the flags that set Config
	var (
		cfg       server.Config
		addr      = fs.String("addr", ":8080", "address to listen on")
		logLevel  = fs.String("log-level", "info", "debug, info, warn or error")
		logFormat = fs.String("log-format", "text", "text or json")
		ice       = fs.String("ice-servers", "", "comma-separated STUN/TURN URLs handed to peers (none needed on one machine or a LAN)")
		origins   = fs.String("allowed-origins", "", "comma-separated extra host patterns allowed to open the signaling WebSocket")
		keys      = fs.String("stream-keys", "", "comma-separated stream=key pairs allowed to publish (RTMP key, WHIP bearer token); empty: a random key for stream \"live\", kept in <data-dir>/live.key; keys are at least 16 characters")
		dataDir   = fs.String("data-dir", defaultDataDir(), "directory of the database (server.db: accounts, streams and keys, chat)")
		newAcct   = fs.String("create-account", "", "create a broadcaster account with this username, the password read from SHOAL_ADMIN_PASSWORD or stdin, and exit")
	)
	fs.StringVar(&cfg.RTMPAddr, "rtmp-addr", ":1935", "RTMP ingest address, empty to turn RTMP off")
	fs.IntVar(&cfg.Neighbours, "neighbours", d.Neighbours, "neighbours the tracker gives each viewer")
	fs.IntVar(&cfg.MaxPeersPerSwarm, "max-peers", d.MaxPeersPerSwarm, "viewers allowed in one stream's swarm")
	fs.IntVar(&cfg.OriginLinks, "origin-links", d.OriginLinks, "viewers the origin peer connects to directly")
	fs.Float64Var(&cfg.OriginCopies, "origin-copies", d.OriginCopies, "copies of the stream the origin pushes to the swarm")
	fs.BoolVar(&cfg.LoopbackOnly, "ice-loopback", false, "keep the origin's ICE candidates on loopback (tests)")
	fs.StringVar(&cfg.DemoStream, "demo", "demo", "name of the synthetic demo stream, empty for none")
	fs.StringVar(&cfg.DemoSource, "demo-source", d.DemoSource, "what the demo stream plays: clip (looping test video) or synthetic (made-up chunks)")
	fs.DurationVar(&cfg.FragmentDuration, "fragment-duration", d.FragmentDuration, "target CMAF fragment (chunk) length")
	fs.DurationVar(&cfg.DemoInterval, "demo-interval", d.DemoInterval, "time between demo chunks")
	fs.IntVar(&cfg.DemoChunkSize, "demo-chunk-size", d.DemoChunkSize, "bytes per demo chunk")
	fs.Float64Var(&cfg.MaxMessagesPerSecond, "max-msg-rate", d.MaxMessagesPerSecond, "signaling messages per second per connection")
	fs.IntVar(&cfg.MaxConnsPerIP, "max-conns-per-ip", d.MaxConnsPerIP, "signaling connections per client address")
	fs.IntVar(&cfg.SignalBytesPerSecond, "signal-bytes-per-ip", d.SignalBytesPerSecond, "bytes per second the server reads from one address's signaling connections together, after -signal-byte-burst")
	fs.IntVar(&cfg.SignalByteBurst, "signal-byte-burst", d.SignalByteBurst, "bytes the server reads from one address's signaling connections at once before pacing them")
	fs.IntVar(&cfg.SendQueueBytes, "signal-queue-bytes", d.SendQueueBytes, "bytes queued to one signaling connection before it is closed as too slow")
	fs.DurationVar(&cfg.OriginIdle, "origin-idle", d.OriginIdle, "a stream's origin stops after this long without a publisher (the next publish starts another)")
	debugAddr := fs.String("debug-addr", "", "serve /debug/vars (goroutines, memory) and /debug/pprof on this address, e.g. 127.0.0.1:6060; off when empty, keep it on loopback")
	fs.DurationVar(&cfg.ChatMaxAge, "chat-max-age", d.ChatMaxAge, "chat messages older than this are deleted")
	fs.IntVar(&cfg.ChatMaxMessages, "chat-max-messages", d.ChatMaxMessages, "chat messages kept per stream (the newest)")
	fs.BoolVar(&cfg.SecureCookies, "secure-cookies", false, "always mark the session cookie Secure (behind a TLS-terminating proxy)")
	fs.StringVar(&cfg.FrameAncestors, "frame-ancestors", d.FrameAncestors, "CSP frame-ancestors of the embed page /embed/<stream>: the sites that may embed the player ('self', https://example.com …)")
	fs.IntVar(&cfg.RTMPMaxConns, "rtmp-max-conns", d.RTMPMaxConns, "RTMP connections at once, in all")
	fs.IntVar(&cfg.RTMPMaxConnsPerIP, "rtmp-max-conns-per-ip", d.RTMPMaxConnsPerIP, "RTMP connections at once from one address")
	fs.IntVar(&cfg.MaxHTTPConnsPerIP, "max-http-conns-per-ip", d.MaxHTTPConnsPerIP, "open HTTP connections (WebSockets included) from one TCP peer; trusted proxies are not capped")
	trusted := fs.String("trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose -trusted-proxy-header names the client (e.g. 127.0.0.1/32); none: the TCP peer is the client")
	fs.StringVar(&cfg.TrustedProxyHeader, "trusted-proxy-header", d.TrustedProxyHeader, "the header -trusted-proxies write: X-Forwarded-For or Forwarded (only that one is read)")
	whipOrigins := fs.String("whip-allowed-origins", strings.Join(d.WHIPAllowedOrigins, ","), "comma-separated origins (https://host[:port]) whose pages may publish over WHIP from a browser; * for any (the bearer key authorizes), empty for none")

	if err := applyEnv(fs); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		// Parsing stops at the first non-flag: every flag after it
		// would be silently ignored.
		fs.Usage()
		return fmt.Errorf("unexpected argument %q: shoal takes only flags", fs.Arg(0))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if *logFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	cfg.Logger = slog.New(h)
	slog.SetDefault(cfg.Logger)
	cfg.ICEServers = splitList(*ice)
	cfg.AllowedOrigins = splitList(*origins)
	cfg.StreamKeys = map[string]string{}
	for _, kv := range splitList(*keys) {
		stream, key, ok := strings.Cut(kv, "=")
		if !ok || key == "" {
			return fmt.Errorf("-stream-keys: %q is not stream=key", kv)
		}
		if len(key) < minKeyLen {
			return fmt.Errorf("-stream-keys: the key of %q has %d characters, fewer than %d (make one with `openssl rand -hex 16`)", stream, len(key), minKeyLen)
		}
		cfg.StreamKeys[stream] = key
	}
	tp, err := clientip.ParsePrefixes(*trusted)
	if err != nil {
		return fmt.Errorf("-trusted-proxies: %w", err)
	}
	cfg.TrustedProxies = tp
	if h := cfg.TrustedProxyHeader; !strings.EqualFold(h, "X-Forwarded-For") && !strings.EqualFold(h, "Forwarded") {
		return fmt.Errorf("-trusted-proxy-header: %q is neither X-Forwarded-For nor Forwarded", h)
	}
	cfg.WHIPAllowedOrigins = splitList(*whipOrigins)
	if cfg.WHIPAllowedOrigins == nil {
		cfg.WHIPAllowedOrigins = []string{} // none, not the default
	}

	db, err := store.Open(context.Background(), store.Config{Path: filepath.Join(*dataDir, store.FileName), Logger: cfg.Logger})
	if err != nil {
		return err
	}
	defer db.Close()
	if *newAcct != "" {
		return createAccount(db, *newAcct)
	}
	cfg.Logger.Info("data", "dir", *dataDir)
	cfg.Store = db
	if len(cfg.StreamKeys) == 0 {
		key, path, err := liveKey(*dataDir)
		if err != nil {
			return err
		}
		cfg.StreamKeys["live"] = key
		cfg.Logger.Info("stream key of \"live\" (none given with -stream-keys)", "file", path)
	}

	if err := serveDebug(*debugAddr, cfg.Logger); err != nil {
		return err
	}
	srv, err := server.New(cfg, frontend.FS)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return srv.Serve(ctx, ln)
}

// applyEnv sets each flag from its SHOAL_ environment variable, if set.
func applyEnv(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "SHOAL_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	})
	return err
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
