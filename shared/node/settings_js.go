//go:build js && wasm

package node

import "github.com/pion/webrtc/v4"

// newAPI builds the pion API. In the browser, candidate gathering is the
// browser's business, so loopbackOnly is ignored.
func newAPI(bool) *webrtc.API { return webrtc.NewAPI() }
