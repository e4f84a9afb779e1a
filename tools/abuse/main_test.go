package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine outlives the tests: the attacks
// and the soak start goroutines, so a test that comes to run one must end
// them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
