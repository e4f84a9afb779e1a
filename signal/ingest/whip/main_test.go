package whip_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine outlives the tests: a session, a reader, the test client or pion.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
