// Command whipclient publishes an H.264 file and an Ogg Opus file to a WHIP
// endpoint, paced in real time, the way OBS's "WHIP" service does:
//
//	whipclient -url http://localhost:8080/api/whip/live -token KEY \
//		-video in.h264 -audio in.ogg [-loop] [-duration 30s]
//
// Make the inputs with ffmpeg (no B-frames; one Opus packet per Ogg page):
//
//	ffmpeg -f lavfi -i testsrc=size=640x360:rate=30 -t 6 -c:v libx264 -pix_fmt yuv420p \
//		-profile:v baseline -g 30 -bf 0 -bsf:v h264_mp4toannexb -f h264 in.h264
//	ffmpeg -f lavfi -i sine=frequency=440:sample_rate=48000 -t 6 -c:a libopus -b:a 64k \
//		-page_duration 20000 in.ogg
//
// It DELETEs the session on exit: at the end of the files, after -duration,
// or on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/pion/webrtc/v4"

	"github.com/shoal-live/shoal/tools/whipclient/whip"
)

func main() {
	var (
		o    whip.Options
		stun string
	)
	flag.StringVar(&o.URL, "url", "", "WHIP endpoint, e.g. http://localhost:8080/api/whip/live")
	flag.StringVar(&o.Token, "token", "", "bearer token (the stream key)")
	flag.StringVar(&o.Video, "video", "", "Annex-B H.264 file")
	flag.StringVar(&o.Audio, "audio", "", "Ogg Opus file, one packet per page")
	flag.Float64Var(&o.FPS, "fps", whip.DefaultFPS, "video frame rate")
	flag.BoolVar(&o.Loop, "loop", false, "restart the files at their end")
	flag.DurationVar(&o.Duration, "duration", 0, "stop after this long (0: at the end of the files)")
	flag.StringVar(&stun, "stun", "", "STUN server URL, e.g. stun:stun.l.google.com:19302")
	flag.BoolVar(&o.LoopbackOnly, "loopback", false, "gather only loopback candidates (same-host tests)")
	flag.Parse()
	if o.URL == "" || o.Video == "" && o.Audio == "" {
		fmt.Fprintln(os.Stderr, "whipclient: -url and -video or -audio are required")
		flag.Usage()
		os.Exit(2)
	}
	if stun != "" {
		o.ICEServers = []webrtc.ICEServer{{URLs: []string{stun}}}
	}
	o.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := whip.Publish(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "whipclient:", err)
		os.Exit(1)
	}
}
