package server_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine outlives the tests: a server's listener, origin, chat hub or ingest, a signaling session, or pion.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
