package rtmp_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine outlives the tests: a connection or gortmplib goroutine of the server.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
