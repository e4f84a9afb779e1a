package node

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine outlives the tests: a node's engine
// loop, a link, its signaling writer or pion. Under js/wasm (the browser
// tests run this package in node.js) the runtime keeps one goroutine of its
// own, runtime.handleEvent, waiting for JavaScript callbacks: not a leak.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("runtime.handleEvent"))
}
