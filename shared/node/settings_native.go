//go:build !js

package node

import (
	"github.com/pion/webrtc/v4"

	"github.com/shoal-live/shoal/shared/loopback"
)

// newAPI builds the pion API. With loopbackOnly the peer gathers only
// loopback host candidates: tests run in a network namespace with only lo.
func newAPI(loopbackOnly bool) *webrtc.API {
	var se webrtc.SettingEngine
	if loopbackOnly {
		loopback.Only(&se)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
}
