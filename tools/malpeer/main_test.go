package malpeer_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine outlives the tests: an attacker's peer connections or pion.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
