// Package loopback confines pion WebRTC to the loopback interface, for the
// tests, tools and benchmarks that run in a network namespace where only lo
// exists (tools/scripts/netns.sh):
//
//	var se webrtc.SettingEngine
//	if loopbackOnly {
//		loopback.Only(&se)
//	}
//	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
//
// It is native only: in the browser (js/wasm) the RTCPeerConnection gathers
// its own candidates, and this package is empty.
package loopback
