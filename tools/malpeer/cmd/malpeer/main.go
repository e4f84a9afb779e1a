// Command malpeer joins a Shoal stream's swarm as a hostile peer (see
// package malpeer) and prints what it did and saw as JSON when it stops.
//
//	go run ./tools/malpeer/cmd/malpeer -base http://127.0.0.1:8080 -stream demo -duration 30s
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/shoal-live/shoal/tools/malpeer"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:8080", "server URL")
	stream := flag.String("stream", "demo", "stream to attack")
	dur := flag.Duration("duration", 30*time.Second, "how long to stay")
	loop := flag.Bool("loopback", false, "ICE on loopback only")
	flag.Parse()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, *dur)
	defer cancel()
	st, err := malpeer.Run(ctx, malpeer.Config{Base: *base, Stream: *stream, LoopbackOnly: *loop,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(st)
}
