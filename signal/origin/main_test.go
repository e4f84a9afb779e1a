package origin

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a goroutine outlives the tests: an origin's node, ticker or pion.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
