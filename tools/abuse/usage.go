package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// usage is what the report prints of the server's resources at one moment.
type usage struct {
	RSSMiB     float64 `json:"rss_mib"`      // VmRSS from /proc/<pid>/status
	FDs        int     `json:"fds"`          // entries in /proc/<pid>/fd
	HeapMiB    float64 `json:"heap_mib"`     // Go HeapAlloc, from /debug/vars
	HeapSysMiB float64 `json:"heap_sys_mib"` // Go HeapSys: what the heap holds from the OS
	// HeapLiveMiB is the heap the server's last collection found in use
	// (its "heap_live"), without the garbage HeapAlloc counts; GCs counts
	// the collections so far (memstats NumGC).
	HeapLiveMiB float64 `json:"heap_live_mib"`
	GCs         uint32  `json:"gcs"`
	Goroutines  int     `json:"goroutines"`
}

func (u usage) String() string {
	return fmt.Sprintf("rss %.1f MiB, heap %.1f MiB (sys %.1f), %d fds, %d goroutines",
		u.RSSMiB, u.HeapMiB, u.HeapSysMiB, u.FDs, u.Goroutines)
}

// measure reads the server's memory and descriptors: RSS and descriptors
// from /proc, the Go heap and goroutines from its /debug/vars (expvar's
// memstats). What cannot be read stays zero.
func measure(ctx context.Context, tg Target) usage {
	var u usage
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tg.PID)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
				u.RSSMiB = float64(kb) / 1024
			}
		}
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", tg.PID)); err == nil {
		u.FDs = len(ents)
	}
	if tg.Debug == "" {
		return u
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+tg.Debug+"/debug/vars", nil)
	if err != nil {
		return u
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return u
	}
	defer resp.Body.Close()
	var v struct {
		Goroutines int    `json:"goroutines"`
		HeapLive   uint64 `json:"heap_live"`
		MemStats   struct {
			HeapAlloc uint64
			HeapSys   uint64
			NumGC     uint32
		} `json:"memstats"`
	}
	if json.NewDecoder(resp.Body).Decode(&v) == nil {
		u.HeapMiB = float64(v.MemStats.HeapAlloc) / (1 << 20)
		u.HeapSysMiB = float64(v.MemStats.HeapSys) / (1 << 20)
		u.Goroutines = v.Goroutines
		u.HeapLiveMiB = float64(v.HeapLive) / (1 << 20)
		u.GCs = v.MemStats.NumGC
	}
	return u
}
