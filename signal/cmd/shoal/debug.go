package main

import (
	"expvar"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"runtime/metrics"
)

// serveDebug serves the process's internals on addr when it is set:
// /debug/vars (expvar: "goroutines", "heap_live", "memstats", the command line) and
// /debug/pprof. They reveal internals, so the listener is separate from the
// public one and off by default; a non-loopback address gets a warning.
func serveDebug(addr string, log *slog.Logger) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("-debug-addr: %w", err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		log.Warn("debug endpoint is reachable from other hosts; prefer a loopback address", "addr", ln.Addr().String())
	}
	expvar.Publish("goroutines", expvar.Func(func() any { return runtime.NumGoroutine() }))
	// heap_live is the heap the last collection found in use: what the
	// process holds, without the garbage memstats' HeapAlloc counts too
	// (which swings by the live heap's size between two collections).
	expvar.Publish("heap_live", expvar.Func(func() any {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(s)
		if s[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[0].Value.Uint64()
	}))
	mux := http.NewServeMux()
	mux.Handle("/debug/vars", expvar.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Info("debug endpoint", "url", "http://"+ln.Addr().String()+"/debug/vars")
	go func() {
		if err := http.Serve(ln, mux); err != nil {
			log.Error("debug endpoint stopped", "err", err)
		}
	}()
	return nil
}
