//go:build e2e

package e2e

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine outlives the tests: a native
// viewer or attacker (pion), a wait on the server, encoder or browser
// harness, a scenario's timer.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
