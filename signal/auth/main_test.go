package auth_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine outlives the tests: a database left open (database/sql keeps a goroutine per open DB) or a login still hashing.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
