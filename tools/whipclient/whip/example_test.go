package whip_test

import (
	"context"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/shoal-live/shoal/tools/whipclient/whip"
)

// Publish two files in a loop for 30 s, or until interrupted, then DELETE
// the session.
func ExamplePublish() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := whip.Publish(ctx, whip.Options{
		URL:      "http://localhost:8080/api/whip/live",
		Token:    "stream key",
		Video:    "in.h264",
		Audio:    "in.ogg",
		Loop:     true,
		Duration: 30 * time.Second,
	})
	if err != nil {
		log.Print(err)
	}
}
