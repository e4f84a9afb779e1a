//go:build !js

package signaling

import (
	"testing"

	"github.com/shoal-live/shoal/shared/jsbridge/nodetest"
)

// TestDecodeInBrowser runs the decoding tables under Node.js, where Decode
// parses with JSON.parse (decode_js.go) instead of encoding/json: the
// browser peer must accept and refuse exactly what the server does.
func TestDecodeInBrowser(t *testing.T) {
	nodetest.Run(t, "^(TestRoundTrip|TestDecodeRejects|TestDecodeTypes)$")
}
