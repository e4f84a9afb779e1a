package whip_test

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/shoal-live/shoal/signal/ingest/whip"
)

// printer is a Sink that refuses every publisher: the stream is taken.
type printer struct{}

func (printer) Begin(stream string) (whip.Session, error) {
	return nil, fmt.Errorf("%w: %s is live from RTMP", whip.ErrBusy, stream)
}

// Mount the Handler and see how it answers an OBS "WHIP" service whose
// Server is http://host/api/whip/live and whose Bearer Token is the stream
// key.
func ExampleNew() {
	keys := map[string]string{"live": "s3cret"}
	h, err := whip.New(whip.Config{
		Authorize: func(stream, key string) bool {
			k, ok := keys[stream]
			return ok && subtle.ConstantTimeCompare([]byte(k), []byte(key)) == 1
		},
		Sink: printer{},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Close()
	mux := http.NewServeMux()
	mux.Handle("/api/whip/", h) // chi: r.Handle("/api/whip/*", h)

	for _, key := range []string{"wrong", "s3cret"} {
		req := httptest.NewRequest(http.MethodPost, "/api/whip/live", strings.NewReader(offer))
		req.Header.Set("Content-Type", "application/sdp")
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"), strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 401 Bearer realm="whip" missing or unknown stream key (Authorization: Bearer <key>)
	// 409  whip: stream already has a publisher: live is live from RTMP
}

// offer is the gist of what OBS sends: H.264 in packetization mode 1 and Opus.
const offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\na=rtpmap:96 H264/90000\r\n" +
	"a=fmtp:96 profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1\r\n"
