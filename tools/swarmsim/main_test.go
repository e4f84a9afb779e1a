package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-live/shoal/tools/swarmsim/sim"
)

// TestSettingsOrder: preset, then -config, then the flags given.
func TestSettingsOrder(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "scenario.json")
	if err := os.WriteFile(cfg, []byte(`{"peers": 123, "duration": "90s", "nat": 0.2, "churn": 0.5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want func(sim.Scenario) bool
	}{
		{"defaults", nil, func(sc sim.Scenario) bool {
			return sc.Peers == 30 && sc.Duration.D() == time.Minute && sc.NAT == 0.1 && sc.Rate == 2_000_000
		}},
		{"preset", []string{"-scenario", "tight"}, func(sc sim.Scenario) bool {
			return sc.Peers == 10_000 && sc.UploadMix.Mean() > 1.19 && sc.UploadMix.Mean() < 1.21
		}},
		{"config over preset", []string{"-scenario", "steady", "-config", cfg}, func(sc sim.Scenario) bool {
			return sc.Peers == 123 && sc.Duration.D() == 90*time.Second && sc.NAT == 0.2 && sc.Churn == 0.5 && sc.Name == "steady"
		}},
		{"flags over config", []string{"-config", cfg, "-peers", "7", "-nat", "0", "-rate", "3M", "-upload-mix", "0.5:1,0.5:3"}, func(sc sim.Scenario) bool {
			return sc.Peers == 7 && sc.NAT == 0 && sc.Churn == 0.5 && sc.Rate == 3_000_000 && sc.UploadMix.Mean() == 2
		}},
		{"isolated viewers and keyframes", []string{"-scenario", "isolated", "-isolated", "0.5", "-keyframe-interval", "8s"}, func(sc sim.Scenario) bool {
			return sc.Name == "isolated" && sc.Isolated == 0.5 && sc.KeyframeInterval.D() == 8*time.Second
		}},
		{"keyframes default to a second", nil, func(sc sim.Scenario) bool { return sc.KeyframeInterval.D() == time.Second && sc.Isolated == 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, _, err := parseArgs(tc.args, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.want(sc) {
				t.Errorf("got %+v", sc)
			}
		})
	}
	if _, _, err := parseArgs([]string{"-scenario", "nope"}, &bytes.Buffer{}); err == nil {
		t.Error("unknown preset accepted")
	}
}

// TestCommand runs the command end to end on a tiny swarm and checks its
// three outputs.
func TestCommand(t *testing.T) {
	dir := t.TempDir()
	js, png := filepath.Join(dir, "out.json"), filepath.Join(dir, "out.png")
	var out, errs bytes.Buffer
	if err := run([]string{"-peers", "10", "-duration", "15s", "-json", js, "-png", png, "-quiet"}, &out, &errs); err != nil {
		t.Fatal(err, errs.String())
	}
	if !strings.Contains(out.String(), "latency behind live") {
		t.Errorf("table missing:\n%s", out.String())
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Viewers struct{ Joined int } `json:"viewers"`
		Perf    struct{ WallSeconds float64 }
	}
	if err := json.Unmarshal(b, &o); err != nil || o.Viewers.Joined != 10 || o.Perf.WallSeconds <= 0 {
		t.Errorf("json: %v %+v", err, o)
	}
	if p, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(p, []byte("\x89PNG")) {
		t.Errorf("png: %v", err)
	}
}
