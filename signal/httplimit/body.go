package httplimit

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/shoal-live/shoal/signal/jsonhttp"
)

// MaxRequestBody bounds every request body; handlers set tighter limits
// of their own (a WHIP offer, a login form).
const MaxRequestBody = 1 << 20

// Body refuses a request whose declared body is over MaxRequestBody with
// 413, and caps the rest, so that no handler reads an unbounded body; a
// body must arrive within BodyReadTimeout.
func Body(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > MaxRequestBody {
				log.Warn("request body too large", "method", r.Method, "path", r.URL.Path,
					"bytes", r.ContentLength, "limit", MaxRequestBody, "ip", middleware.GetClientIP(r.Context()))
				jsonhttp.Error(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body too large: limit %d bytes", MaxRequestBody))
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				// A body must arrive within BodyReadTimeout: a client that
				// sends headers and then stalls holds a connection no longer.
				// Once it is read the deadline goes, or net/http's background
				// read would hit it and cancel a handler that takes its time
				// (a WHIP answer waits for ICE gathering).
				rc := http.NewResponseController(w)
				rc.SetReadDeadline(time.Now().Add(BodyReadTimeout))
				r.Body = &deadlineBody{ReadCloser: http.MaxBytesReader(w, r.Body, MaxRequestBody), rc: rc}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// deadlineBody lifts the connection's read deadline when its body has
// been read to the end.
type deadlineBody struct {
	io.ReadCloser
	rc *http.ResponseController
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
