package server_test

import (
	"context"
	"encoding/hex"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"

	"github.com/shoal-live/shoal/signal/server"
)

// TestPublicStatusHidesBroadcasterAddress reproduces the leak of issue
// #12: a broadcaster whose connection breaks (here reset mid-stream) left
// the raw network error, with its IP address and port, in the public
// /api/streams/<name>/status. The public status must now say only that
// the connection dropped.
func TestPublicStatusHidesBroadcasterAddress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ln := listen(t)
	rtmpAddr := ln.Addr().String()
	ln.Close()
	base := startServer(t, ctx, server.Config{
		RTMPAddr:   rtmpAddr,
		StreamKeys: map[string]string{"cam": "key-cam-0123456789"},
	})

	waitFor(t, 5*time.Second, "the RTMP listener", func() bool {
		c, err := net.Dial("tcp", rtmpAddr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	u, _ := url.Parse("rtmp://" + rtmpAddr + "/live#key-cam-0123456789")
	c := &gortmplib.Client{URL: u, Publish: true}
	if err := c.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sps, _ := hex.DecodeString("67640020accac05005bb0169e0000003002000000c9c4c000432380008647c12401cb1c31380")
	pps, _ := hex.DecodeString("68b5df20")
	track := &gortmplib.Track{Codec: &codecs.H264{SPS: sps, PPS: pps}}
	w := &gortmplib.Writer{Conn: c, Tracks: []*gortmplib.Track{track}}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	for i := range 90 {
		ts := time.Duration(i) * time.Second / 30
		if err := w.WriteH264(track, ts, ts, [][]byte{{0x65, 0x88, 0, 0}}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "the ingest to connect", func() bool {
		st, _ := status(t, base, "cam")
		return st.Ingest.Connected
	})
	local := c.NetConn().LocalAddr().(*net.TCPAddr)
	c.NetConn().(*net.TCPConn).SetLinger(0) // close with a reset: the server's read fails
	c.Close()

	var st streamStatus
	waitFor(t, 5*time.Second, "the ingest to fail", func() bool {
		st, _ = status(t, base, "cam")
		return !st.Ingest.Connected && st.Ingest.Error != ""
	})
	port := ":" + strconv.Itoa(local.Port)
	if strings.Contains(st.Ingest.Error, local.IP.String()) || strings.Contains(st.Ingest.Error, port) {
		t.Errorf("public status shows the broadcaster's address: %q", st.Ingest.Error)
	}
	if st.Ingest.Error != "the broadcaster's connection dropped" {
		t.Errorf("public ingest error %q, want the generic one", st.Ingest.Error)
	}
}
