package chat

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine outlives the tests: the hub's Run, or a database left open.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
