package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/shoal-live/shoal/signal/server"
)

// TestStreamListOnlyRealStreams: joining any valid name makes a swarm,
// and the home page used to list every swarm as live. Only streams with a
// publisher, the demo, and streams configured or stored are listed, and
// only those with a publisher as live.
func TestStreamListOnlyRealStreams(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	base := startServer(t, ctx, server.Config{DemoStream: "demo", DemoSource: "synthetic", DemoInterval: 50 * time.Millisecond,
		DemoChunkSize: 512, LoopbackOnly: true, StreamKeys: map[string]string{"configured": "0123456789abcdef"}})
	for _, name := range []string{"made-up", "configured", "demo"} {
		c := wsDial(t, ctx, base)
		defer c.CloseNow()
		if err := c.Write(ctx, websocket.MessageText, []byte(`{"v":1,"type":"join","stream":"`+name+`"}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := readMsg(t, ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	waitChunks(t, base, "demo", 2) // the demo publishes
	_, body := get(t, base+"/api/streams", nil)
	var got []struct {
		Name    string `json:"name"`
		Viewers int    `json:"viewers"`
		Live    bool   `json:"live"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	want := map[string]bool{"configured": false, "demo": true} // name -> live
	if len(got) != len(want) {
		t.Fatalf("listed %+v, want exactly %v", got, want)
	}
	for _, st := range got {
		live, ok := want[st.Name]
		if !ok || st.Live != live || st.Viewers != 1 {
			t.Errorf("listed %+v, want live %v and 1 viewer", st, live)
		}
	}
}
