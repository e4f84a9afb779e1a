// Package signaling defines the messages peers and the Shoal server
// exchange over a WebSocket to find each other: joining a stream's swarm,
// being introduced to neighbours, relaying WebRTC offers, answers and ICE
// candidates, and hearing that a neighbour left.
//
// Messages are JSON objects with a protocol version "v" and a "type". Decode
// bounds the size, checks the version and validates every field, so a
// server can hand it bytes from anyone:
//
//	m, err := signaling.Decode(data)
//	if err != nil {
//		// tell the sender: signaling.Errorf(signaling.CodeBadMessage, "%v", err)
//	}
//
// Conn carries messages over a WebSocket or an in-memory Pipe: a client
// dials with DialWebSocket (the browser's WebSocket under js/wasm), a server
// wraps a connection it accepted with WebSocket (not in the js/wasm build),
// and the server's own origin peer uses the pipe.
package signaling
