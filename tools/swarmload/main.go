// Command swarmload is the real-network check of the swarm: it starts the
// Shoal server in-process on loopback (synthetic demo source, or a real
// RTMP ingest fed by ffmpeg with -ffmpeg), then N native pion peers driven
// by shared/node (the browser's driver and engine) that join over a ramp,
// optionally churn, and trade the stream over real WebRTC data channels
// for -duration. It prints the simulator's report (tools/swarmsim): offload,
// latency behind live at delivery and at playback of a model player,
// startup, rebuffering, control overhead, duplicates, upload per viewer,
// as a table and, with -json, a file.
//
//	tools/scripts/netns.sh go run ./tools/swarmload -peers 30 -duration 60s
//	go tool task swarmload -- -peers 30 -duration 60s -json artifacts/swarmload.json
//
// Run it inside tools/scripts/netns.sh (the task does): the control
// overhead is read off the loopback interface's counters, which are only
// this run's in a namespace of its own.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/shoal-live/shoal/tools/swarmsim/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "swarmload:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		cfg      Config
		rate     = sim.Bitrate(2_000_000)
		jsonPath string
		logLevel string
		quiet    bool
		commit   string
	)
	fs := flag.NewFlagSet("swarmload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.Peers, "peers", 30, "initial viewers (native pion peers)")
	fs.DurationVar(&cfg.Duration, "duration", time.Minute, "measured time, from the first viewer's start")
	fs.DurationVar(&cfg.Ramp, "ramp", 0, "the initial viewers join evenly over this long (default min(1m, duration/5), as swarmsim)")
	fs.Float64Var(&cfg.Churn, "churn", 0, "fraction of -peers that leave at random times after the ramp, each replaced at once")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed for churn times and the engines' random choices (the network is not deterministic)")
	fs.Var(&rate, "rate", "stream bitrate (2M, 800k): the synthetic chunk size, or ffmpeg's bitrate")
	fs.DurationVar(&cfg.ChunkInterval, "chunk-interval", 125*time.Millisecond, "one chunk per interval (synthetic) / CMAF fragment length (ffmpeg)")
	fs.BoolVar(&cfg.FFmpeg, "ffmpeg", false, "publish a test pattern with ffmpeg over RTMP instead of the synthetic source")
	fs.StringVar(&cfg.FFmpegPath, "ffmpeg-path", "ffmpeg", "the ffmpeg binary")
	fs.IntVar(&cfg.StartupChunks, "startup-chunks", 3, "chunks the model player holds before it starts (as swarmsim)")
	fs.IntVar(&cfg.Neighbours, "neighbours", 0, "tracker: neighbours per viewer (server default 8)")
	fs.IntVar(&cfg.OriginLinks, "origin-links", 0, "tracker: viewers linked to the origin (server default 16)")
	fs.Float64Var(&cfg.OriginCopies, "origin-copies", 0, "origin: copies of the stream it pushes (server default)")
	fs.Float64Var(&cfg.Upload, "upload", 0, "the uplink each viewer's engine is told it has, multiple of the rate (default: shared/node's, as browsers)")
	fs.StringVar(&jsonPath, "json", "", "write the report as JSON to this file")
	fs.StringVar(&logLevel, "log-level", "error", "log level of the server and the peers (debug, info, warn, error)")
	fs.BoolVar(&quiet, "quiet", false, "no progress line on stderr")
	fs.StringVar(&commit, "commit", "", "the commit under test, for the report (default: the build's VCS revision)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if rate <= 0 {
		return fmt.Errorf("-rate must be above 0, got %v", rate)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	cfg.Rate = int64(rate)
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if !quiet {
		cfg.Progress = stderr
	}

	rep, err := Run(ctx, cfg)
	if err != nil {
		return err
	}
	if commit != "" {
		rep.EngineCommit = commit
	}
	writeTable(stdout, rep)
	if jsonPath != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fmt.Errorf("json: %w", err)
		}
		if err := os.WriteFile(jsonPath, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("json: %w", err)
		}
	}
	return nil
}
