package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSwarmload runs the tool end to end on a small swarm: the real
// server, six native pion peers, eight seconds. It asserts properties
// that hold on any machine unless the swarm is broken — every viewer got
// chunks, peers carried part of the stream, nothing undecodable or
// unverified was delivered — and no timings.
func TestSwarmload(t *testing.T) {
	if testing.Short() {
		t.Skip("runs WebRTC for several seconds")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	jsonPath := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"-peers", "6", "-duration", "8s", "-ramp", "2s", "-rate", "1M",
		"-json", jsonPath, "-quiet", "-log-level", "warn"}, &stdout, &stderr)
	t.Logf("report:\n%s", stdout.String())
	if stderr.Len() > 0 {
		t.Logf("stderr:\n%s", stderr.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report JSON: %v", err)
	}
	if r.Viewers.Joined != 6 || r.Viewers.NoChunks != 0 || r.Viewers.Errors != 0 {
		t.Errorf("viewers %+v: want 6 joined, every one with chunks, no errors", r.Viewers)
	}
	if r.Offload <= 0 || r.Payload.FromPeers <= 0 {
		t.Errorf("offload %.3f (%d bytes from peers): the viewers traded nothing", r.Offload, r.Payload.FromPeers)
	}
	if r.Engine.BadMessages != 0 || r.Engine.DeliveredBad != 0 {
		t.Errorf("%d undecodable messages, %d unverified chunks delivered between honest peers", r.Engine.BadMessages, r.Engine.DeliveredBad)
	}
	if r.DeliveryLatencyMs.N == 0 {
		t.Errorf("no delivery latency recorded")
	}
	if !strings.Contains(stdout.String(), "offload") {
		t.Errorf("the table has no offload row")
	}
}

// TestRateFlag: -rate takes the simulator's bitrate syntax, and a stream
// needs a rate.
func TestRateFlag(t *testing.T) {
	for _, in := range []string{"", "x", "-1M", "0"} {
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), []string{"-rate", in}, &stdout, &stderr); err == nil {
			t.Errorf("-rate %q: accepted", in)
		}
	}
}
