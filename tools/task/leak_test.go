package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine outlives the tests: main forwards
// signals to go-task from a goroutine of its own, which a test that comes
// to run it must end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
