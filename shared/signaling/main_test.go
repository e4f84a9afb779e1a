package signaling

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine outlives the tests: the test
// WebSocket server's handlers, a Conn's reader or writer, a pipe. Under
// js/wasm (the browser tests run this package in Node.js) the runtime keeps
// one goroutine of its own, runtime.handleEvent, waiting for JavaScript
// callbacks: not a leak.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("runtime.handleEvent"))
}
