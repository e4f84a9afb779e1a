package rtmp_test

import (
	"context"
	"fmt"

	"github.com/shoal-live/shoal/signal/cmaf"
	"github.com/shoal-live/shoal/signal/ingest/rtmp"
)

// Example_serve shows the wiring; the Sink here only logs.
func Example_serve() {
	srv, err := rtmp.New(rtmp.Config{
		Authorize: func(key string) (string, bool) { return "demo", key == "secret" },
		Sink:      printSink{},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a real server runs until shutdown
	fmt.Println(srv.ListenAndServe(ctx, "127.0.0.1:0"))
	// Output: <nil>
}

type printSink struct{}

func (printSink) Start(stream string, info rtmp.Info) (rtmp.Session, error) {
	fmt.Println("start", stream, info.MIME)
	return printSession{}, nil
}

type printSession struct{}

func (printSession) Init(mime string, init []byte) {}
func (printSession) Fragment(f cmaf.Fragment)      { fmt.Println("fragment", f.Seq, len(f.Data)) }
func (printSession) End(err error)                 { fmt.Println("end", err) }
