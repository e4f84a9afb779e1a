// Command swarmsim runs Shoal's swarm engine and tracker in a
// discrete-event simulation of thousands of viewers and reports latency,
// startup, rebuffering, offload and overhead (package sim says what is
// modelled).
//
//	go run ./tools/swarmsim -scenario steady -json steady.json -png steady.png
//	go run ./tools/swarmsim -peers 30 -duration 60s
//	go run ./tools/swarmsim -config scenario.json -seed 7
//
// Settings apply in order: the -scenario preset (or the defaults), then
// the -config file (JSON, the same names as the flags), then the flags
// given on the command line.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/shoal-live/shoal/tools/swarmsim/sim"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "swarmsim:", err)
		}
		os.Exit(2)
	}
}

// output is the JSON file: the report plus how the run went on this
// machine (which the report itself leaves out to stay reproducible).
type output struct {
	*sim.Report
	Perf perf `json:"perf"`
}

type perf struct {
	WallSeconds   float64 `json:"wallSeconds"`
	EventsPerSec  float64 `json:"eventsPerSec"`
	PeakHeapBytes uint64  `json:"peakHeapBytes"`
	GoVersion     string  `json:"goVersion"`
}

func run(args []string, stdout, stderr io.Writer) error {
	sc, files, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	if files.cpuprofile != "" {
		f, err := os.Create(files.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// The engines allocate per event; the heap is mostly long-lived
	// engine state, so collecting less often costs memory, not time.
	debug.SetGCPercent(400)

	opt := sim.Options{MaxWall: files.maxWall}
	if !files.quiet {
		opt.Progress = stderr
	}
	start := time.Now()
	rep, err := sim.Run(sc, opt)
	if err != nil {
		return err
	}
	wall := time.Since(start)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p := perf{WallSeconds: wall.Seconds(), EventsPerSec: float64(rep.Events) / wall.Seconds(),
		PeakHeapBytes: ms.HeapSys, GoVersion: runtime.Version()}

	writeTable(stdout, rep, p)
	if files.json != "" {
		b, err := json.MarshalIndent(output{rep, p}, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(files.json, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if files.png != "" {
		if err := writePNG(files.png, rep); err != nil {
			return fmt.Errorf("png: %w", err)
		}
	}
	if files.memprofile != "" {
		f, err := os.Create(files.memprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.WriteHeapProfile(f)
	}
	return nil
}

type outFiles struct {
	json, png, cpuprofile, memprofile string
	quiet                             bool
	maxWall                           time.Duration
}

// parseArgs builds the scenario: preset or defaults, then -config, then
// the flags that were given.
func parseArgs(args []string, stderr io.Writer) (sim.Scenario, outFiles, error) {
	var (
		files    outFiles
		preset   string
		config   string
		v        sim.Scenario // flag values; only the ones set are applied
		duration = sim.Duration(time.Minute)
		rate     = sim.Bitrate(2_000_000)
		ramp     sim.Duration
		flashAt  sim.Duration
		flashWin = sim.Duration(30 * time.Second)
		mix      = sim.DefaultMix()
		httpRate sim.Bitrate
		lossMode = "delay"
		keyIvl   = sim.Duration(time.Second)
	)
	fs := flag.NewFlagSet("swarmsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&preset, "scenario", "", "preset: steady, tight, flash, huge or isolated")
	fs.StringVar(&config, "config", "", "scenario JSON file (same names as the flags)")
	fs.IntVar(&v.Peers, "peers", 30, "initial viewers")
	fs.Var(&duration, "duration", "simulated time")
	fs.Uint64Var(&v.Seed, "seed", 1, "random seed")
	fs.Var(&rate, "rate", "stream bitrate (2M, 800k)")
	fs.Var(&ramp, "ramp", "the initial viewers join over this long (default min(1m, duration/5))")
	fs.Float64Var(&v.Churn, "churn", 0, "fraction of viewers that leave and are replaced over the run")
	fs.IntVar(&v.Flash, "flash", 0, "flash crowd: viewers joining within -flash-window")
	fs.Var(&flashAt, "flash-at", "when the flash crowd starts")
	fs.Var(&flashWin, "flash-window", "how long the flash crowd takes to arrive")
	fs.Var(&mix, "upload-mix", "upload classes share:multiple-of-rate,… (default 0.1:0.5,0.4:1.5,0.3:3,0.2:6)")
	fs.Float64Var(&v.DownloadMult, "download", 10, "viewer download, multiple of the rate")
	fs.Float64Var(&v.OriginCopies, "origin-copies", 4, "origin upload, multiple of the rate")
	fs.Var(&httpRate, "origin-http", "origin HTTP fallback capacity (0 = unlimited)")
	fs.Float64Var(&v.NAT, "nat", 0.1, "share of viewer pairs that cannot connect")
	fs.Float64Var(&v.Isolated, "isolated", 0, "share of viewers that no WebRTC link reaches (UDP blocked): they play from HTTP")
	fs.Var(&keyIvl, "keyframe-interval", "time between keyframes")
	fs.Float64Var(&v.Loss, "loss", 0, "packet loss probability")
	fs.StringVar(&lossMode, "loss-mode", "delay", "delay (retransmit after an RTT) or drop (lose the message)")
	fs.IntVar(&v.StartupChunks, "startup-chunks", 3, "chunks held before playback starts")
	fs.StringVar(&files.json, "json", "", "write the report as JSON to this file")
	fs.StringVar(&files.png, "png", "", "write latency CDF and offload over time to this PNG")
	fs.StringVar(&files.cpuprofile, "cpuprofile", "", "write a CPU profile")
	fs.StringVar(&files.memprofile, "memprofile", "", "write a heap profile at the end")
	fs.BoolVar(&files.quiet, "quiet", false, "no progress line on stderr")
	fs.DurationVar(&files.maxWall, "max-wall", 0, "stop after this much wall time and report the simulated time reached (not reproducible)")
	if err := fs.Parse(args); err != nil {
		return sim.Scenario{}, files, err
	}
	if fs.NArg() > 0 {
		return sim.Scenario{}, files, fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	sc := sim.Scenario{Seed: 1, Peers: 30, Duration: sim.Duration(time.Minute), NAT: 0.1}
	if preset != "" {
		var err error
		if sc, err = sim.Preset(preset); err != nil {
			return sc, files, err
		}
	}
	if config != "" {
		b, err := os.ReadFile(config)
		if err != nil {
			return sc, files, err
		}
		if err := json.Unmarshal(b, &sc); err != nil {
			return sc, files, fmt.Errorf("%s: %w", config, err)
		}
	}
	var bad error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "peers":
			sc.Peers = v.Peers
		case "duration":
			sc.Duration = duration
		case "seed":
			sc.Seed = v.Seed
		case "rate":
			sc.Rate = rate
		case "ramp":
			sc.Ramp = ramp
		case "churn":
			sc.Churn = v.Churn
		case "flash":
			sc.Flash = v.Flash
		case "flash-at":
			sc.FlashAt = flashAt
		case "flash-window":
			sc.FlashWindow = flashWin
		case "upload-mix":
			sc.UploadMix = mix
		case "download":
			sc.DownloadMult = v.DownloadMult
		case "origin-copies":
			sc.OriginCopies = v.OriginCopies
		case "origin-http":
			sc.OriginHTTP = httpRate
		case "nat":
			sc.NAT = v.NAT
		case "isolated":
			sc.Isolated = v.Isolated
		case "keyframe-interval":
			sc.KeyframeInterval = keyIvl
		case "loss":
			sc.Loss = v.Loss
		case "loss-mode":
			sc.LossMode = lossMode
		case "startup-chunks":
			sc.StartupChunks = v.StartupChunks
		}
	})
	sc, err := sc.WithDefaults()
	if err != nil {
		bad = err
	}
	return sc, files, bad
}
